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

    /// What happens to requested scopes the client is not registered for (or that use a
    /// syntax the profile does not accept): dropped from the grant, or the request refused.
    public enum UnregisteredScopes: String, Sendable, CaseIterable {
        case drop, refuse
    }

    public var mode: Mode = .optional
    public var tokenFormat: TokenFormat = .jwt
    /// How errors are worded besides `error`: a dialect name (`rfc6749`, or a vendor's).
    public var errorStyle = "rfc6749"
    /// How the granted `scope` is written in token responses: a dialect name (`smart`, or a vendor's).
    public var scopeResponse = "smart"
    public var unregisteredScopes: UnregisteredScopes = .drop
    /// Whether `*` may stand for every resource type in a scope.
    public var wildcardScopes = true
    /// Discovery's `scopes_supported` as the vendor lists it (`{type}` stands for each type the
    /// base serves); nil: derived from the scope syntax and `wildcardScopes`.
    public var advertisedScopes: [String]?
    /// Discovery `capabilities` the vendor lists besides the ones derived from these settings.
    public var extraCapabilities: [String] = []
    /// ES256/ES384 assertions only from clients registered with a `jwksUri`.
    public var ecdsaRequiresJwksUri = false
    /// Longest accepted assertion `jti`; nil: no limit.
    public var maxJTILength: Int?
    /// `error_description` of the 403 `WWW-Authenticate` challenge.
    public var forbiddenDescription = "The access token provided is valid, but is not authorized for this request"
    /// `auth.challengeRealm`: the `realm` of FHIR calls' `WWW-Authenticate: Bearer` challenges
    /// (nil: none, as vendors that document the header without one).
    public var challengeRealm: String? = "fhir-sandbox"
    /// How a FHIR call answers a token whose client was disabled after it was issued:
    /// `invalid-token` (401, as for any dead token) or `forbidden-empty` (403 with an empty
    /// body: a vendor's "client-level authorization failure").
    public enum DisabledClient: String, Sendable, CaseIterable {
        case invalidToken = "invalid-token"
        case forbiddenEmpty = "forbidden-empty"
    }

    public var disabledClient: DisabledClient = .invalidToken
    /// The tenant id a tenant-scoped vendor names (in error URIs and code systems).
    public var tenant = "sandbox"
    /// Where the OAuth endpoints live: `{path}/token`, `/authorize`, `/introspect`, `/revoke`, `/jwks`.
    public var path = "/fhir/auth"
    public var tokenSeconds = 3600
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
    public var revokePath: String { path + "/" + revokeName }
    public var jwksPath: String { path + "/" + jwksName }
    /// The last segment of the key-set URL under `path` (`jwks`; a vendor may say `keys`).
    public var jwksName = "jwks"
    /// The revocation URL under `path` (`revoke`; a vendor may say `token/revoke`).
    public var revokeName = "revoke"
    /// The `issuer` of discovery and of issued tokens (`iss`) when the vendor's authorization
    /// server names another host than its token endpoint's; nil: the endpoint's own base.
    public var issuer: String?
    /// Client assertions only from clients whose `jwksUri` the vendor allow-listed
    /// (`jwksAllowListed`); others are `invalid_client`.
    public var allowListedJwksOnly = false
    /// The issuer is the FHIR base itself (`issuer: fhir-base`: a vendor whose issuer is the tenant base).
    public var issuerIsFHIRBase = false
    /// Scopes besides SMART's that the vendor grants (a scope for its proprietary API): granted
    /// when the client is registered for them, like `openid`.
    public var serviceScopes: Set<String> = []
}
