import Crypto
import FHIRCore
import Foundation
import _CryptoExtras

/// Base64url without padding (RFC 7515 §2).
public enum Base64URL {
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        guard text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), text.allSatisfy(\.isASCII) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map(Array.init)
    }
}

/// The JWS algorithms the sandbox verifies (RFC 7518). `none` and the HMAC family are never
/// accepted for client assertions: they are parsed only to be refused by name.
public enum JWSAlgorithm: String, Sendable, CaseIterable {
    case rs256 = "RS256", rs384 = "RS384", rs512 = "RS512", es256 = "ES256", es384 = "ES384"
}

/// A public key from a JWK (RFC 7517/7518): RSA (`n`, `e`) or EC P-256/P-384 (`x`, `y`).
public enum VerificationKey: Sendable {
    case rsa(_RSA.Signing.PublicKey)
    case p256(P256.Signing.PublicKey)
    case p384(P384.Signing.PublicKey)

    /// Whether the key's type fits the algorithm (RS* with RSA, ES256 with P-256, ES384 with P-384).
    func fits(_ algorithm: JWSAlgorithm) -> Bool {
        switch (self, algorithm) {
        case (.rsa, .rs256), (.rsa, .rs384), (.rsa, .rs512), (.p256, .es256), (.p384, .es384): return true
        default: return false
        }
    }

    /// Verifies a JWS signature with swift-crypto (PKCS#1 v1.5 for RS*, raw r||s ECDSA for ES*).
    func verify(_ signature: [UInt8], over input: [UInt8], algorithm: JWSAlgorithm) -> Bool {
        switch (self, algorithm) {
        case (.rsa(let key), .rs256):
            return key.isValidSignature(.init(rawRepresentation: signature), for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5)
        case (.rsa(let key), .rs384):
            return key.isValidSignature(.init(rawRepresentation: signature), for: SHA384.hash(data: input), padding: .insecurePKCS1v1_5)
        case (.rsa(let key), .rs512):
            return key.isValidSignature(.init(rawRepresentation: signature), for: SHA512.hash(data: input), padding: .insecurePKCS1v1_5)
        case (.p256(let key), .es256):
            guard let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(ecdsa, for: SHA256.hash(data: input))
        case (.p384(let key), .es384):
            guard let ecdsa = try? P384.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(ecdsa, for: SHA384.hash(data: input))
        default:
            return false
        }
    }
}

/// One JWK of a client's key set.
public struct JWK: Sendable {
    public let kid: String?
    public let alg: String?
    public let key: VerificationKey

    /// Reads a JWK object; nil with a reason when it is not a usable public signing key.
    public static func parse(_ object: JSONObject) -> Result<JWK, JOSEError> {
        let kid = object["kid"]?.stringValue
        let alg = object["alg"]?.stringValue
        func field(_ name: String) -> [UInt8]? { object[name]?.stringValue.flatMap(Base64URL.decode) }
        switch object["kty"]?.stringValue {
        case "RSA":
            guard let n = field("n"), let e = field("e") else { return .failure(.init("an RSA JWK needs n and e")) }
            guard let key = try? _RSA.Signing.PublicKey(n: n, e: e) else {
                return .failure(.init("RSA key \(kid ?? "") is not a valid public key (2048 bits or more)"))
            }
            return .success(JWK(kid: kid, alg: alg, key: .rsa(key)))
        case "EC":
            guard let x = field("x"), let y = field("y") else { return .failure(.init("an EC JWK needs x and y")) }
            switch object["crv"]?.stringValue {
            case "P-256":
                guard let key = try? P256.Signing.PublicKey(rawRepresentation: x + y) else { return .failure(.init("bad P-256 point")) }
                return .success(JWK(kid: kid, alg: alg, key: .p256(key)))
            case "P-384":
                guard let key = try? P384.Signing.PublicKey(rawRepresentation: x + y) else { return .failure(.init("bad P-384 point")) }
                return .success(JWK(kid: kid, alg: alg, key: .p384(key)))
            default:
                return .failure(.init("EC curve \(object["crv"]?.stringValue ?? "(none)") is not supported (P-256, P-384)"))
            }
        default:
            return .failure(.init("JWK kty \(object["kty"]?.stringValue ?? "(none)") is not supported (RSA, EC)"))
        }
    }

    /// Every usable key of a JWK Set (`{"keys": [...]}`); keys that cannot be used are skipped.
    public static func set(_ jwks: JSONObject) -> [JWK] {
        (jwks["keys"]?.arrayValue ?? []).compactMap { $0.objectValue.flatMap { try? parse($0).get() } }
    }
}

public struct JOSEError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A compact JWS (`header.payload.signature`) split and decoded, not yet verified.
public struct CompactJWS: Sendable {
    public let header: JSONObject
    public let claims: JSONObject
    public let signingInput: [UInt8]
    public let signature: [UInt8]

    public static func parse(_ token: String) -> Result<CompactJWS, JOSEError> {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .failure(.init("not a compact JWS (three base64url parts separated by dots)")) }
        guard let headerBytes = Base64URL.decode(parts[0]), let header = (try? JSONParser.parse(headerBytes))?.objectValue else {
            return .failure(.init("the JWS header is not base64url JSON"))
        }
        guard let claimBytes = Base64URL.decode(parts[1]), let claims = (try? JSONParser.parse(claimBytes))?.objectValue else {
            return .failure(.init("the JWT claims are not base64url JSON"))
        }
        guard let signature = Base64URL.decode(parts[2]) else { return .failure(.init("the JWS signature is not base64url")) }
        return .success(
            CompactJWS(
                header: header, claims: claims, signingInput: Array(parts[0].utf8) + [UInt8(ascii: ".")] + Array(parts[1].utf8),
                signature: signature))
    }

    /// Verifies the signature with the key whose `kid` matches the header's, for an allowed algorithm.
    public func verify(keys: [JWK], allowed: Set<JWSAlgorithm>) -> Result<JWSAlgorithm, JOSEError> {
        let name = header["alg"]?.stringValue ?? ""
        guard let algorithm = JWSAlgorithm(rawValue: name) else {
            return .failure(.init("alg '\(name)' is not accepted (\(allowed.map(\.rawValue).sorted().joined(separator: ", ")))"))
        }
        guard allowed.contains(algorithm) else {
            return .failure(.init("alg \(name) is not accepted here (\(allowed.map(\.rawValue).sorted().joined(separator: ", ")))"))
        }
        guard let kid = header["kid"]?.stringValue else { return .failure(.init("the JWS header has no kid")) }
        let candidates = keys.filter { $0.kid == kid }
        guard !candidates.isEmpty else { return .failure(.init("kid '\(kid)' is not among the client's registered keys")) }
        guard let key = candidates.first(where: { $0.key.fits(algorithm) && ($0.alg == nil || $0.alg == name) }) else {
            return .failure(.init("key '\(kid)' cannot verify \(name)"))
        }
        guard key.key.verify(signature, over: signingInput, algorithm: algorithm) else {
            return .failure(.init("the signature does not verify with key '\(kid)'"))
        }
        return .success(algorithm)
    }
}

/// The sandbox's own ES256 signing key: signs access tokens, published as a JWK Set.
public struct TokenSigner: Sendable {
    public static let kid = "sandbox-es256"
    let key: P256.Signing.PrivateKey

    public init(pem: String) throws(JOSEError) {
        do {
            key = try P256.Signing.PrivateKey(pemRepresentation: pem)
        } catch {
            throw JOSEError("the token-signing key is not a PEM EC P-256 private key")
        }
    }

    /// A throwaway key, for seeds without one.
    public init() { key = P256.Signing.PrivateKey() }

    public func sign(_ claims: JSONObject) -> String {
        let header = JSON.object(JSONObject(["alg": .string("ES256"), "typ": .string("JWT"), "kid": .string(Self.kid)]))
        let input = Base64URL.encode(header.bytes) + "." + Base64URL.encode(JSON.object(claims).bytes)
        let signature = (try? key.signature(for: SHA256.hash(data: Array(input.utf8))).rawRepresentation) ?? Data()
        return input + "." + Base64URL.encode(signature)
    }

    public var publicJWK: JSONObject {
        let raw = Array(key.publicKey.rawRepresentation)
        return JSONObject([
            "kty": .string("EC"), "crv": .string("P-256"), "kid": .string(Self.kid), "use": .string("sig"), "alg": .string("ES256"),
            "x": .string(Base64URL.encode(raw[0..<32])), "y": .string(Base64URL.encode(raw[32..<64])),
        ])
    }

    public var verificationKeys: [JWK] { [JWK(kid: Self.kid, alg: "ES256", key: .p256(key.publicKey))] }
}

/// WebSub-style message signing (`X-Hub-Signature: sha256=<hex>`): HMAC-SHA256 of the body
/// with the subscriber's secret, in lowercase hex.
public enum MessageSignature {
    public static func sha256Hex(secret: String, body: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
        return mac.map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }
}
