import FHIRCore
import SandboxAuth

/// Oracle Health (Cerner) OAuth errors (vendor-quirks §2.2): no `error_description`; the error is
/// named by an `error_uri` on both the token endpoint and the authorize redirect.
enum CernerOAuth {
    static func dialect(tenant: String, random: RandomSource) -> OAuthDialect {
        OAuthDialect(errorDetail: { error, endpoint, client in
            ("error_uri", .string(errorURI(error.error, endpoint: endpoint, client: client, tenant: tenant, random: random)))
        })
    }

    /// The `error_uri` for an OAuth error at `endpoint`: a URN naming the error
    /// (`access_denied` at authorize is `denied-by-server`; the others are the error with '-'
    /// for '_': ASSUMPTION §2.2), an instance id, the client and the tenant.
    static func errorURI(_ error: String, endpoint: OAuthDialect.Endpoint, client: String, tenant: String, random: RandomSource) -> String {
        let name = endpoint == .authorize && error == "access_denied" ? "denied-by-server" : error.replacing("_", with: "-")
        let urn = "urn:cerner:error:authorization-server:oauth2:\(endpoint.rawValue):\(name)"
        return "https://authorization.cerner.com/errors/\(urn.replacing(":", with: "%3A"))/instances/\(random.uuid())?"
            + QueryString.encode([("client", client), ("tenant", tenant)])
    }
}
