import FHIRCore
import Foundation
import Synchronization

/// Who is calling the token, introspection and revocation endpoints: client authentication and
/// SMART Backend Services assertions.
extension AuthorizationServer {
    // MARK: Client authentication

    /// Before a request with a client assertion: fetches the asserting client's `jwksUri` key
    /// set unless it is cached. Returns the error to answer with when it cannot be had.
    public func prepare(form: [(name: String, value: String)]) async -> OAuthError? {
        guard let assertion = form.last(where: { $0.name == "client_assertion" })?.value,
            case .success(let jws) = CompactJWS.parse(assertion), let iss = jws.claims["iss"]?.stringValue,
            let client = clients.client(iss), client.enabled, let url = client.jwksURI
        else { return nil }
        return await remoteKeys.refresh(url, now: wallClock()).map { .invalidClient($0) }
    }

    /// Who is calling: a `private_key_jwt` assertion, HTTP Basic, a secret in the form, or (public
    /// clients) just `client_id`, each only if the profile accepts the method.
    func authenticateClient(form: [(name: String, value: String)], authorization: String?, tokenURLs: [String]) -> Result<
        OAuthClient, OAuthError
    > {
        func value(_ name: String) -> String? { form.last { $0.name == name }?.value }
        if let assertion = value("client_assertion") {
            guard settings.clientAuthMethods.contains(.privateKeyJWT) else {
                return .failure(.invalidClient("private_key_jwt is not accepted here"))
            }
            guard value("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" else {
                return .failure(.invalidRequest("client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer"))
            }
            return verifyAssertion(assertion, formClient: value("client_id"), tokenURLs: tokenURLs)
        }
        if let authorization, authorization.lowercased().hasPrefix("basic ") {
            guard settings.clientAuthMethods.contains(.clientSecretBasic) else {
                return .failure(OAuthError("invalid_client", "client_secret_basic is not accepted here", status: 401))
            }
            guard let decoded = Data(base64Encoded: String(authorization.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
                let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
            else {
                return .failure(OAuthError("invalid_client", "the Basic credentials are not base64 of client_id:secret", status: 401))
            }
            let id = String(text[..<colon]).removingPercentEncoding ?? String(text[..<colon])
            let secret = String(text[text.index(after: colon)...]).removingPercentEncoding ?? String(text[text.index(after: colon)...])
            return checkSecret(id: id, secret: secret, status: 401)
        }
        if let secret = value("client_secret") {
            guard settings.clientAuthMethods.contains(.clientSecretPost) else {
                return .failure(.invalidClient("client_secret_post is not accepted here"))
            }
            return checkSecret(id: value("client_id") ?? "", secret: secret, status: 400)
        }
        guard let id = value("client_id") else {
            return .failure(
                OAuthError("invalid_client", "no client authentication (client_assertion, Basic, client_secret or client_id)", status: 401))
        }
        guard let client = clients.client(id), client.enabled else { return .failure(.invalidClient("unknown or disabled client \(id)")) }
        guard client.kind == .public else {
            return .failure(.invalidClient("client \(id) is confidential: authenticate with its secret or a signed assertion"))
        }
        return .success(client)
    }

    private func checkSecret(id: String, secret: String, status: Int) -> Result<OAuthClient, OAuthError> {
        guard let client = clients.client(id), client.enabled, client.kind == .confidentialSecret, let expected = client.secret,
            Array(expected.utf8) == Array(secret.utf8)
        else {
            return .failure(OAuthError("invalid_client", "client authentication failed for '\(id)'", status: status))
        }
        return .success(client)
    }

    /// SMART Backend Services assertion rules (hl7.org/fhir/smart-app-launch/client-confidential-asymmetric).
    func verifyAssertion(_ assertion: String, formClient: String?, tokenURLs: [String]) -> Result<OAuthClient, OAuthError> {
        let jws: CompactJWS
        switch CompactJWS.parse(assertion) {
        case .success(let parsed): jws = parsed
        case .failure(let error): return .failure(.invalidClient("client_assertion: \(error.description)"))
        }
        let claims = jws.claims
        guard let iss = claims["iss"]?.stringValue, let sub = claims["sub"]?.stringValue else {
            return .failure(.invalidClient("client_assertion needs iss and sub (both the client_id)"))
        }
        guard iss == sub else { return .failure(.invalidClient("client_assertion iss '\(iss)' differs from sub '\(sub)'")) }
        if let formClient, formClient != iss {
            return .failure(.invalidClient("client_id '\(formClient)' differs from the assertion's iss '\(iss)'"))
        }
        guard let client = clients.client(iss) else { return .failure(.invalidClient("unknown client '\(iss)'")) }
        guard client.enabled else { return .failure(.invalidClient("client '\(iss)' is disabled")) }
        if settings.allowListedJwksOnly, client.jwksURI == nil || !client.jwksAllowListed {
            return .failure(
                .invalidClient(
                    client.jwksURI == nil
                        ? "client '\(iss)' has no JWKS URL; backend services here need one the vendor allow-listed"
                        : "the JWKS URL of client '\(iss)' is not allow-listed"))
        }
        let keys = client.keys + (client.jwksURI.flatMap { remoteKeys.keys($0, now: wallClock()) } ?? [])
        guard !keys.isEmpty else { return .failure(.invalidClient("client '\(iss)' has no registered keys")) }
        var algorithms = settings.assertionAlgorithms
        if settings.ecdsaRequiresJwksUri && client.jwksURI == nil { algorithms.subtract([.es256, .es384]) }
        if case .failure(let error) = jws.verify(keys: keys, allowed: algorithms) {
            return .failure(.invalidClient("client_assertion: \(error.description)"))
        }
        let audiences = claims["aud"].map { $0.asList.compactMap(\.stringValue) } ?? []
        guard audiences.contains(where: tokenURLs.contains) else {
            return .failure(
                .invalidClient(
                    "client_assertion aud must be this token endpoint, \(tokenURLs.first ?? "") (got \(audiences.joined(separator: ", ")))")
            )
        }
        let now = wallClock() / 1000
        guard let exp = Self.numericDate(claims["exp"]) else {
            return .failure(.invalidClient("client_assertion needs a numeric exp (seconds since 1970, before year 10000)"))
        }
        guard exp > now else { return .failure(.invalidClient("client_assertion expired \(now - exp) s ago")) }
        guard exp <= now + Int64(settings.assertionMaxSeconds) + 5 else {
            return .failure(
                .invalidClient("client_assertion exp is \(exp - now) s ahead; at most \(settings.assertionMaxSeconds) s is accepted"))
        }
        if let nbf = claims["nbf"] {
            guard let notBefore = Self.numericDate(nbf) else {
                return .failure(.invalidClient("client_assertion nbf must be seconds since 1970, before year 10000"))
            }
            if notBefore > now + 5 { return .failure(.invalidClient("client_assertion nbf is in the future")) }
        }
        if let iat = claims["iat"], Self.numericDate(iat) == nil {
            return .failure(.invalidClient("client_assertion iat must be seconds since 1970, before year 10000"))
        }
        guard let jti = claims["jti"]?.stringValue, !jti.isEmpty else {
            return .failure(.invalidClient("client_assertion needs a jti string"))
        }
        if let limit = settings.maxJTILength, jti.count > limit {
            return .failure(.invalidClient("client_assertion jti is \(jti.count) characters; at most \(limit) are accepted"))
        }
        let key = iss + " " + jti
        let replayed = state.usedAssertions.withLock { used -> Bool in
            used = used.filter { $0.value >= now }
            if used[key] != nil { return true }
            used[key] = exp
            return false
        }
        guard !replayed else { return .failure(.invalidClient("client_assertion jti '\(jti)' was already used")) }
        return .success(client)
    }

    /// The latest NumericDate accepted: 9999-12-31T23:59:59Z.
    static let latestNumericDate: Int64 = 253_402_300_799

    /// A JWT NumericDate claim (RFC 7519 §2: seconds since the epoch, possibly fractional) as
    /// whole seconds, or nil when it is not a number from 0 to `latestNumericDate` (so `1e300`
    /// or `-9223372036854775` are refused instead of overflowing a conversion).
    static func numericDate(_ value: JSON?) -> Int64? {
        guard let text = value?.numberText, let number = Double(text), number.isFinite, number >= 0,
            number <= Double(latestNumericDate)
        else { return nil }
        return Int64(number)
    }
}
