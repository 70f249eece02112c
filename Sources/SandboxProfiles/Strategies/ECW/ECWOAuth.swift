import FHIRCore
import SandboxAuth

/// eClinicalWorks OAuth errors (vendor-quirks §4.1 [EC-ERR]): RFC 6749 bodies, with eCW's status
/// mapping — `invalid_client` 401; `unsupported_grant_type`, `invalid_grant` and
/// `invalid_request` 400 — and `access_denied` answered **500** (sic), which the sandbox gives a
/// token request none of whose scopes the client may have (the one 5xx it sends on purpose: a
/// declared deviation).
enum ECWOAuth {
    static let dialect = OAuthDialect(
        restate: { error in
            if error.error == "invalid_scope", error.description.hasPrefix("none of the requested scopes") {
                return OAuthError("access_denied", "the client may not have any of the requested scopes", status: 500)
            }
            switch error.error {
            case "invalid_client": return OAuthError("invalid_client", error.description, status: 401)
            case "unsupported_grant_type", "invalid_grant", "invalid_request":
                return OAuthError(error.error, error.description, status: 400)
            default: return error
            }
        })
}
