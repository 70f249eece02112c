import FHIRCore

/// How a profile's authorization server words what it answers, where vendors differ from the
/// RFCs: the members of an error besides `error`, and the granted `scope` in token responses.
/// A profile names its dialect (`auth.errorStyle`, `auth.scopeResponse`); the vendor layer
/// builds it. The default is RFC 6749 and SMART.
public struct OAuthDialect: Sendable {
    /// Where an error is reported: the token endpoint's JSON body, or the query of the
    /// redirect back from the authorize endpoint.
    public enum Endpoint: String, Sendable {
        case token, authorize
    }

    /// What an error carries besides `error` (and `state` on a redirect): RFC 6749's
    /// `error_description` by default. `client` is the client the request named (or `unknown`).
    public var errorDetail: @Sendable (_ error: OAuthError, _ endpoint: Endpoint, _ client: String) -> (name: String, value: JSON)?
    /// The granted scopes as written in a token response (SMART: as granted, space-separated).
    public var scopeText: @Sendable (_ granted: [String]) -> String
    /// The error the vendor answers in place of the server's (another code or status for the
    /// same refusal); the same error by default.
    public var restate: @Sendable (_ error: OAuthError) -> OAuthError

    public init(
        errorDetail: @escaping @Sendable (OAuthError, Endpoint, String) -> (name: String, value: JSON)? = { error, _, _ in
            ("error_description", .string(error.description))
        },
        scopeText: @escaping @Sendable ([String]) -> String = { $0.joined(separator: " ") },
        restate: @escaping @Sendable (OAuthError) -> OAuthError = { $0 }
    ) {
        self.errorDetail = errorDetail
        self.scopeText = scopeText
        self.restate = restate
    }

    /// RFC 6749 errors, SMART scopes.
    public static let standard = OAuthDialect()
}
