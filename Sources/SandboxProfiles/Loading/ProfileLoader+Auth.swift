import FHIRCore
import FHIRInteractions
import FHIRSearch
import Foundation
import SandboxAuth
import YAMLReader

/// The `auth` section of a profile.
extension ProfileLoader {
    static func parseAuth(_ value: YAMLValue) throws(YAMLError) -> AuthSettings {
        // `auth: required` (DESIGN.md's shorthand) is `auth: {mode: required}`.
        if (try? value.entries()) == nil, let mode = try? Self.choice(value, AuthSettings.Mode.self) {
            var auth = AuthSettings()
            auth.mode = mode
            return auth
        }
        let map = try value.mapping(keys: [
            "mode", "path", "tokenFormat", "tokenSeconds", "errorStyle", "scopeResponse", "unregisteredScopes", "wildcardScopes",
            "ecdsaRequiresJwksUri",
            "maxJTILength", "forbiddenDescription", "challengeRealm", "tenant", "codeSeconds", "refreshDays", "rotateRefreshTokens",
            "clientAuthMethods",
            "assertionAlgorithms", "assertionMaxSeconds", "scopeSyntax", "pkcePlain", "tokenType", "disabledClient", "jwksName", "issuer",
            "serviceScopes", "revokeName", "allowListedJwksOnly", "advertisedScopes", "extraCapabilities",
        ])
        var auth = AuthSettings()
        func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) throws(YAMLError) -> T? where T.RawValue == String {
            try Self.choice(map[key], type)
        }
        func positive(_ key: String) throws(YAMLError) -> Int? {
            guard let item = map[key] else { return nil }
            let number = try item.int()
            // Lifetimes and lengths: at most ten years of seconds, so no clock arithmetic overflows.
            guard number >= 1 else { throw item.fail("must be at least 1") }
            guard number <= 315_360_000 else { throw item.fail("must be at most 315360000 (ten years of seconds)") }
            return number
        }
        auth.mode = try choice("mode", AuthSettings.Mode.self) ?? auth.mode
        auth.tokenFormat = try choice("tokenFormat", AuthSettings.TokenFormat.self) ?? auth.tokenFormat
        if let item = map["path"] {
            let path = try item.string()
            guard path.hasPrefix("/"), !path.hasSuffix("/"), !path.hasPrefix("/_") else {
                throw item.fail("must be an absolute path like /fhir/auth without a trailing slash, not under /_")
            }
            auth.path = path
        }
        auth.tokenSeconds = try positive("tokenSeconds") ?? auth.tokenSeconds
        if let item = map["jwksName"] {
            let name = try item.string()
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw item.fail("must be one path segment such as jwks or keys")
            }
            auth.jwksName = name
        }
        if let item = map["allowListedJwksOnly"] { auth.allowListedJwksOnly = try item.bool() }
        if let item = map["revokeName"] {
            let name = try item.string()
            let segments = name.split(separator: "/", omittingEmptySubsequences: false)
            guard !segments.isEmpty,
                segments.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } }),
                !["token", "authorize", "introspect", auth.jwksName].contains(name)
            else { throw item.fail("must be one or more path segments such as revoke or token/revoke, not another endpoint's") }
            auth.revokeName = name
        }
        if let item = map["issuer"] {
            let issuer = try item.string()
            if issuer == "fhir-base" {
                auth.issuerIsFHIRBase = true
            } else {
                guard issuer.hasPrefix("https://") || issuer.hasPrefix("http://"), !issuer.hasSuffix("/") else {
                    throw item.fail("must be an absolute URL without a trailing slash, or fhir-base")
                }
                auth.issuer = issuer
            }
        }
        if let item = map["serviceScopes"] {
            let scopes = try item.strings()
            for scope in scopes where scope.isEmpty || scope.contains(" ") || Scopes.grant(scope) != nil {
                throw item.fail("'\(scope)' is not a service scope: one word that is not a SMART resource scope")
            }
            auth.serviceScopes = Set(scopes)
        }
        auth.errorStyle = try named(map["errorStyle"], among: Strategies.oauthErrors.keys) ?? auth.errorStyle
        auth.scopeResponse = try named(map["scopeResponse"], among: Strategies.scopeWording.keys) ?? auth.scopeResponse
        auth.unregisteredScopes = try choice("unregisteredScopes", AuthSettings.UnregisteredScopes.self) ?? auth.unregisteredScopes
        if let item = map["wildcardScopes"] { auth.wildcardScopes = try item.bool() }
        if let item = map["advertisedScopes"] {
            let scopes = try item.strings()
            guard !scopes.isEmpty, scopes.allSatisfy({ !$0.isEmpty && !$0.contains(" ") }) else {
                throw item.fail("must be a list of scopes without spaces ({type} stands for each served type)")
            }
            auth.advertisedScopes = scopes
        }
        if let item = map["extraCapabilities"] { auth.extraCapabilities = try item.strings() }
        if let item = map["ecdsaRequiresJwksUri"] { auth.ecdsaRequiresJwksUri = try item.bool() }
        auth.maxJTILength = try positive("maxJTILength") ?? auth.maxJTILength
        if let item = map["forbiddenDescription"] { auth.forbiddenDescription = try item.string() }
        if let item = map["challengeRealm"] {
            let realm = try item.string()
            guard !realm.contains("\"") else { throw item.fail("a realm cannot contain a double quote") }
            auth.challengeRealm = realm.isEmpty ? nil : realm
        }
        if let item = map["tenant"] { auth.tenant = try item.string() }
        auth.disabledClient = try choice("disabledClient", AuthSettings.DisabledClient.self) ?? auth.disabledClient
        auth.codeSeconds = try positive("codeSeconds") ?? auth.codeSeconds
        auth.refreshDays = try positive("refreshDays") ?? auth.refreshDays
        auth.assertionMaxSeconds = try positive("assertionMaxSeconds") ?? auth.assertionMaxSeconds
        if let item = map["rotateRefreshTokens"] { auth.rotateRefreshTokens = try item.bool() }
        if let item = map["pkcePlain"] { auth.pkcePlain = try item.bool() }
        auth.scopeSyntax = try choice("scopeSyntax", ScopeSyntax.self) ?? auth.scopeSyntax
        if let item = map["tokenType"] {
            auth.tokenType = try item.string()
            guard auth.tokenType.lowercased() == "bearer" else { throw item.fail("must be Bearer or bearer") }
        }
        if let item = map["clientAuthMethods"] {
            var methods = Set<AuthSettings.ClientAuthMethod>()
            for text in try item.strings() {
                guard let method = AuthSettings.ClientAuthMethod(rawValue: text) else {
                    throw item.fail(
                        "'\(text)' is not one of \(AuthSettings.ClientAuthMethod.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                methods.insert(method)
            }
            auth.clientAuthMethods = methods
        }
        if let item = map["assertionAlgorithms"] {
            var algorithms = Set<JWSAlgorithm>()
            for text in try item.strings() {
                guard let algorithm = JWSAlgorithm(rawValue: text) else {
                    throw item.fail(
                        "'\(text)' is not one of \(JWSAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")) (none and HS* are never accepted)"
                    )
                }
                algorithms.insert(algorithm)
            }
            auth.assertionAlgorithms = algorithms
        }
        return auth
    }
}
