import FHIRCore
import FHIRSearch

/// One request the client made during a scenario, as the server journaled and classified it.
public struct Exchange: Sendable {
    /// Which of the profile's surfaces it reached.
    public enum Surface: String, Sendable {
        case fhir, proprietary, token, authorize, hl7, other
    }

    public var id: Int
    /// Wall-clock milliseconds (waits are real time, whatever the sandbox clock does).
    public var wallTime: Int64
    public var method: String
    public var path: String
    public var query: String
    public var status: Int
    public var clientID: String?
    public var surface: Surface
    /// The resource type and interaction it touches (`read`, `search-type`, `create`, `update`,
    /// `patch`, `operation`), when the server could tell.
    public var resourceType: String?
    public var interaction: String?
    public var operation: String?
    public var requestBody: String
    public var responseBody: String
    public var responseHeaders: [(name: String, value: String)]
    /// The fault rule or rate limit that decided the answer, if one did.
    public var fault: String?

    public init(
        id: Int, wallTime: Int64, method: String, path: String, query: String, status: Int, clientID: String?, surface: Surface,
        resourceType: String?, interaction: String?, operation: String?, requestBody: String, responseBody: String,
        responseHeaders: [(name: String, value: String)], fault: String?
    ) {
        self.id = id
        self.wallTime = wallTime
        self.method = method
        self.path = path
        self.query = query
        self.status = status
        self.clientID = clientID
        self.surface = surface
        self.resourceType = resourceType
        self.interaction = interaction
        self.operation = operation
        self.requestBody = requestBody
        self.responseBody = responseBody
        self.responseHeaders = responseHeaders
        self.fault = fault
    }

    public func responseHeader(_ name: String) -> String? {
        responseHeaders.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// A call to the EHR's API (not OAuth).
    public var isAPI: Bool { [.fhir, .proprietary, .hl7].contains(surface) }

    /// A booking or another write to the EHR.
    public var isWrite: Bool {
        guard isAPI else { return false }
        if surface == .hl7 { return path.hasPrefix("/hl7/in/") }
        if ["create", "update", "patch", "delete"].contains(interaction ?? "") { return true }
        return ["book", "hold"].contains(operation ?? "") || (method != "GET" && interaction == nil && operation == nil)
    }

    /// One line: `#12 POST /sandboxes/s1/fhir/r4/Appointment/$book → 409 [slot-taken]`.
    public var summary: String {
        "#\(id) \(method) \(path)\(query.isEmpty ? "" : "?" + query) → \(status == 0 ? "no answer" : String(status))"
            + (fault.map { " [\($0)]" } ?? "")
    }
}

/// The sandbox after the client finished, read in the clinic's own ids through the full R4 surface.
public protocol RunState: Sendable {
    func search(_ type: String, _ parameters: [(name: String, value: String)]) -> [JSONObject]
}

/// Everything a scenario's checks read.
public struct RunRecord: Sendable {
    public var scenario: Scenario
    /// Oldest first.
    public var exchanges: [Exchange]
    public var state: any RunState
    /// Ids of Appointments, Patients and Communications before the client started.
    public var before: [String: Set<String>]
    /// The seed patient the task's caller is (nil: the caller is new to the clinic).
    public var caller: String?
    public var clientExit: Int32?
    public var timedOut: Bool
    public var clientOutput: String

    public init(
        scenario: Scenario, exchanges: [Exchange], state: any RunState, before: [String: Set<String>], caller: String?,
        clientExit: Int32?, timedOut: Bool, clientOutput: String
    ) {
        self.scenario = scenario
        self.exchanges = exchanges
        self.state = state
        self.before = before
        self.caller = caller
        self.clientExit = clientExit
        self.timedOut = timedOut
        self.clientOutput = clientOutput
    }

    /// Resources of `type` written during the run (new ids).
    public func created(_ type: String, _ parameters: [(name: String, value: String)] = []) -> [JSONObject] {
        let known = before[type] ?? []
        return state.search(type, parameters).filter { !known.contains($0["id"]?.stringValue ?? "") }
    }

    /// The types whose ids are remembered before the run.
    public static let remembered = ["Appointment", "Patient", "Communication"]

    /// The seed patient a task's `caller` (`name`, `birthDate`) is, if any.
    public static func caller(of task: JSONObject, in state: any RunState) -> String? {
        guard let caller = task["caller"], let birthDate = caller["birthDate"]?.stringValue, let name = caller["name"]?.stringValue
        else { return nil }
        let words = name.split(separator: " ").map(String.init)
        guard let family = words.last else { return nil }
        let given = words.first.map(StringFolding.fold)
        return state.search("Patient", [("family", family), ("birthdate", birthDate)]).first { patient in
            let givens = (patient["name"]?.arrayValue ?? []).flatMap { ($0["given"]?.arrayValue ?? []).compactMap(\.stringValue) }
            return given == nil || givens.map(StringFolding.fold).contains(given!)
        }?["id"]?.stringValue
    }
}

/// A check's outcome: passed or not, what was found, and the requests that show it.
public struct CheckResult: Sendable {
    public var check: Check
    public var passed: Bool
    /// What was found, in a sentence (the check's message says what to do about it).
    public var detail: String
    public var evidence: [Exchange]

    public init(check: Check, passed: Bool, detail: String, evidence: [Exchange] = []) {
        self.check = check
        self.passed = passed
        self.detail = detail
        self.evidence = evidence
    }
}

/// One scenario's outcome.
public struct ScenarioResult: Sendable {
    public var scenario: Scenario
    public var profile: String
    public var results: [CheckResult]
    public var record: RunRecord
    public var durationMillis: Int

    public init(scenario: Scenario, profile: String, results: [CheckResult], record: RunRecord, durationMillis: Int) {
        self.scenario = scenario
        self.profile = profile
        self.results = results
        self.record = record
        self.durationMillis = durationMillis
    }

    /// Every required check passed.
    public var passed: Bool { results.allSatisfy { $0.passed || $0.check.severity != .required } }
}
