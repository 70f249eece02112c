import FHIRCore
import Synchronization

/// A registered OAuth client (seed `clients.yaml` or `POST /_admin/clients`).
public struct OAuthClient: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case `public`, confidentialSecret = "confidential-secret", confidentialAsymmetric = "confidential-asymmetric", backend
    }

    public enum Grant: String, Sendable, CaseIterable {
        case clientCredentials = "client_credentials", authorizationCode = "authorization_code", refreshToken = "refresh_token"
    }

    public var id: String
    public var kind: Kind
    public var secret: String?
    public var keys: [JWK]
    /// The JWK Set as registered (for the admin API's echo).
    public var jwks: JSONObject?
    /// Where the client publishes its JWK Set (fetched and cached; see RemoteKeys).
    public var jwksURI: String?
    public var redirectURIs: [String]
    public var scopes: [String]
    public var grants: Set<Grant>
    public var autoApprove: Bool
    public var launchPatient: String?
    public var tokenMinutes: Int?
    public var enabled: Bool
    /// The vendor approved this client's `jwksUri` (a profile with `auth.allowListedJwksOnly`
    /// takes assertions only from such clients).
    public var jwksAllowListed = false

    public init(
        id: String, kind: Kind, secret: String? = nil, jwks: JSONObject? = nil, jwksURI: String? = nil, redirectURIs: [String] = [],
        scopes: [String] = [],
        grants: Set<Grant> = [], autoApprove: Bool = false, launchPatient: String? = nil, tokenMinutes: Int? = nil, enabled: Bool = true
    ) {
        self.id = id
        self.kind = kind
        self.secret = secret
        self.jwks = jwks
        self.jwksURI = jwksURI
        self.keys = jwks.map(JWK.set) ?? []
        self.redirectURIs = redirectURIs
        self.scopes = scopes
        self.grants = grants
        self.autoApprove = autoApprove
        self.launchPatient = launchPatient
        self.tokenMinutes = tokenMinutes
        self.enabled = enabled
    }

    public static let keys: Set<String> = [
        "id", "type", "secret", "jwks", "jwksUri", "redirectUris", "scopes", "grantTypes", "autoApprove", "launchPatient", "tokenMinutes",
        "enabled", "jwksAllowListed",
    ]

    /// Checks a client's consistency; the message names the offending key.
    func problem() -> (key: String, message: String)? {
        if id.isEmpty || id.contains(where: { $0 == " " || $0 == ":" }) { return ("id", "client ids are non-empty, without spaces or ':'") }
        switch kind {
        case .confidentialSecret where (secret ?? "").isEmpty: return ("secret", "a confidential-secret client needs a secret")
        case .backend, .confidentialAsymmetric:
            if let jwksURI, !(jwksURI.hasPrefix("http://") || jwksURI.hasPrefix("https://")) {
                return ("jwksUri", "must be an http(s) URL")
            }
            if keys.isEmpty && jwksURI == nil {
                return ("jwks", "a \(kind.rawValue) client needs a JWK Set with at least one usable RSA or EC key, or a jwksUri")
            }
        default: break
        }
        if grants.contains(.authorizationCode) && redirectURIs.isEmpty {
            return ("redirectUris", "authorization_code needs at least one redirect URI")
        }
        if kind == .public && grants.contains(.clientCredentials) {
            return ("grantTypes", "a public client cannot use client_credentials")
        }
        return nil
    }

    /// The client as JSON (admin API), without its secret.
    public var json: JSONObject {
        var object = JSONObject()
        object["id"] = .string(id)
        object["type"] = .string(kind.rawValue)
        if let jwks { object["jwks"] = .object(jwks) }
        if let jwksURI { object["jwksUri"] = .string(jwksURI) }
        object["redirectUris"] = .array(redirectURIs.map { .string($0) })
        object["scopes"] = .array(scopes.map { .string($0) })
        object["grantTypes"] = .array(grants.map(\.rawValue).sorted().map { .string($0) })
        object["autoApprove"] = .bool(autoApprove)
        if let launchPatient { object["launchPatient"] = .string(launchPatient) }
        if let tokenMinutes { object["tokenMinutes"] = .int(tokenMinutes) }
        object["enabled"] = .bool(enabled)
        if jwksAllowListed { object["jwksAllowListed"] = .bool(true) }
        return object
    }

    /// The longest access-token lifetime a client may ask for: one year, in minutes.
    public static let maxTokenMinutes = 366 * 24 * 60

    /// A client from admin-API JSON (the same keys as `clients.yaml`).
    public static func from(json object: JSONObject) throws(JOSEError) -> OAuthClient {
        for member in object where !keys.contains(member.key) {
            throw JOSEError("unknown client key '\(member.key)' (known: \(keys.sorted().joined(separator: ", ")))")
        }
        func string(_ key: String) throws(JOSEError) -> String? {
            guard let value = object[key] else { return nil }
            guard let text = value.stringValue else { throw JOSEError("\(key) must be a string") }
            return text
        }
        func strings(_ key: String) throws(JOSEError) -> [String] {
            guard let value = object[key] else { return [] }
            guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                throw JOSEError("\(key) must be a list of strings")
            }
            return items.compactMap(\.stringValue)
        }
        guard let id = try string("id") else { throw JOSEError("id is required") }
        let typeText = try string("type") ?? ""
        guard let kind = Kind(rawValue: typeText) else {
            throw JOSEError("type must be one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var grants = Set<Grant>()
        for name in try strings("grantTypes") {
            guard let grant = Grant(rawValue: name) else { throw JOSEError("grantTypes: '\(name)' is not a supported grant type") }
            grants.insert(grant)
        }
        if object["jwks"] != nil && object["jwks"]?.objectValue == nil { throw JOSEError("jwks must be a JWK Set object") }
        var tokenMinutes: Int?
        if let value = object["tokenMinutes"] {
            guard let minutes = value.numberText.flatMap({ Int($0) }), (1...Self.maxTokenMinutes).contains(minutes) else {
                throw JOSEError("tokenMinutes: must be a whole number from 1 to \(Self.maxTokenMinutes) (one year)")
            }
            tokenMinutes = minutes
        }
        for key in ["autoApprove", "enabled", "jwksAllowListed"] where object[key] != nil && object[key]?.boolValue == nil {
            throw JOSEError("\(key) must be true or false")
        }
        var client = OAuthClient(
            id: id, kind: kind, secret: try string("secret"), jwks: object["jwks"]?.objectValue, jwksURI: try string("jwksUri"),
            redirectURIs: try strings("redirectUris"),
            scopes: try strings("scopes"), grants: grants, autoApprove: object["autoApprove"]?.boolValue ?? false,
            launchPatient: try string("launchPatient"), tokenMinutes: tokenMinutes, enabled: object["enabled"]?.boolValue ?? true)
        client.jwksAllowListed = object["jwksAllowListed"]?.boolValue ?? false
        if client.jwksAllowListed && client.jwksURI == nil {
            throw JOSEError("jwksAllowListed: only a client registered with a jwksUri can have it allow-listed")
        }
        if let problem = client.problem() { throw JOSEError("\(problem.key): \(problem.message)") }
        return client
    }
}

/// The clients every profile's authorization server knows: the seed's, plus run-time additions.
public final class ClientRegistry: Sendable {
    private let seeded: [OAuthClient]
    private let clients: Mutex<[String: OAuthClient]>

    public init(_ clients: [OAuthClient]) {
        seeded = clients
        self.clients = Mutex(Dictionary(clients.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }))
    }

    public func client(_ id: String) -> OAuthClient? { clients.withLock { $0[id] } }

    public var all: [OAuthClient] { clients.withLock { $0.values.sorted { $0.id < $1.id } } }

    /// Adds or replaces a client; returns whether it was new.
    @discardableResult public func register(_ client: OAuthClient) -> Bool {
        clients.withLock { $0.updateValue(client, forKey: client.id) == nil }
    }

    /// Back to the seed's clients (admin reset).
    public func reset() { clients.withLock { $0 = Dictionary(seeded.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }) } }
}
