/// A profile's authorization rules (the `auth:` block of a profile file), as data.
public struct AuthSettings: Sendable, Equatable {
    /// `anonymous`: tokens are not needed and not checked; `optional`: requests without a token
    /// are served, requests with one are held to its scopes; `required`: every FHIR call but
    /// `metadata` and discovery needs a valid token.
    public enum Mode: String, Sendable, CaseIterable {
        case anonymous, optional, required
    }

    public enum ClientAuthMethod: String, Sendable, CaseIterable {
        case privateKeyJWT = "private_key_jwt", clientSecretBasic = "client_secret_basic", clientSecretPost = "client_secret_post"
    }

    /// `jwt`: ES256-signed JWTs (verifiable offline, what `fhir-sandbox token` prints);
    /// `opaque`: random strings only this server process knows.
    public enum TokenFormat: String, Sendable, CaseIterable {
        case jwt, opaque
    }

    public var mode: Mode = .optional
    public var tokenFormat: TokenFormat = .jwt
    /// Where the OAuth endpoints live: `{path}/token`, `/authorize`, `/introspect`, `/revoke`, `/jwks`.
    public var path = "/fhir/auth"
    public var tokenMinutes = 60
    public var codeSeconds = 120
    public var refreshDays = 30
    public var rotateRefreshTokens = true
    public var clientAuthMethods: Set<ClientAuthMethod> = Set(ClientAuthMethod.allCases)
    public var assertionAlgorithms: Set<JWSAlgorithm> = Set(JWSAlgorithm.allCases)
    /// Longest an assertion may live (`exp` ahead of now), in seconds.
    public var assertionMaxSeconds = 300
    public var scopeSyntax: ScopeSyntax = .both
    public var pkcePlain = false
    /// `token_type` exactly as the vendor writes it (`Bearer` or `bearer`).
    public var tokenType = "Bearer"

    public init() {}

    public var tokenPath: String { path + "/token" }
    public var authorizePath: String { path + "/authorize" }
    public var introspectPath: String { path + "/introspect" }
    public var revokePath: String { path + "/revoke" }
    public var jwksPath: String { path + "/jwks" }
}
