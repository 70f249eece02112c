import Certification
import FHIRCore
import FHIRInteractions
import FHIRSearch
import FHIRStore
import Foundation
import HTTPTypes
import SandboxAuth
import SandboxProfiles

/// Certifies a client command against a kit on one profile: per scenario an isolated sandbox of
/// that profile (its own URLs), armed as the scenario says; the client runs with the environment
/// it needs and a timeout; then the checks read the sandbox's journal and state.
public struct Certifier: Sendable {
    let sandbox: Sandbox
    /// The running server's origin (`http://127.0.0.1:PORT`).
    let origin: String

    public init(sandbox: Sandbox, origin: String) {
        self.sandbox = sandbox
        self.origin = origin
    }

    /// The seed's test-only credentials handed to the client (the seed documents them).
    static let secretClient = (id: "sandbox-secret", secret: "sandbox-secret-TEST-ONLY")
    static let backendClient = (id: "sandbox-backend", key: "keys/backend-rs384.pem", kid: "backend-rs384")

    /// A scenario's sandbox, armed, with what existed before the client starts.
    struct Prepared: Sendable {
        let scenario: Scenario
        let profile: String
        let made: IsolatedSandbox
        let mount: Sandbox.Mount
        let state: TenantReader
        let before: [String: Set<String>]
        let started: Date
    }

    /// Creates `scenario`'s isolated sandbox of `profile` (id `id`), seeds it, remembers what is
    /// there and arms the setup's faults and staff actions.
    func prepare(_ scenario: Scenario, profile: String, id: String) throws(AdminError) -> Prepared {
        var body = JSONObject(["profiles": .array([.string(profile)]), "ttlSeconds": .int(3600)])
        if let clock = scenario.setup.clock { body["clock"] = .object(JSONObject(["now": .string(clock), "frozen": .bool(true)])) }
        let made = try SandboxesController(sandbox: sandbox).make(id: id, body: body)
        guard case .inserted = sandbox.isolated.insert(made) else {
            throw AdminError(status: .conflict, "a sandbox '\(id)' exists or the sandbox limit is reached")
        }
        guard let mount = made.mount(named: profile) else {
            sandbox.isolated.remove(id)
            throw AdminError("profile \(profile) is not mounted", field: "profile")
        }
        try? mount.runtime.state.tenant.seedIfNeeded()
        let state = TenantReader(service: mount.runtime.ehr)
        var before: [String: Set<String>] = [:]
        for type in RunRecord.remembered { before[type] = Set(state.search(type, []).compactMap { $0["id"]?.stringValue }) }
        let controller = AdminController(sandbox: sandbox, scope: made)
        do {
            for fault in scenario.setup.faults { _ = try controller.armFault(fault) }
            for action in scenario.setup.actions { _ = try controller.staffAction(action) }
        } catch {
            sandbox.isolated.remove(id)
            throw AdminError("the scenario's setup failed: \(error.message)")
        }
        return Prepared(scenario: scenario, profile: profile, made: made, mount: mount, state: state, before: before, started: Date())
    }

    /// Reads what the client did and left, runs the checks, and removes the sandbox.
    func finish(_ prepared: Prepared, clientExit: Int32?, timedOut: Bool, output: String) -> ScenarioResult {
        defer { sandbox.isolated.remove(prepared.made.id) }
        let exchanges = prepared.made.journal.all.reversed().map { Self.exchange($0, mount: prepared.mount) }
        let record = RunRecord(
            scenario: prepared.scenario, exchanges: exchanges, state: prepared.state, before: prepared.before,
            caller: RunRecord.caller(of: prepared.scenario.task, in: prepared.state), clientExit: clientExit, timedOut: timedOut,
            clientOutput: output)
        return ScenarioResult(
            scenario: prepared.scenario, profile: prepared.profile, results: Checks.evaluate(record), record: record,
            durationMillis: Int(Date().timeIntervalSince(prepared.started) * 1000))
    }

    /// Runs `scenario` on `profile` with `command`; `progress` hears what happens.
    public func run(_ scenario: Scenario, profile: String, command: [String], progress: @Sendable (String) -> Void) async -> ScenarioResult
    {
        let prepared: Prepared
        do {
            prepared = try prepare(scenario, profile: profile, id: "certify-\(scenario.id)-\(UInt32.random(in: 0...UInt32.max))")
        } catch {
            let failure = "the scenario's sandbox could not be prepared: \(error.message)"
            let record = RunRecord(
                scenario: scenario, exchanges: [], state: TenantReader(service: nil), before: [:], caller: nil, clientExit: nil,
                timedOut: false, clientOutput: failure)
            return ScenarioResult(
                scenario: scenario, profile: profile,
                results: scenario.checks.map { CheckResult(check: $0, passed: false, detail: failure) }, record: record, durationMillis: 0)
        }
        progress("  \(scenario.id): running the client")
        let environment = self.environment(mount: prepared.mount, scenario: scenario)
        let (exit, timedOut, output) = await Self.execute(command, environment: environment, timeout: scenario.timeoutSeconds)
        return finish(prepared, clientExit: exit, timedOut: timedOut, output: output)
    }

    /// What the client is told: where the profile is, who it is, and what to do.
    func environment(mount: Sandbox.Mount, scenario: Scenario) -> [String: String] {
        var values = ProcessInfo.processInfo.environment
        let profile = mount.profile
        values["FHIR_PROFILE"] = profile.name
        values["FHIR_BASE_URL"] = origin + mount.prefix + profile.fhirBase
        values["FHIR_TOKEN_URL"] = origin + mount.prefix + profile.auth.tokenPath
        values["FHIR_CLIENT_ID"] = Self.secretClient.id
        values["FHIR_CLIENT_SECRET"] = Self.secretClient.secret
        values["FHIR_BACKEND_CLIENT_ID"] = Self.backendClient.id
        values["FHIR_PRIVATE_KEY_FILE"] = sandbox.configuration.seedDirectory + "/" + Self.backendClient.key
        values["FHIR_KEY_ID"] = Self.backendClient.kid
        if let api = profile.proprietary { values["FHIR_API_BASE_URL"] = origin + mount.prefix + api.path }
        // The vendor's tenant: athena's practice id, Cerner's tenant id (`sandbox` where none).
        values["FHIR_TENANT"] = profile.auth.tenant
        for (index, base) in profile.otherBases.enumerated() {
            values["FHIR_BASE_URL_\(index + 2)"] = origin + mount.prefix + base.fhirBase
        }
        values["SCENARIO_ID"] = scenario.id
        values["SCENARIO_TASK"] = JSON.object(scenario.task).text
        return values
    }

    /// Runs the client, its output to a file, killed after `timeout` seconds.
    static func execute(_ command: [String], environment: [String: String], timeout: Int) async -> (Int32?, Bool, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.environment = environment
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("certify-\(UUID().uuidString).log")
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else { return (nil, false, "cannot create the client's log") }
        defer { try? FileManager.default.removeItem(at: log) }
        guard let handle = try? FileHandle(forWritingTo: log) else { return (nil, false, "cannot create the client's log") }
        process.standardOutput = handle
        process.standardError = handle
        do {
            try process.run()
        } catch {
            return (nil, false, "cannot start \(command.joined(separator: " ")): \(error)")
        }
        let deadline = Date().addingTimeInterval(TimeInterval(timeout))
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                process.terminate()
                try? await Task.sleep(for: .milliseconds(500))
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                break
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        process.waitUntilExit()
        try? handle.close()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return (timedOut ? nil : process.terminationStatus, timedOut, String(output.suffix(16_000)))
    }

    /// A journal entry as the checks read it: which surface it reached and what it touched.
    static func exchange(_ entry: RequestJournal.Entry, mount: Sandbox.Mount) -> Exchange {
        let profile = mount.profile
        let path = entry.path
        var surface: Exchange.Surface = .other
        var type: String?
        var interaction: String?
        var operation: String?
        let bases = [profile.fhirBase] + profile.otherBases.map(\.fhirBase)
        if entry.method == "HL7" {
            surface = .hl7
            type = "Appointment"
            interaction = path.hasPrefix("/hl7/in/") ? "create" : nil
        } else if path == mount.prefix + profile.auth.tokenPath {
            surface = .token
        } else if path == mount.prefix + profile.auth.authorizePath {
            surface = .authorize
        } else if let api = profile.proprietary, path.hasPrefix(mount.prefix + api.path + "/") {
            surface = .proprietary
            let segments = path.dropFirst((mount.prefix + api.path + "/").count).split(separator: "/").map(String.init)
            if let kind = mount.runtime.proprietary?.classify(method: entry.method, segments: segments) {
                (type, interaction) = (kind.type, kind.interaction)
            }
        } else if let base = bases.first(where: { path == mount.prefix + $0 || path.hasPrefix(mount.prefix + $0 + "/") }) {
            surface = .fhir
            let segments = path.dropFirst((mount.prefix + base).count).split(separator: "/").map(String.init)
            (type, interaction, operation) = classify(method: entry.method, segments: segments)
        }
        return Exchange(
            id: entry.id, wallTime: entry.wallTime, method: entry.method, path: path, query: entry.query, status: entry.status,
            clientID: entry.clientID, surface: surface, resourceType: type, interaction: interaction, operation: operation,
            requestBody: String(decoding: entry.request.body, as: UTF8.self),
            responseBody: String(decoding: entry.response.body, as: UTF8.self), responseHeaders: entry.response.redactedHeaders,
            fault: entry.fault.map { "\($0.type)" })
    }

    /// A FHIR path's type, interaction and operation (`Appointment/$book` → operation `book`),
    /// as the engine routes it.
    static func classify(method: String, segments: [String]) -> (String?, String?, String?) {
        guard let route = try? Route.classify(method: method, segments: segments, supports: { _ in true }) else {
            return (segments.first, nil, nil)
        }
        if case .operation(let name, let type, _) = route { return (type, "operation", name) }
        return (route.resourceType, route.interactionCodes.first, nil)
    }
}

/// The tenant's state through its full R4 service, in the clinic's own ids.
struct TenantReader: RunState {
    let service: FHIRService?

    func search(_ type: String, _ parameters: [(name: String, value: String)]) -> [JSONObject] {
        guard let service else { return [] }
        if service.providers[type] != nil {
            // Served from elsewhere (slots from the slot table): through the provider's search.
            let request = FHIRRequest(method: "GET", segments: [type], query: parameters + [("_count", "1000")], baseURL: "")
            let answer = service.handle(request)
            return (try? JSONParser.parse(answer.body))?["entry"]?.arrayValue?.compactMap { $0["resource"]?.objectValue } ?? []
        }
        do {
            let query = try service.searchParser().parse(type: type, parameters: parameters, strict: false, now: service.clock.now())
            let rows = try service.read { reader throws(FHIRError) in try reader.bodies(try reader.search(query)) }
            return rows.compactMap { (try? JSONParser.parse($0.1))?.objectValue }
        } catch {
            return []
        }
    }
}
