import FHIRCore
import Testing

@testable import SandboxFaults

/// Rules decide exactly which requests they hit: match fields, `times`, `after`, a seeded
/// `probability`, expiry, and an outage's window.
@Suite struct FaultBookTests {
    static func facts(
        _ method: String = "GET", _ path: String = "/epic/api/FHIR/R4/Patient", endpoint: RequestFacts.Endpoint = .fhir,
        type: String? = "Patient", interaction: String? = "search-type", operation: String? = nil, client: String? = "app"
    ) -> RequestFacts {
        RequestFacts(
            profile: "epic", method: method, path: path, endpoint: endpoint, resourceType: type, interaction: interaction,
            operation: operation, clientID: client)
    }

    static func rule(_ text: String) throws -> FaultRule { try FaultRule.parse(try JSONParser.parse(Array(text.utf8))) }

    @Test func globs() {
        #expect(Glob.matches("*/Appointment*", "/epic/api/FHIR/R4/Appointment/$book"))
        #expect(Glob.matches("/a?c", "/abc"))
        #expect(!Glob.matches("/a?c", "/abbc"))
        #expect(Glob.matches("*", ""))
        #expect(!Glob.matches("*/Slot", "/x/Slot/1"))
        #expect(Glob.matches("*a*b*c", "xaxbxxc"))
    }

    @Test func emptyMatchHitsAPICallsButNotOAuthEndpoints() throws {
        let match = try Self.rule(#"{"action": {"type": "drop"}}"#).match
        #expect(match.matches(Self.facts()))
        #expect(!match.matches(Self.facts("POST", "/epic/oauth2/token", endpoint: .token, type: nil, interaction: nil)))
        let token = try Self.rule(#"{"match": {"interaction": "token"}, "action": {"type": "drop"}}"#).match
        #expect(token.matches(Self.facts("POST", "/epic/oauth2/token", endpoint: .token, type: nil, interaction: nil)))
        #expect(!token.matches(Self.facts()))
        let byPath = try Self.rule(#"{"match": {"path": "*/oauth2/*"}, "action": {"type": "drop"}}"#).match
        #expect(byPath.matches(Self.facts("GET", "/epic/oauth2/authorize", endpoint: .authorize, type: nil, interaction: nil)))
    }

    @Test func everyMatchFieldNarrows() throws {
        let rule = try Self.rule(
            #"""
            {"match": {"profile": "epic", "method": "post", "path": "*/Appointment*", "resourceType": "Appointment",
             "interaction": "operation", "operation": "book", "clientId": "app"}, "action": {"type": "error", "status": 503}}
            """#)
        let book = Self.facts(
            "POST", "/epic/api/FHIR/R4/Appointment/$book", type: "Appointment", interaction: "operation", operation: "$book")
        #expect(rule.match.matches(book))
        var other = book
        other.clientID = "someone-else"
        #expect(!rule.match.matches(other))
        other = book
        other.profile = "cerner"
        #expect(!rule.match.matches(other))
        other = book
        other.operation = "$find"
        #expect(!rule.match.matches(other))
    }

    @Test func timesAndAfterBoundHits() throws {
        let book = FaultBook()
        let armed = try #require(book.arm(try Self.rule(#"{"action": {"type": "error", "status": 503}, "times": 2, "after": 1}"#), now: 0))
        let fired = (0..<5).map { _ in book.decide(Self.facts(), now: 1) != nil }
        #expect(fired == [false, true, true, false, false])
        let status = try #require(book.rule(id: armed.id))
        #expect(status.hits == 2)
        #expect(status.spent(at: 1))
    }

    @Test func seededProbabilityIsDeterministic() throws {
        let text = #"{"action": {"type": "error", "status": 500}, "probability": 0.5, "seed": 7}"#
        func pattern() throws -> [Bool] {
            let book = FaultBook()
            _ = book.arm(try Self.rule(text), now: 0)
            return (0..<64).map { _ in book.decide(Self.facts(), now: 1) != nil }
        }
        let first = try pattern()
        #expect(first == (try pattern()))
        let hits = first.filter { $0 }.count
        #expect(hits > 16 && hits < 48)
    }

    @Test func expiryAndOutage() throws {
        let book = FaultBook()
        _ = book.arm(try Self.rule(#"{"action": {"type": "drop"}, "expiresAfterSeconds": 10}"#), now: 100)
        #expect(book.decide(Self.facts(), now: 105) != nil)
        #expect(book.decide(Self.facts(), now: 111) == nil)
        book.disarmAll()
        _ = book.arm(try Self.rule(#"{"match": {"method": "POST"}, "action": {"type": "outage", "seconds": 30}}"#), now: 0)
        #expect(book.decide(Self.facts(), now: 1) == nil)
        let started = try #require(book.decide(Self.facts("POST"), now: 2))
        #expect(started.remainingSeconds == 30)
        // Every request during the outage, whatever it matches.
        #expect(book.decide(Self.facts("GET", "/epic/oauth2/token", endpoint: .token), now: 20)?.remainingSeconds == 12)
        #expect(book.decide(Self.facts("POST"), now: 33) == nil)
        #expect(book.all.first?.spent(at: 33) == true)
    }

    @Test func badRulesNameTheField() {
        let cases: [(String, String)] = [
            (#"{"action": {"type": "explode"}}"#, "action.type"),
            (#"{"action": {"type": "error"}}"#, "action.status"),
            (#"{"action": {"type": "error", "status": 200}}"#, "action.status"),
            (#"{"action": {"type": "drop", "ms": 3}}"#, "action.ms"),
            (#"{"action": {"type": "latency", "minMs": 9, "maxMs": 3}}"#, "action.maxMs"),
            (#"{"action": {"type": "drop"}, "probability": 2}"#, "probability"),
            (#"{"action": {"type": "drop"}, "match": {"colour": "red"}}"#, "match.colour"),
            (#"{"action": {"type": "drop"}, "times": 0}"#, "times"),
            (#"{"action": {"type": "outage", "seconds": 5}, "times": 3}"#, "times"),
            (#"{"match": {}}"#, "action"),
        ]
        for (text, field) in cases {
            #expect(throws: FaultRuleError.self) { try Self.rule(text) }
            do {
                _ = try Self.rule(text)
            } catch let error as FaultRuleError {
                #expect(error.field == field, "\(text)")
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    @Test func rateLimitBlocksForTheRestOfTheWindow() {
        let limit = RateLimit(
            name: "api", requests: 3, windowSeconds: 60, counts: [.fhir], per: .client, retryAfter: true, message: "slow down",
            enabledByDefault: false, source: "test")
        let limiter = RateLimiter(limits: ["epic": [limit]], mode: .defaults)
        #expect(limiter.admit(Self.facts(), now: 120) == nil)  // off by default
        limiter.set(.on)
        let answers = (0..<4).map { _ in limiter.admit(Self.facts(), now: 130) }
        #expect(answers.prefix(3).allSatisfy { $0 == nil })
        #expect(answers[3]?.retryAfter == 50)
        #expect(limiter.admit(Self.facts(client: "other"), now: 131) == nil)  // per client
        #expect(limiter.admit(Self.facts(), now: 179) != nil)
        #expect(limiter.admit(Self.facts(), now: 180) == nil)  // the next minute
        limiter.set(.off)
        for _ in 0..<10 { #expect(limiter.admit(Self.facts(), now: 181) == nil) }
    }
}
