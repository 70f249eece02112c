import FHIRCore
import SandboxAuth

/// athenahealth OAuth wording (vendor-quirks §3.2, §3.6): token errors are
/// `{"detailedmessage": …, "error": …}` like the proprietary API's, and a token request none of
/// whose scopes the client may have is `401 access_denied` "Policy evaluation failed…" (observed),
/// not RFC 6749's `invalid_scope`. The authorize redirect keeps RFC 6749's `error_description`.
enum AthenaOAuth {
    static let policyFailure = "Policy evaluation failed for this request, please check the policy configurations."

    static let dialect = OAuthDialect(
        errorDetail: { error, endpoint, _ in
            (endpoint == .token ? "detailedmessage" : "error_description", .string(error.description))
        },
        restate: { error in
            // Every requested scope refused: the authorization server's policy says no.
            guard error.error == "invalid_scope", error.description.hasPrefix("none of the requested scopes") else { return error }
            return OAuthError("access_denied", policyFailure, status: 401)
        })
}
