import Crypto
import FHIRCore
import Testing
import _CryptoExtras

@testable import SandboxAuth

/// Signs test assertions the way a client library would.
struct TestSigner {
    enum Key {
        case rsa(_RSA.Signing.PrivateKey)
        case p384(P384.Signing.PrivateKey)
    }

    let key: Key
    let kid: String

    static let rsa = TestSigner(key: .rsa(try! _RSA.Signing.PrivateKey(keySize: .bits2048)), kid: "rsa-1")
    static let p384 = TestSigner(key: .p384(P384.Signing.PrivateKey()), kid: "ec-1")

    var jwk: JSONObject {
        switch key {
        case .rsa(let key):
            let primitives = try! key.publicKey.getKeyPrimitives()
            return JSONObject([
                "kty": .string("RSA"), "kid": .string(kid), "n": .string(Base64URL.encode(primitives.modulus)),
                "e": .string(Base64URL.encode(primitives.publicExponent)),
            ])
        case .p384(let key):
            let raw = Array(key.publicKey.rawRepresentation)
            return JSONObject([
                "kty": .string("EC"), "crv": .string("P-384"), "kid": .string(kid), "x": .string(Base64URL.encode(raw[0..<48])),
                "y": .string(Base64URL.encode(raw[48..<96])),
            ])
        }
    }

    func sign(_ claims: JSONObject, alg: String? = nil, kid: String? = nil) -> String {
        let algorithm: String
        switch key {
        case .rsa: algorithm = alg ?? "RS384"
        case .p384: algorithm = alg ?? "ES384"
        }
        let header = JSON.object(JSONObject(["alg": .string(algorithm), "typ": .string("JWT"), "kid": .string(kid ?? self.kid)]))
        let input = Base64URL.encode(header.bytes) + "." + Base64URL.encode(JSON.object(claims).bytes)
        let data = Array(input.utf8)
        let signature: [UInt8]
        switch key {
        case .rsa(let key):
            signature = Array(try! key.signature(for: SHA384.hash(data: data), padding: .insecurePKCS1v1_5).rawRepresentation)
        case .p384(let key):
            signature = Array(try! key.signature(for: SHA384.hash(data: data)).rawRepresentation)
        }
        return input + "." + Base64URL.encode(signature)
    }
}

let tokenURL = "http://sandbox.test/fhir/auth/token"
let fhirBase = "http://sandbox.test/fhir/r4"

func makeServer(wall: Int64 = 1_800_000_000_000, settings: AuthSettings = AuthSettings()) -> (AuthorizationServer, SandboxClock) {
    let clients = ClientRegistry([
        OAuthClient(
            id: "backend", kind: .backend, jwks: JSONObject(["keys": .array([.object(TestSigner.rsa.jwk), .object(TestSigner.p384.jwk)])]),
            scopes: ["system/*.read", "system/Appointment.cruds"], grants: [.clientCredentials]),
        OAuthClient(
            id: "off", kind: .backend, jwks: JSONObject(["keys": .array([.object(TestSigner.rsa.jwk)])]), scopes: ["system/*.read"],
            grants: [.clientCredentials], enabled: false),
        OAuthClient(
            id: "app", kind: .public, redirectURIs: ["http://app/cb"], scopes: ["patient/*.rs", "launch/patient", "offline_access"],
            grants: [.authorizationCode, .refreshToken]),
    ])
    let clock = SandboxClock.fixed(1_776_085_200_000)
    let server = AuthorizationServer(
        profile: "generic", settings: settings, clients: clients, signer: TokenSigner(), clock: clock, random: .seeded(7),
        wallClock: { wall })
    return (server, clock)
}

func assertionClaims(iss: String = "backend", aud: String = tokenURL, exp: Int64 = 1_800_000_000 + 240, jti: String = "j1") -> JSONObject {
    JSONObject([
        "iss": .string(iss), "sub": .string(iss), "aud": .string(aud), "exp": .int(Int(exp)), "jti": .string(jti),
    ])
}

func form(_ assertion: String, scope: String = "system/Patient.read") -> [(name: String, value: String)] {
    [
        ("grant_type", "client_credentials"), ("scope", scope),
        ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"), ("client_assertion", assertion),
    ]
}

@Suite struct AssertionTests {
    @Test func acceptsRS384AndES384AssertionsAndIssuesAUsableToken() throws {
        let (server, _) = makeServer()
        for (signer, jti) in [(TestSigner.rsa, "a"), (TestSigner.p384, "b")] {
            let body = try server.token(
                form: form(signer.sign(assertionClaims(jti: jti))), authorization: nil, tokenURL: tokenURL, tokenURLs: [tokenURL],
                fhirBaseURL: fhirBase
            ).get()
            #expect(body["token_type"]?.stringValue == "Bearer")
            #expect(body["scope"]?.stringValue == "system/Patient.read")
            let access = try server.authenticate(bearer: body["access_token"]!.stringValue!, audiences: [fhirBase]).get()
            #expect(access.decide("Patient", .read) == .allowed)
            #expect(access.decide("Patient", .create) == .denied)
        }
    }

    @Test func refusesEveryBrokenAssertion() {
        let (server, _) = makeServer()
        func refused(_ assertion: String, _ fragment: String) {
            let result = server.token(
                form: form(assertion), authorization: nil, tokenURL: tokenURL, tokenURLs: [tokenURL], fhirBaseURL: fhirBase)
            guard case .failure(let error) = result else {
                Issue.record("accepted: \(fragment)")
                return
            }
            #expect(error.error == "invalid_client")
            #expect(error.description.contains(fragment), "\(error.description)")
        }
        let signer = TestSigner.rsa
        refused(signer.sign(assertionClaims(exp: 1_800_000_000 + 3600, jti: "long")), "at most 300 s")
        refused(signer.sign(assertionClaims(exp: 1_800_000_000 - 10, jti: "old")), "expired")
        refused(signer.sign(assertionClaims(aud: "http://elsewhere/token", jti: "aud")), "aud must be this token endpoint")
        refused(signer.sign(assertionClaims(iss: "stranger", jti: "iss")), "unknown client")
        refused(signer.sign(assertionClaims(iss: "off", jti: "off")), "disabled")
        refused(signer.sign(assertionClaims(jti: "kid"), kid: "nope"), "kid 'nope'")
        refused(signer.sign(assertionClaims(jti: "alg"), alg: "HS256"), "alg 'HS256'")
        // alg none: header swapped, signature empty.
        let none =
            Base64URL.encode(JSON.object(JSONObject(["alg": .string("none"), "kid": .string("rsa-1")])).bytes) + "."
            + Base64URL.encode(JSON.object(assertionClaims(jti: "none")).bytes) + "."
        refused(none, "alg 'none'")
        // Tampered payload: claims changed after signing.
        let good = signer.sign(assertionClaims(jti: "tamper"))
        let parts = good.split(separator: ".")
        let forged = parts[0] + "." + Base64URL.encode(JSON.object(assertionClaims(jti: "tampered")).bytes) + "." + parts[2]
        refused(String(forged), "signature does not verify")
        // Replay: the first use passes, the second is refused.
        let once = signer.sign(assertionClaims(jti: "once"))
        #expect(
            (try? server.token(form: form(once), authorization: nil, tokenURL: tokenURL, tokenURLs: [tokenURL], fhirBaseURL: fhirBase).get())
                != nil)
        refused(once, "already used")
        // Numbers that do not fit a 64-bit second count are refused, not converted.
        var huge = assertionClaims(jti: "huge")
        huge["exp"] = .number("1e300")
        refused(signer.sign(huge), "numeric exp")
        var negative = assertionClaims(jti: "negative")
        negative["exp"] = .number("-9223372036854775")
        refused(signer.sign(negative), "numeric exp")
        var notBefore = assertionClaims(jti: "nbf")
        notBefore["nbf"] = .number("1e300")
        refused(signer.sign(notBefore), "nbf must be")
    }

    @Test func accessTokensAreBoundToTheirAudienceAndRevocationsOutliveAReset() throws {
        let (server, _) = makeServer()
        let token = try server.token(
            form: form(TestSigner.rsa.sign(assertionClaims(jti: "aud1"))), authorization: nil, tokenURL: tokenURL, tokenURLs: [tokenURL],
            fhirBaseURL: fhirBase
        ).get()["access_token"]!.stringValue!
        #expect((try? server.authenticate(bearer: token, audiences: [fhirBase]).get()) != nil)
        guard case .failure(let error) = server.authenticate(bearer: token, audiences: ["http://sandbox.test:9999/fhir/r4"]) else {
            Issue.record("a token minted for another base was accepted")
            return
        }
        #expect(error.error == "invalid_token" && error.description.contains("audience"))
        // Another client cannot revoke it; its own client can, and a reset does not undo that.
        let app = server.revoke(
            form: [("token", token), ("client_id", "app")], authorization: nil, tokenURLs: [tokenURL], audiences: [fhirBase])
        guard case .failure(let refusal) = app else {
            Issue.record("another client revoked the token")
            return
        }
        #expect(refusal.error == "unauthorized_client")
        #expect((try? server.authenticate(bearer: token, audiences: [fhirBase]).get()) != nil)
        _ = try server.revoke(
            form: [("token", token)], authorization: "Bearer " + token, tokenURLs: [tokenURL], audiences: [fhirBase]
        ).get()
        server.reset()
        #expect((try? server.authenticate(bearer: token, audiences: [fhirBase]).get()) == nil)
    }

    @Test func dropsUnregisteredScopesAndRefusesWhenNoneRemain() throws {
        let (server, _) = makeServer()
        let body = try server.token(
            form: form(TestSigner.rsa.sign(assertionClaims(jti: "s1")), scope: "system/Patient.read system/Patient.write"),
            authorization: nil, tokenURL: tokenURL, tokenURLs: [tokenURL], fhirBaseURL: fhirBase
        ).get()
        #expect(body["scope"]?.stringValue == "system/Patient.read")
        let none = server.token(
            form: form(TestSigner.rsa.sign(assertionClaims(jti: "s2")), scope: "system/Patient.write"),
            authorization: nil, tokenURL: tokenURL, tokenURLs: [tokenURL], fhirBaseURL: fhirBase)
        #expect((try? none.get()) == nil)
    }

    @Test func tokensDieWhenTheSandboxClockPassesTheirExpiryAndWhenRevoked() throws {
        let (server, clock) = makeServer()
        let token = try server.token(
            form: form(TestSigner.rsa.sign(assertionClaims(jti: "t1"))), authorization: nil, tokenURL: tokenURL, tokenURLs: [tokenURL],
            fhirBaseURL: fhirBase
        ).get()["access_token"]!.stringValue!
        #expect((try? server.authenticate(bearer: token, audiences: [fhirBase]).get()) != nil)
        clock.advance(by: 3_601_000)
        guard case .failure(let error) = server.authenticate(bearer: token, audiences: [fhirBase]) else {
            Issue.record("expired token accepted"); return
        }
        #expect(error.error == "invalid_token" && error.description.contains("expired"))
        clock.set(1_776_085_200_000, frozen: true)
        _ = server.revoke(form: [("token", token)], authorization: "Bearer " + token, tokenURLs: [tokenURL], audiences: [fhirBase])
        #expect((try? server.authenticate(bearer: token, audiences: [fhirBase]).get()) == nil)
    }
}

@Suite struct OpaqueTokenTests {
    @Test func opaqueTokensAreKnownOnlyToTheirServerAndFollowTheSameRules() throws {
        var settings = AuthSettings()
        settings.tokenFormat = .opaque
        let (server, clock) = makeServer(settings: settings)
        let token = try server.token(
            form: form(TestSigner.p384.sign(assertionClaims(jti: "o1"))), authorization: nil, tokenURL: tokenURL, tokenURLs: [tokenURL],
            fhirBaseURL: fhirBase
        ).get()["access_token"]!.stringValue!
        #expect(!token.contains("."))
        #expect(try server.authenticate(bearer: token, audiences: [fhirBase]).get().decide("Patient", .search) == .allowed)
        let (other, _) = makeServer(settings: settings)
        #expect((try? other.authenticate(bearer: token, audiences: [fhirBase]).get()) == nil)
        clock.advance(by: 3_601_000)
        #expect((try? server.authenticate(bearer: token, audiences: [fhirBase]).get()) == nil)
    }
}

@Suite struct ScopeTests {
    @Test func readsV1AndV2Syntax() {
        #expect(Scopes.grant("patient/Observation.read")?.grant.actions == [.read, .search])
        #expect(Scopes.grant("system/*.write")?.grant.actions == [.create, .update, .delete])
        #expect(Scopes.grant("user/*.*")?.grant.actions == Set(Access.Action.allCases))
        #expect(Scopes.grant("system/*.cruds")?.grant.actions == Set(Access.Action.allCases))
        #expect(Scopes.grant("patient/Appointment.rs")?.version == 2)
        #expect(Scopes.grant("patient/Appointment.sr") == nil)  // v2 letters keep the order c r u d s
        #expect(Scopes.grant("patient/appointment.read") == nil)
        #expect(Scopes.grant("launch/patient") == nil)
        #expect(
            Scopes.narrow(["patient/Patient.rs", "patient/Patient.read"], allowed: ["patient/*.*"], syntax: .v1).granted == [
                "patient/Patient.read"
            ])
    }

    @Test func patientGrantsAreConfinedToTheirPatient() {
        let access = Access(grants: Scopes.grants(["patient/Appointment.rs"]), patient: "pat-0001", client: "app")
        #expect(access.decide("Appointment", .read) == .compartment("pat-0001"))
        #expect(access.decide("Appointment", .create) == .denied)
        let noPatient = Access(grants: Scopes.grants(["patient/Appointment.rs"]), patient: nil, client: "app")
        #expect(noPatient.decide("Appointment", .read) == .denied)
    }
}

@Suite struct AuthorizationCodeTests {
    let verifier = "a-long-random-verifier-of-at-least-43-characters-xxxxxxxx"

    func grant(expires: Int64 = 2_000, method: String = "S256") -> CodeGrant {
        CodeGrant(
            client: "app", redirectURI: "http://app/cb", scopes: ["patient/*.rs"], patient: "pat-0001",
            challenge: method == "S256" ? Base64URL.encode(SHA256.hash(data: Array(verifier.utf8))) : verifier, challengeMethod: method,
            expires: expires)
    }

    @Test func aCodeIsRedeemedOnceByItsClientWithItsVerifier() {
        let codes = AuthorizationCodes()
        codes.issue(grant(), code: "c1", now: 0)
        #expect((try? codes.redeem("c1", client: "app", redirectURI: "http://app/cb", verifier: verifier, now: 1_000).get()) == grant())
        guard case .failure(let again) = codes.redeem("c1", client: "app", redirectURI: "http://app/cb", verifier: verifier, now: 1_000)
        else { Issue.record("a code was redeemed twice"); return }
        #expect(again.error == "invalid_grant")
    }

    @Test func wrongVerifierClientRedirectOrLateRedemptionFailsAndSpendsTheCode() {
        let codes = AuthorizationCodes()
        let cases: [(String, String, String, Int64, String)] = [
            ("app", "http://app/cb", "wrong-verifier", 1_000, "code_verifier"),
            ("other", "http://app/cb", verifier, 1_000, "another client"),
            ("app", "http://app/other", verifier, 1_000, "redirect_uri"),
            ("app", "http://app/cb", verifier, 3_000, "expired"),
        ]
        for (index, (client, redirect, verifier, now, fragment)) in cases.enumerated() {
            codes.issue(grant(), code: "c\(index)", now: 0)
            guard case .failure(let error) = codes.redeem("c\(index)", client: client, redirectURI: redirect, verifier: verifier, now: now)
            else { Issue.record("accepted \(fragment)"); continue }
            #expect(error.description.contains(fragment), "\(error.description)")
            #expect(
                (try? codes.redeem("c\(index)", client: "app", redirectURI: "http://app/cb", verifier: self.verifier, now: 1_000).get())
                    == nil)
        }
    }
}

@Suite struct ExpiringTableTests {
    @Test func expiredEntriesGoAndLiveOnesStayUnderTheLimit() {
        var table: [String: Int64] = [:]
        for index in 0..<Expiring.sweepAt { table["old\(index)"] = 10 }
        Expiring.prune(&table, now: 100, expires: { $0 })
        #expect(table.isEmpty)
        for index in 0..<(Expiring.limit + 500) { table["live\(index)"] = 1000 + Int64(index) }
        Expiring.prune(&table, now: 100, expires: { $0 })
        #expect(table.count == Expiring.limit - 1)
        #expect(table["live\(Expiring.limit + 499)"] != nil && table["live0"] == nil)  // the latest-expiring are kept
    }
}
