import FHIRCore
import Foundation
import Synchronization

/// One profile's SMART on FHIR authorization server, without HTTP: the server module turns
/// requests into calls here. Tokens are ES256 JWTs signed with the seed's key; their `iat` and
/// `exp` come from the sandbox clock. Client assertions are checked against real time (clients
/// sign with their own clocks), access tokens against the sandbox clock.
public final class AuthorizationServer: Sendable {
    public let profile: String
    public let settings: AuthSettings
    /// How errors and granted scopes are worded (the profile's `errorStyle` and `scopeResponse`).
    public let dialect: OAuthDialect
    public let clients: ClientRegistry
    public let signer: TokenSigner
    let clock: SandboxClock
    public let random: RandomSource
    let wallClock: @Sendable () -> Int64
    let patients: @Sendable () -> [(id: String, name: String)]
    let remoteKeys: RemoteKeys
    /// The patient id as the profile shows it (token responses name the vendor id; tokens
    /// themselves carry the stored id their scopes are enforced with).
    let shownPatient: @Sendable (String) -> String
    /// What this server has issued and seen (the tenant's: a second sandbox of the profile has its own).
    public let state: AuthState

    public struct VerifiedToken: Sendable {
        let access: Access
        let jti: String
        let expires: Int64
        let claims: JSONObject
    }

    public init(
        profile: String, settings: AuthSettings, clients: ClientRegistry, signer: TokenSigner, clock: SandboxClock, random: RandomSource,
        wallClock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) },
        patients: @escaping @Sendable () -> [(id: String, name: String)] = { [] },
        remoteKeys: RemoteKeys = RemoteKeys { _ in throw JOSEError("this server fetches no jwksUri") },
        shownPatient: @escaping @Sendable (String) -> String = { $0 }, dialect: OAuthDialect = .standard, state: AuthState = AuthState()
    ) {
        self.state = state
        self.shownPatient = shownPatient
        self.dialect = dialect
        self.remoteKeys = remoteKeys
        self.profile = profile
        self.settings = settings
        self.clients = clients
        self.signer = signer
        self.clock = clock
        self.random = random
        self.wallClock = wallClock
        self.patients = patients
    }

    /// Forgets issued codes, refresh tokens and used assertions, and fetched key sets (admin
    /// reset); revocations are kept.
    public func reset() {
        state.reset()
        forgetFetchedKeys()
    }

    /// Forgets fetched client key sets (the tenant's `AuthState` is reset with the tenant).
    public func forgetFetchedKeys() { remoteKeys.removeAll() }

    // MARK: Tokens

    /// A signed access token for `client` (also what `fhir-sandbox token` prints).
    public func accessToken(client: OAuthClient, scopes: [String], patient: String?, issuer: String, audience: String) -> (
        token: String, expiresIn: Int
    ) {
        let now = clock.now() / 1000
        let lifetime = client.tokenMinutes.map { $0 * 60 } ?? settings.tokenSeconds
        var claims = JSONObject()
        claims["iss"] = .string(issuer)
        claims["sub"] = .string(client.id)
        claims["aud"] = .string(audience)
        claims["iat"] = .int(Int(now))
        claims["exp"] = .int(Int(now) + lifetime)
        claims["jti"] = .string(random.uuid())
        claims["client_id"] = .string(client.id)
        claims["scope"] = .string(scopes.joined(separator: " "))
        claims["profile"] = .string(profile)
        if let patient { claims["patient"] = .string(patient) }
        guard settings.tokenFormat == .opaque else { return (signer.sign(claims), lifetime) }
        let token = random.token(24)
        let entry = VerifiedToken(
            access: Access(grants: Scopes.grants(scopes), patient: patient, client: client.id, scopes: scopes),
            jti: claims["jti"]!.stringValue!,
            expires: now + Int64(lifetime), claims: claims)
        state.opaque.withLock { tokens in
            tokens = tokens.filter { $0.value.expires > now }
            tokens[token] = entry
        }
        return (token, lifetime)
    }

    /// Validates a bearer token for a FHIR call on a base whose absolute URLs are `audiences`
    /// (the token's `aud` must name one: a token minted for another base or sandbox is refused).
    public func authenticate(bearer token: String, audiences: [String]) -> Result<Access, OAuthError> {
        switch verify(token, audiences: audiences) {
        case .success(let token): return .success(token.access)
        case .failure(let error): return .failure(error)
        }
    }

    /// Makes a valid access token expire now (test control's `token-expired`): from now on it
    /// is refused exactly as an expired token is. Returns false when `token` is not one of
    /// this server's valid tokens.
    @discardableResult
    public func expire(bearer token: String) -> Bool {
        guard case .success(let checked) = verify(token, audiences: nil) else { return false }
        let now = clock.now() / 1000
        state.expired.withLock { $0[checked.jti] = now }
        state.anyExpired.store(true, ordering: .releasing)
        return true
    }

    /// `audiences` nil: any audience (introspection and revocation look at a token, not use it).
    func verify(_ token: String, audiences: [String]?) -> Result<VerifiedToken, OAuthError> {
        let now = clock.now() / 1000
        let checked: VerifiedToken
        if let cached = state.verified.value(for: token) ?? state.opaque.withLock({ $0[token] }) {
            checked = cached
        } else {
            guard case .success(let jws) = CompactJWS.parse(token),
                case .success = jws.verify(keys: signer.verificationKeys, allowed: [.es256])
            else {
                return .failure(OAuthError("invalid_token", "the access token is malformed or its signature does not verify", status: 401))
            }
            let claims = jws.claims
            guard claims["profile"]?.stringValue == profile else {
                return .failure(OAuthError("invalid_token", "the access token was issued for another profile", status: 401))
            }
            guard let client = claims["client_id"]?.stringValue, let jti = claims["jti"]?.stringValue,
                let exp = Self.numericDate(claims["exp"])
            else {
                return .failure(
                    OAuthError("invalid_token", "the access token lacks client_id, jti or an exp within 1970-9999", status: 401))
            }
            let scopes = Scopes.split(claims["scope"]?.stringValue)
            checked = VerifiedToken(
                access: Access(grants: Scopes.grants(scopes), patient: claims["patient"]?.stringValue, client: client, scopes: scopes),
                jti: jti,
                expires: exp, claims: claims)
            state.verified.store(checked, for: token)
        }
        let expiredEarly = state.anyExpired.load(ordering: .acquiring) ? state.expired.withLock { $0[checked.jti] } : nil
        let expires = min(checked.expires, expiredEarly ?? .max)
        guard now < expires else {
            return .failure(OAuthError("invalid_token", "the access token expired at \(InstantFormat.iso(expires * 1000))", status: 401))
        }
        if let audiences {
            let named = checked.claims["aud"].map { $0.asList.compactMap(\.stringValue) } ?? []
            guard named.contains(where: audiences.contains) else {
                return .failure(
                    OAuthError(
                        "invalid_token",
                        "the access token's audience (\(named.joined(separator: ", "))) is not this FHIR base (\(audiences.first ?? ""))",
                        status: 401))
            }
        }
        guard state.revoked.withLock({ $0[checked.jti] }) == nil else {
            return .failure(OAuthError("invalid_token", "the access token was revoked", status: 401))
        }
        guard clients.client(checked.access.client)?.enabled == true else {
            let status = settings.disabledClient == .forbiddenEmpty ? 403 : 401
            return .failure(OAuthError("invalid_token", "the client \(checked.access.client) is disabled or unknown", status: status))
        }
        return .success(checked)
    }

    // MARK: Token endpoint

    /// `POST {auth}/token` with a form body. `tokenURL` is this endpoint's absolute URL as the
    /// caller reached it (the issuer); `tokenURLs` are the audiences a client assertion may name
    /// (this endpoint at the public URL or the bound address); `fhirBaseURL` is the audience of
    /// issued tokens.
    public func token(
        form: [(name: String, value: String)], authorization: String?, tokenURL: String, tokenURLs: [String], fhirBaseURL: String
    ) -> Result<JSONObject, OAuthError> {
        func value(_ name: String) -> String? { form.last { $0.name == name }?.value }
        let issuer = settings.issuerIsFHIRBase ? fhirBaseURL : settings.issuer ?? String(tokenURL.dropLast("/token".count))
        let grantType = value("grant_type") ?? ""
        let client: OAuthClient
        switch authenticateClient(form: form, authorization: authorization, tokenURLs: tokenURLs) {
        case .success(let found): client = found
        case .failure(let error): return .failure(error)
        }
        switch grantType {
        case "client_credentials":
            guard client.grants.contains(.clientCredentials), client.kind != .public else {
                return .failure(OAuthError("unauthorized_client", "client \(client.id) may not use client_credentials"))
            }
            let requested = value("scope").map(Scopes.split) ?? client.scopes
            let granted: [String]
            switch grant(requested, client: client) {
            case .success(let scopes): granted = scopes
            case .failure(let error): return .failure(error)
            }
            guard !Scopes.grants(granted).isEmpty else {
                return .failure(
                    OAuthError(
                        "invalid_scope", "none of the requested scopes is registered for \(client.id): \(requested.joined(separator: " "))")
                )
            }
            return .success(response(client: client, scopes: granted, patient: nil, refresh: false, issuer: issuer, audience: fhirBaseURL))
        case "authorization_code":
            guard client.grants.contains(.authorizationCode) else {
                return .failure(OAuthError("unauthorized_client", "client \(client.id) may not use authorization_code"))
            }
            guard let code = value("code") else { return .failure(.invalidRequest("code is required")) }
            switch state.codes.redeem(
                code, client: client.id, redirectURI: value("redirect_uri"), verifier: value("code_verifier"), now: clock.now())
            {
            case .failure(let error): return .failure(error)
            case .success(let grant):
                let refresh =
                    client.grants.contains(.refreshToken) && grant.scopes.contains { $0 == "offline_access" || $0 == "online_access" }
                return .success(
                    response(
                        client: client, scopes: grant.scopes, patient: grant.patient, refresh: refresh, issuer: issuer,
                        audience: fhirBaseURL))
            }
        case "refresh_token":
            guard client.grants.contains(.refreshToken) else {
                return .failure(OAuthError("unauthorized_client", "client \(client.id) may not use refresh_token"))
            }
            guard let token = value("refresh_token") else { return .failure(.invalidRequest("refresh_token is required")) }
            let now = clock.now()
            let grant: RefreshGrant? = state.refreshTokens.withLock { tokens in
                guard let grant = tokens[token] else { return nil }
                if settings.rotateRefreshTokens { tokens[token] = nil }
                return grant
            }
            guard let grant, grant.client == client.id else {
                return .failure(.invalidGrant("the refresh token is unknown, revoked, already rotated, or belongs to another client"))
            }
            guard now < grant.expires else { return .failure(.invalidGrant("the refresh token has expired")) }
            var scopes = grant.scopes
            if let narrower = value("scope").map(Scopes.split) {
                guard narrower.allSatisfy(grant.scopes.contains) else {
                    return .failure(OAuthError("invalid_scope", "a refresh may only narrow the original scopes"))
                }
                scopes = narrower
            }
            // Without rotation the response carries no refresh token: the client keeps its own.
            return .success(
                response(
                    client: client, scopes: scopes, patient: grant.patient, refresh: settings.rotateRefreshTokens, issuer: issuer,
                    audience: fhirBaseURL))
        case "":
            return .failure(.invalidRequest("grant_type is required"))
        default:
            return .failure(
                OAuthError(
                    "unsupported_grant_type",
                    "grant_type '\(grantType)' is not supported (client_credentials, authorization_code, refresh_token)"))
        }
    }

    private func response(client: OAuthClient, scopes: [String], patient: String?, refresh: Bool, issuer: String, audience: String)
        -> JSONObject
    {
        let (token, lifetime) = accessToken(client: client, scopes: scopes, patient: patient, issuer: issuer, audience: audience)
        var body = JSONObject()
        body["access_token"] = .string(token)
        body["token_type"] = .string(settings.tokenType)
        body["expires_in"] = .int(lifetime)
        body["scope"] = .string(dialect.scopeText(scopes))
        if let patient { body["patient"] = .string(shownPatient(patient)) }
        if refresh {
            let refreshToken = random.token() + random.token()
            let expires = clock.now() + Int64(settings.refreshDays) * 86_400_000
            let now = clock.now()
            state.refreshTokens.withLock { tokens in
                Expiring.prune(&tokens, now: now, expires: \.expires)
                tokens[refreshToken] = RefreshGrant(client: client.id, scopes: scopes, patient: patient, expires: expires)
            }
            body["refresh_token"] = .string(refreshToken)
        }
        return body
    }

    /// The scopes of `requested` granted to `client` under the profile's scope rules. A scope the
    /// profile cannot express — the other SMART syntax, or a wildcard (`system/*.read`,
    /// `system/Patient.*`) where it takes none — is refused with `invalid_scope`; a well-formed
    /// scope the client is not registered for is dropped (a narrower grant) or refused, as
    /// `unregisteredScopes` says.
    public func grant(_ requested: [String], client: OAuthClient) -> Result<[String], OAuthError> {
        let inexpressible = requested.filter { scope in
            guard let (grant, version) = Scopes.grant(scope) else { return false }
            return !settings.scopeSyntax.accepts(version)
                || (!settings.wildcardScopes && (grant.type == "*" || scope.split(separator: ".").last == "*"))
        }
        if !inexpressible.isEmpty {
            let syntax = settings.scopeSyntax == .both ? "SMART v1 or v2" : "SMART \(settings.scopeSyntax.rawValue)"
            let reason = syntax + (settings.wildcardScopes ? "" : " without wildcards")
            return .failure(
                OAuthError("invalid_scope", "scope not supported here (\(reason)): \(inexpressible.joined(separator: " "))"))
        }
        let (granted, dropped) = Scopes.narrow(
            requested, allowed: client.scopes, syntax: settings.scopeSyntax, services: settings.serviceScopes)
        if settings.unregisteredScopes == .refuse, !dropped.isEmpty {
            return .failure(OAuthError("invalid_scope", "scope not allowed here: \(dropped.joined(separator: " "))"))
        }
        return .success(granted)
    }

    // MARK: Introspection and revocation

    /// RFC 7662. The caller authenticates as a client or with a valid bearer token.
    public func introspect(form: [(name: String, value: String)], authorization: String?, tokenURLs: [String], audiences: [String])
        -> Result<JSONObject, OAuthError>
    {
        if case .failure(let error) = caller(form: form, authorization: authorization, tokenURLs: tokenURLs, audiences: audiences) {
            return .failure(error)
        }
        guard let token = form.last(where: { $0.name == "token" })?.value else { return .failure(.invalidRequest("token is required")) }
        guard case .success(let checked) = verify(token, audiences: nil) else { return .success(JSONObject(["active": .bool(false)])) }
        var body = JSONObject()
        body["active"] = .bool(true)
        for name in ["scope", "client_id", "sub", "iss", "aud", "exp", "iat"] { body[name] = checked.claims[name] }
        if let patient = checked.claims["patient"]?.stringValue { body["patient"] = .string(shownPatient(patient)) }
        body["token_type"] = .string(settings.tokenType)
        return .success(body)
    }

    /// RFC 7009: revokes an access token (by its jti) or a refresh token; unknown tokens are fine.
    /// Only the client a token was issued to may revoke it (RFC 7009 §2.1); a revocation
    /// outlives `/_admin/reset`, so a reset never brings a revoked token back.
    public func revoke(form: [(name: String, value: String)], authorization: String?, tokenURLs: [String], audiences: [String])
        -> Result<Void, OAuthError>
    {
        let caller: String
        switch self.caller(form: form, authorization: authorization, tokenURLs: tokenURLs, audiences: audiences) {
        case .success(let id): caller = id
        case .failure(let error): return .failure(error)
        }
        guard let token = form.last(where: { $0.name == "token" })?.value else { return .failure(.invalidRequest("token is required")) }
        let refused = OAuthError("unauthorized_client", "the token was not issued to client \(caller); only its own client may revoke it")
        let refresh: Result<Bool, OAuthError> = state.refreshTokens.withLock { tokens in
            guard let grant = tokens[token] else { return .success(false) }
            guard grant.client == caller else { return .failure(refused) }
            tokens[token] = nil
            return .success(true)
        }
        switch refresh {
        case .failure(let error): return .failure(error)
        case .success(true): return .success(())
        case .success(false): break
        }
        if case .success(let checked) = verify(token, audiences: nil) {
            guard checked.access.client == caller else { return .failure(refused) }
            let now = clock.now() / 1000
            state.revoked.withLock { table in
                Expiring.prune(&table, now: now) { $0 }
                table[checked.jti] = checked.expires
            }
        }
        return .success(())
    }

    /// The client calling introspection or revocation: by its credentials, or by a bearer token
    /// issued to it for this server.
    private func caller(form: [(name: String, value: String)], authorization: String?, tokenURLs: [String], audiences: [String])
        -> Result<String, OAuthError>
    {
        if let authorization, authorization.lowercased().hasPrefix("bearer ") {
            return authenticate(bearer: String(authorization.dropFirst(7)), audiences: audiences).map(\.client)
        }
        return authenticateClient(form: form, authorization: authorization, tokenURLs: tokenURLs).map(\.id)
    }
}
