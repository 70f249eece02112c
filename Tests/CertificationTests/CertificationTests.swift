import FHIRCore
import Foundation
import Testing

@testable import Certification

/// Kits load with located errors; each check kind fails on the evidence it is about and passes
/// without it; the reports escape what they quote.
@Suite struct CertificationTests {
    /// A state that answers from a fixed list of resources (search by type, `_id`, `patient`).
    struct FixedState: RunState {
        let resources: [JSONObject]

        func search(_ type: String, _ parameters: [(name: String, value: String)]) -> [JSONObject] {
            resources.filter { resource in
                guard resource["resourceType"]?.stringValue == type else { return false }
                return parameters.allSatisfy { name, value in
                    switch name {
                    case "_id": return resource["id"]?.stringValue == value
                    case "patient":
                        return (resource["participant"]?.arrayValue ?? []).contains { $0["actor"]?["reference"]?.stringValue == value }
                    case "family":
                        return (resource["name"]?.arrayValue ?? []).contains { $0["family"]?.stringValue == value }
                    case "birthdate": return resource["birthDate"]?.stringValue == value
                    default: return true
                    }
                }
            }
        }
    }

    static let kitText = """
        kit: demo
        scenarios:
          - id: one
            title: Book once
            task: {intent: book, caller: {name: Ann Lee, birthDate: "1990-01-02"}}
            checks:
              - {id: once, kind: booked-once, message: Book once.}
              - {id: verified, kind: verified-before-phi, message: Verify first.}
              - {id: polite, kind: honours-retry-after, message: Wait., with: {minBackoffMs: 1000}}
              - {id: tokens, kind: token-reused, message: One token.}
              - {id: storm, kind: no-retry-storm, message: No storm.}
              - {id: valid, kind: writes-valid-first-time, message: Valid writes.}
        """

    static func kit() throws -> Kit {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kit-\(UUID().uuidString).yaml")
        try kitText.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try KitLoader.load(file: file.path)
    }

    static func call(
        _ id: Int, _ method: String, _ path: String, query: String = "", status: Int = 200, at: Int64 = 0,
        surface: Exchange.Surface = .fhir,
        type: String? = nil, interaction: String? = nil, body: String = "", headers: [(name: String, value: String)] = []
    ) -> Exchange {
        Exchange(
            id: id, wallTime: at, method: method, path: path, query: query, status: status, clientID: "app", surface: surface,
            resourceType: type, interaction: interaction, operation: nil, requestBody: body, responseBody: "", responseHeaders: headers,
            fault: nil)
    }

    static let patient = JSONObject([
        "resourceType": .string("Patient"), "id": .string("p1"),
        "name": .array([.object(JSONObject(["family": .string("Lee"), "given": .array([.string("Ann")])]))]),
        "birthDate": .string("1990-01-02"),
    ])

    static func appointment(_ id: String) -> JSONObject {
        JSONObject([
            "resourceType": .string("Appointment"), "id": .string(id), "status": .string("booked"),
            "participant": .array([.object(JSONObject(["actor": .object(JSONObject(["reference": .string("Patient/p1")]))]))]),
        ])
    }

    static func results(_ exchanges: [Exchange], _ resources: [JSONObject]) throws -> [String: CheckResult] {
        let kit = try kit()
        let state = FixedState(resources: [patient] + resources)
        let record = RunRecord(
            scenario: kit.scenarios[0], exchanges: exchanges, state: state, before: ["Appointment": [], "Patient": ["p1"]],
            caller: RunRecord.caller(of: kit.scenarios[0].task, in: state), clientExit: 0, timedOut: false, clientOutput: "")
        return Dictionary(uniqueKeysWithValues: Checks.evaluate(record).map { ($0.check.id, $0) })
    }

    @Test func aPoliteClientPassesEveryCheck() throws {
        let calls = [
            Self.call(1, "POST", "/token", surface: .token),
            Self.call(2, "GET", "/Patient", query: "family=Lee&birthdate=1990-01-02", type: "Patient", interaction: "search-type"),
            Self.call(3, "GET", "/Slot", status: 429, at: 1000, type: "Slot", interaction: "search-type", headers: [("Retry-After", "2")]),
            Self.call(4, "GET", "/Slot", at: 3100, type: "Slot", interaction: "search-type"),
            Self.call(5, "POST", "/Appointment", status: 201, at: 3200, type: "Appointment", interaction: "create", body: "{}"),
        ]
        let results = try Self.results(calls, [Self.appointment("a1")])
        let failing = results.values.filter { !$0.passed }.map(\.detail)
        #expect(failing.isEmpty, "\(failing)")
    }

    @Test func eachCheckFailsOnItsOwnEvidence() throws {
        let calls = [
            Self.call(1, "POST", "/token", surface: .token),
            Self.call(2, "POST", "/Appointment", status: 400, at: 10, type: "Appointment", interaction: "create", body: "a"),
            Self.call(3, "POST", "/token", at: 20, surface: .token),
            Self.call(4, "POST", "/Appointment", status: 409, at: 30, type: "Appointment", interaction: "create", body: "b"),
            Self.call(5, "POST", "/Appointment", status: 429, at: 40, type: "Appointment", interaction: "create", body: "b"),
            Self.call(6, "POST", "/Appointment", status: 201, at: 50, type: "Appointment", interaction: "create", body: "b"),
            Self.call(7, "GET", "/Patient", query: "family=Lee", at: 60, type: "Patient", interaction: "search-type"),
        ]
        let results = try Self.results(calls, [Self.appointment("a1"), Self.appointment("a2")])
        let passing = results.values.filter(\.passed).map(\.check.id)
        #expect(passing.isEmpty, "\(passing)")
        #expect(results["once"]?.detail.contains("2 appointments") == true)
        #expect(results["storm"]?.evidence.map(\.id) == [4, 5, 6])
        #expect(results["polite"]?.evidence.map(\.id) == [5, 6])
        #expect(results["valid"]?.evidence.map(\.id) == [2])
    }

    @Test func kitErrorsNameFileLineAndKey() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kit-\(UUID().uuidString).yaml")
        try Self.kitText.replacingOccurrences(of: "kind: no-retry-storm", with: "kind: no-storm").write(
            to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        do {
            _ = try KitLoader.load(file: file.path)
            Issue.record("a kit with an unknown check kind loaded")
        } catch {
            #expect(error.description.contains("\(file.path):11"))
            #expect(error.description.contains("no-storm") && error.description.contains("booked-once"))
        }
    }

    @Test func reportsEscapeWhatTheyQuote() throws {
        let kit = try Self.kit()
        let record = RunRecord(
            scenario: kit.scenarios[0], exchanges: [Self.call(1, "GET", "/Patient", query: "name=<b>&x=\"1\"")],
            state: FixedState(resources: []), before: [:], caller: nil, clientExit: 1, timedOut: false, clientOutput: "boom \u{1} <x>")
        let result = ScenarioResult(
            scenario: kit.scenarios[0], profile: "generic", results: Checks.evaluate(record), record: record, durationMillis: 5)
        let report = Report(
            kit: kit, profile: "generic", command: ["client", "<arg>"], startedAt: "2026-04-13T13:00:00Z", scenarios: [result])
        #expect(!report.passed)
        #expect(report.junit.contains("boom  &lt;x&gt;") && !report.junit.contains("\u{1}"))
        #expect(report.html.contains("name=&lt;b&gt;&amp;x=&quot;1&quot;") && report.html.contains("&lt;arg&gt;"))
        #expect(!report.html.contains("<b>&x"))
        #expect(report.json["scenarios"]?.arrayValue?.first?["passed"]?.boolValue == false)
    }
}
