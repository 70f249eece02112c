import Crypto
import FHIRCore
import Synchronization

/// An OAuth error response (RFC 6749 §5.2): `{"error": ..., "error_description": ...}`.
public struct OAuthError: Error, Sendable, Equatable {
    public let error: String
    public let description: String
    public let status: Int

    public init(_ error: String, _ description: String, status: Int = 400) {
        self.error = error
        self.description = description
        self.status = status
    }

    static func invalidRequest(_ description: String) -> OAuthError { OAuthError("invalid_request", description) }
    static func invalidClient(_ description: String) -> OAuthError { OAuthError("invalid_client", description) }
    static func invalidGrant(_ description: String) -> OAuthError { OAuthError("invalid_grant", description) }
}

/// What an authorization code stands for until it is redeemed.
public struct CodeGrant: Sendable, Equatable {
    public let client: String
    public let redirectURI: String
    public let scopes: [String]
    public let patient: String?
    public let challenge: String
    public let challengeMethod: String
    public let expires: Int64
}

/// Authorization codes: issued once, redeemed at most once, before they expire, by the client
/// they were issued to, with the same redirect URI and the PKCE verifier of the challenge.
public final class AuthorizationCodes: Sendable {
    private let codes = Mutex<[String: CodeGrant]>([:])

    public init() {}

    public func issue(_ grant: CodeGrant, code: String, now: Int64) {
        codes.withLock { codes in
            Expiring.prune(&codes, now: now, expires: \.expires)
            codes[code] = grant
        }
    }

    /// Redeems `code`. A code is spent by the first attempt, whether or not it succeeds.
    public func redeem(
        _ code: String, client: String, redirectURI: String?, verifier: String?, now: Int64
    ) -> Result<CodeGrant, OAuthError> {
        guard let grant = codes.withLock({ $0.removeValue(forKey: code) }) else {
            return .failure(.invalidGrant("the authorization code is unknown or was already used"))
        }
        guard now < grant.expires else { return .failure(.invalidGrant("the authorization code has expired")) }
        guard grant.client == client else { return .failure(.invalidGrant("the authorization code was issued to another client")) }
        guard redirectURI == grant.redirectURI else {
            return .failure(.invalidGrant("redirect_uri does not match the one the code was issued for"))
        }
        guard let verifier, !verifier.isEmpty else { return .failure(.invalidRequest("code_verifier is required (PKCE)")) }
        let expected = grant.challengeMethod == "plain" ? verifier : Base64URL.encode(SHA256.hash(data: Array(verifier.utf8)))
        guard expected == grant.challenge else {
            return .failure(.invalidGrant("code_verifier does not match the code_challenge (\(grant.challengeMethod))"))
        }
        return .success(grant)
    }

    public func removeAll() { codes.withLock { $0 = [:] } }
}

/// What a refresh token stands for.
public struct RefreshGrant: Sendable {
    public let client: String
    public let scopes: [String]
    public let patient: String?
    public let expires: Int64
}

/// Keeps the auth server's per-token tables bounded: entries past their expiry are dropped once a
/// table passes `sweepAt`, and beyond `limit` live entries the ones expiring first go (a flood of
/// authorize or revoke calls cannot grow memory without bound).
enum Expiring {
    static let sweepAt = 1024
    static let limit = 50_000

    static func prune<Value>(_ table: inout [String: Value], now: Int64, expires: (Value) -> Int64) {
        guard table.count >= sweepAt else { return }
        table = table.filter { expires($0.value) > now }
        guard table.count >= limit else { return }
        let keep = table.sorted { expires($0.value) > expires($1.value) }.prefix(limit - 1)
        table = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
    }
}

/// What one tenant's authorization server has issued and seen: authorization codes, refresh
/// tokens, used assertion ids, revocations, verified and opaque access tokens. Part of a
/// sandbox's state, apart from the profile's (shared) settings.
public final class AuthState: Sendable {
    let codes = AuthorizationCodes()
    let usedAssertions = Mutex<[String: Int64]>([:])
    let refreshTokens = Mutex<[String: RefreshGrant]>([:])
    /// Revoked access tokens: jti → when the token expires anyway (then it can be forgotten).
    let revoked = Mutex<[String: Int64]>([:])
    /// Access tokens made to expire early (test control's `token-expired`): jti → when, in
    /// seconds. Kept across resets, like revocations.
    let expired = Mutex<[String: Int64]>([:])
    /// Whether `expired` holds anything (read without the lock on every token check).
    let anyExpired = Atomic<Bool>(false)
    let verified = BoundedCache<AuthorizationServer.VerifiedToken>(capacity: 4096)
    /// Opaque access tokens (profiles with `tokenFormat: opaque`) and what they stand for.
    let opaque = Mutex<[String: AuthorizationServer.VerifiedToken]>([:])

    public init() {}

    /// Forgets codes, refresh tokens, used assertions and verified tokens. Revocations are
    /// kept: a reset must not make a revoked token valid again.
    public func reset() {
        codes.removeAll()
        usedAssertions.withLock { $0 = [:] }
        refreshTokens.withLock { $0 = [:] }
        verified.removeAll()
        opaque.withLock { $0 = [:] }
    }
}
