import Certification
import FHIRCore
import Foundation
import Hummingbird
import SandboxProfiles
import Synchronization

/// Certification runs for clients that cannot be wrapped in a command (a voice platform calling
/// in from elsewhere): `POST /_admin/certifications` prepares a scenario's sandbox and hands out
/// its URLs, credentials and task; the client works against them; `POST .../{id}/finish` runs the
/// checks and keeps the report (JSON, HTML, JUnit). The last `capacity` runs are kept.
final class CertificationRuns: Sendable {
    static let capacity = 100

    struct Run: Sendable {
        let id: String
        let kit: Kit
        let prepared: Certifier.Prepared
        let created: Date
        var report: Report?

        var json: JSONObject {
            var object = JSONObject([
                "id": .string(id), "kit": .string(kit.name), "profile": .string(prepared.profile),
                "scenario": .string(prepared.scenario.id), "title": .string(prepared.scenario.title),
                "state": .string(report == nil ? "running" : "finished"),
                "created": .string(InstantFormat.iso(Int64(created.timeIntervalSince1970 * 1000))),
            ])
            if let report { object["passed"] = .bool(report.passed) }
            return object
        }
    }

    private let runs = Mutex<(next: Int, list: [Run])>((1, []))

    func add(_ make: (String) throws(AdminError) -> Run) throws(AdminError) -> Run {
        let id = runs.withLock { state in
            defer { state.next += 1 }
            return "cert-\(state.next)"
        }
        let run = try make(id)
        runs.withLock { state in
            state.list.append(run)
            if state.list.count > Self.capacity { state.list.removeFirst(state.list.count - Self.capacity) }
        }
        return run
    }

    func run(_ id: String) -> Run? { runs.withLock { $0.list.first { $0.id == id } } }

    var all: [Run] { runs.withLock { $0.list } }

    /// Records `report` for a running run; nil when the run is unknown or already finished.
    func finish(_ id: String, _ report: () -> Report) -> Run? {
        runs.withLock { state in
            guard let index = state.list.firstIndex(where: { $0.id == id }), state.list[index].report == nil else { return nil }
            state.list[index].report = report()
            return state.list[index]
        }
    }
}

extension AdminController {
    static let certificationSchema: JSON = object(
        [
            ("kit", schema("string", [("description", .string("a kit of Profiles/certification (default scheduling)"))])),
            ("profile", schema("string", [("description", .string("a mounted profile the scenario applies to"))])),
            ("scenario", schema("string", [("description", .string("the scenario's id (certify --list)"))])),
        ], required: ["profile", "scenario"])

    /// Served by the default sandbox only (a run creates an isolated sandbox of its own).
    static let certificationRoutes: [Route] = [
        Route(
            method: .post, path: "/_admin/certifications",
            summary:
                "Start a certification run of one scenario: its sandbox's URLs, the client's credentials and the task; "
                + "the client works against them, then POST .../{id}/finish",
            requestSchema: certificationSchema, success: .created
        ) { controller, body, request throws(AdminError) in try controller.startCertification(body, request) },
        Route(method: .get, path: "/_admin/certifications", summary: "Certification runs, oldest first", requestSchema: nil) {
            controller, _, _ in .array(controller.sandbox.certifications.all.map { .object($0.json) })
        },
        Route(
            method: .get, path: "/_admin/certifications/{id}", summary: "One run: its state, and its report once finished",
            requestSchema: nil, idPattern: "^cert-[0-9]+$"
        ) { controller, _, request throws(AdminError) in
            let run = try controller.certification(request, position: 1)
            var object = run.json
            if let report = run.report { object["report"] = report.json }
            return .object(object)
        },
        Route(
            method: .post, path: "/_admin/certifications/{id}/finish",
            summary: "The client is done: run the checks, remove the run's sandbox, answer the report (JSON; HTML and JUnit linked)",
            requestSchema: nil, idPattern: "^cert-[0-9]+$"
        ) { controller, _, request throws(AdminError) in try controller.finishCertification(request) },
    ]

    func startCertification(_ body: JSON?, _ request: Request) throws(AdminError) -> JSON {
        guard case .object(let fields)? = body else { throw AdminError("expected {\"profile\", \"scenario\"[, \"kit\"]}") }
        for key in fields.keys where !["kit", "profile", "scenario"].contains(key) {
            throw AdminError("unknown field '\(key)'; allowed: kit, profile, scenario", field: key)
        }
        let kitName = fields["kit"]?.stringValue ?? "scheduling"
        guard let profile = fields["profile"]?.stringValue else { throw AdminError("profile is required", field: "profile") }
        guard let scenarioID = fields["scenario"]?.stringValue else { throw AdminError("scenario is required", field: "scenario") }
        let kits: [Kit]
        do {
            kits = try KitLoader.loadAll(directory: sandbox.configuration.profilesDirectory + "/certification")
        } catch {
            throw AdminError(status: .internalServerError, "the kits cannot be read: \(error.description)")
        }
        guard let kit = kits.first(where: { $0.name == kitName }) else {
            throw AdminError("no kit '\(kitName)' (kits: \(kits.map(\.name).joined(separator: ", ")))", field: "kit")
        }
        guard let scenario = kit.scenarios.first(where: { $0.id == scenarioID }) else {
            throw AdminError("kit \(kitName) has no scenario '\(scenarioID)'", field: "scenario")
        }
        guard scenario.profiles?.contains(profile) ?? true, sandbox.mounts.contains(where: { $0.profile.name == profile }) else {
            throw AdminError(
                "scenario \(scenarioID) does not apply to profile '\(profile)' on this server (it applies to "
                    + "\((scenario.profiles ?? ["every profile"]).joined(separator: ", ")))", field: "profile")
        }
        let origin = request.origin(sandbox.hosts)
        let certifier = Certifier(sandbox: sandbox, origin: origin)
        let run = try sandbox.certifications.add { id throws(AdminError) in
            CertificationRuns.Run(
                id: id, kit: kit, prepared: try certifier.prepare(scenario, profile: profile, id: id), created: Date(), report: nil)
        }
        var answer = run.json
        // The client gets its URLs, not the sandbox's admin API (it could disarm the scenario).
        var summary = run.prepared.made.summary(origin: origin)
        summary["admin"] = nil
        answer["sandbox"] = .object(summary)
        let environment = certifier.environment(mount: run.prepared.mount, scenario: scenario)
        var credentials = JSONObject()
        for (key, name) in [
            ("clientId", "FHIR_CLIENT_ID"), ("clientSecret", "FHIR_CLIENT_SECRET"), ("backendClientId", "FHIR_BACKEND_CLIENT_ID"),
            ("keyId", "FHIR_KEY_ID"), ("privateKeyFile", "FHIR_PRIVATE_KEY_FILE"),
        ] {
            credentials[key] = environment[name].map(JSON.string) ?? .null
        }
        answer["credentials"] = .object(credentials)
        var handed = JSONObject()
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("FHIR_") || name.hasPrefix("SCENARIO_") {
            handed[name] = .string(value)
        }
        answer["environment"] = .object(handed)
        answer["task"] = .object(scenario.task)
        answer["timeoutSeconds"] = .int(scenario.timeoutSeconds)
        answer["finish"] = .string(origin + "/_admin/certifications/\(run.id)/finish")
        return .object(answer)
    }

    func finishCertification(_ request: Request) throws(AdminError) -> JSON {
        let run = try certification(request, position: 2)
        let certifier = Certifier(sandbox: sandbox, origin: request.origin(sandbox.hosts))
        guard
            let finished = sandbox.certifications.finish(
                run.id,
                {
                    let result = certifier.finish(run.prepared, clientExit: nil, timedOut: false, output: "")
                    return Report(
                        kit: run.kit, profile: run.prepared.profile, command: ["(a client outside the sandbox)"],
                        startedAt: InstantFormat.iso(Int64(run.created.timeIntervalSince1970 * 1000)), scenarios: [result])
                }), let report = finished.report
        else { throw AdminError(status: .conflict, "run \(run.id) is already finished", field: "id") }
        let origin = request.origin(sandbox.hosts)
        var answer = finished.json
        answer["report"] = report.json
        answer["links"] = .object(
            JSONObject([
                "html": .string(origin + "/_admin/certifications/\(run.id)/report.html"),
                "junit": .string(origin + "/_admin/certifications/\(run.id)/junit.xml"),
            ]))
        return .object(answer)
    }

    /// The run the path names (`position` segments before the end).
    func certification(_ request: Request, position: Int) throws(AdminError) -> CertificationRuns.Run {
        let segments = request.uri.path.split(separator: "/")
        let id = segments.count >= position ? String(segments[segments.count - position]) : ""
        guard let run = sandbox.certifications.run(id) else {
            throw AdminError(status: .notFound, "no certification run '\(id)'", field: "id")
        }
        return run
    }

    /// `GET /_admin/certifications/{id}/report.html` and `/junit.xml`: a finished run's reports.
    static func addReportRoutes(to router: Router<BasicRequestContext>, sandbox: Sandbox, gate: AdminGuard) {
        for (suffix, type) in [("report.html", "text/html; charset=utf-8"), ("junit.xml", "application/xml; charset=utf-8")] {
            router.get(RouterPath("/_admin/certifications/:id/\(suffix)")) { request, context -> Response in
                if let refusal = gate.refusal(request) { return .json(refusal.status, refusal.json) }
                let id = context.parameters.get("id") ?? ""
                guard let report = sandbox.certifications.run(id)?.report else {
                    return .json(.notFound, AdminError(status: .notFound, "no finished certification run '\(id)'", field: "id").json)
                }
                let text = suffix == "report.html" ? report.html : report.junit
                return Response(
                    status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: Array(text.utf8))))
            }
        }
    }
}
