import FHIRCore
import FHIRInteractions
import FHIRSearch
import HTTPTypes
import Hummingbird
import NIOCore
import SandboxAuth
import SandboxFaults
import SandboxProfiles
import SandboxSeed

/// `/_admin/*`: JSON in, JSON out, for tests and trainers. Routes are declared once in
/// `routes`, which both registers them and produces `/_admin/openapi.json`.
struct AdminController: Sendable {
    /// The server: seed, clients, host policy, configuration.
    let sandbox: Sandbox
    /// The sandbox the routes act on (the default one, or an isolated one under its prefix).
    let scope: any SandboxScope

    init(sandbox: Sandbox, scope: (any SandboxScope)? = nil) {
        self.sandbox = sandbox
        self.scope = scope ?? sandbox
    }

    /// One admin route: how it is registered and documented.
    struct Route: Sendable {
        let method: HTTPRequest.Method
        let path: String
        let summary: String
        /// JSON Schema of the request body, if it takes one.
        let requestSchema: JSON?
        /// The status of a successful answer.
        var success: HTTPResponse.Status = .ok
        /// The pattern of the route's `{id}` (nil: an integer).
        var idPattern: String?
        let handler: @Sendable (AdminController, JSON?, Request) throws(AdminError) -> JSON
    }

    static let clockSchema: JSON = .object(
        JSONObject([
            "type": .string("object"),
            "properties": .object(
                JSONObject([
                    "now": .object(JSONObject(["type": .string("string"), "format": .string("date-time")])),
                    "frozen": .object(JSONObject(["type": .string("boolean")])),
                ])),
            "additionalProperties": .bool(false),
        ]))

    static let advanceSchema: JSON = .object(
        JSONObject([
            "type": .string("object"),
            "properties": .object(JSONObject(["seconds": .object(JSONObject(["type": .string("integer")]))])),
            "required": .array([.string("seconds")]),
            "additionalProperties": .bool(false),
        ]))

    static let clientSchema: JSON = .object(
        JSONObject([
            "type": .string("object"),
            "properties": .object(
                JSONObject([
                    "id": .object(JSONObject(["type": .string("string")])),
                    "type": .object(
                        JSONObject([
                            "type": .string("string"),
                            "enum": .array(OAuthClient.Kind.allCases.map { .string($0.rawValue) }),
                        ])),
                    "secret": .object(JSONObject(["type": .string("string")])),
                    "jwks": .object(JSONObject(["type": .string("object")])),
                    "jwksUri": .object(JSONObject(["type": .string("string"), "format": .string("uri")])),
                    "redirectUris": .object(
                        JSONObject(["type": .string("array"), "items": .object(JSONObject(["type": .string("string")]))])),
                    "scopes": .object(JSONObject(["type": .string("array"), "items": .object(JSONObject(["type": .string("string")]))])),
                    "grantTypes": .object(
                        JSONObject(["type": .string("array"), "items": .object(JSONObject(["type": .string("string")]))])),
                    "autoApprove": .object(JSONObject(["type": .string("boolean")])),
                    "launchPatient": .object(JSONObject(["type": .string("string")])),
                    "tokenMinutes": .object(JSONObject(["type": .string("integer")])),
                    "enabled": .object(JSONObject(["type": .string("boolean")])),
                    "jwksAllowListed": .object(JSONObject(["type": .string("boolean")])),
                ])),
            "required": .array([.string("id"), .string("type")]),
            "additionalProperties": .bool(false),
        ]))

    static let lockSchema: JSON = .object(
        JSONObject([
            "type": .string("object"),
            "properties": .object(
                JSONObject([
                    "profile": .object(JSONObject(["type": .string("string")])),
                    "type": .object(JSONObject(["type": .string("string")])),
                    "id": .object(JSONObject(["type": .string("string")])),
                    "seconds": .object(JSONObject(["type": .string("integer"), "minimum": .int(1)])),
                ])),
            "required": .array([.string("profile"), .string("type"), .string("id"), .string("seconds")]),
            "additionalProperties": .bool(false),
        ]))

    static let routes: [Route] = baseRoutes + controlRoutes + deliveryRoutes + hl7Routes

    static let baseRoutes: [Route] = [
        Route(method: .post, path: "/_admin/reset", summary: "Reset every tenant to its seeded state", requestSchema: nil) {
            controller, _, _ throws(AdminError) in try controller.reset()
        },
        Route(method: .get, path: "/_admin/clock", summary: "Read the sandbox clock", requestSchema: nil) { controller, _, _ in
            controller.clockState()
        },
        Route(
            method: .put, path: "/_admin/clock",
            summary: "Set the sandbox clock: {\"now\": instant, \"frozen\": bool}; either may be omitted", requestSchema: clockSchema
        ) { controller, body, _ throws(AdminError) in try controller.setClock(body) },
        Route(
            method: .post, path: "/_admin/clock/advance", summary: "Move the sandbox clock by {\"seconds\": N} (negative goes back)",
            requestSchema: advanceSchema
        ) { controller, body, _ throws(AdminError) in try controller.advance(body) },
        Route(method: .get, path: "/_admin/clients", summary: "The registered OAuth clients (secrets omitted)", requestSchema: nil) {
            controller, _, _ in .array(controller.sandbox.clients.all.map { .object($0.json) })
        },
        Route(
            method: .post, path: "/_admin/clients",
            summary: "Register or replace an OAuth client (the keys of Seeds/default/clients.yaml); reset forgets it",
            requestSchema: clientSchema
        ) { controller, body, _ throws(AdminError) in
            guard case .object(let object) = body ?? .null else { throw AdminError("expected a client object") }
            do throws(JOSEError) {
                let client = try OAuthClient.from(json: object)
                if let url = client.jwksURI, !controller.sandbox.jwksAllowList.allows(url) {
                    throw JOSEError("jwksUri: \(FetchAllowList.refusal(url))")
                }
                let created = controller.sandbox.clients.register(client)
                var echo = client.json
                echo["created"] = .bool(created)
                return .object(echo)
            } catch {
                let field = error.description.split(separator: ":").first.map(String.init)
                throw AdminError(error.description, field: field.flatMap { object[$0] != nil ? $0 : nil })
            }
        },
        Route(
            method: .get, path: "/_admin/compare",
            summary: "One seed resource as every profile renders it: ?type=Patient&seedId=pat-0001 (vendor ids map back to seed ids)",
            requestSchema: nil
        ) { controller, _, request throws(AdminError) in try controller.compare(request) },
        Route(method: .get, path: "/_admin/locks", summary: "Resources locked by POST /_admin/locks, per profile", requestSchema: nil) {
            controller, _, _ in controller.locks()
        },
        Route(
            method: .post, path: "/_admin/locks",
            summary:
                "Lock a resource as if someone else were editing it: {\"profile\", \"type\", \"id\" (seed or vendor id), \"seconds\"}; "
                + "its updates, patches and deletes answer 423 (locked) until then (sandbox time); reset clears locks",
            requestSchema: lockSchema
        ) { controller, body, _ throws(AdminError) in try controller.lock(body) },
        Route(method: .delete, path: "/_admin/locks", summary: "Release every lock", requestSchema: nil) { controller, _, _ in
            for mount in controller.scope.mounts { mount.tenant.locks.removeAll() }
            return controller.locks()
        },
        Route(
            method: .get, path: "/_admin/requests",
            summary:
                "The sandbox's recent requests, newest first (at most \(RequestJournal.capacity) kept; bodies up to "
                + "\(RequestJournal.bodyLimit) bytes; tokens and secrets redacted). Filters: profile, method, path (glob, * and ?), "
                + "status, clientId, since (instant), limit (default 100)",
            requestSchema: nil
        ) { controller, _, request throws(AdminError) in try controller.requests(request) },
        Route(method: .get, path: "/_admin/requests/{id}", summary: "One journal entry, with its bodies", requestSchema: nil) {
            controller, _, request throws(AdminError) in
            let text = request.uri.path.split(separator: "/").last.map(String.init) ?? ""
            guard let id = Int(text), let entry = controller.scope.journal.entry(id: id) else {
                throw AdminError(
                    status: .notFound, "no journal entry '\(text)' (it may have been dropped: the journal keeps the latest)", field: "id")
            }
            return RequestJournal.json(entry, full: true)
        },
        Route(method: .delete, path: "/_admin/requests", summary: "Clear the sandbox's request journal", requestSchema: nil) {
            controller, _, _ in
            controller.scope.journal.clear()
            return .object(JSONObject(["cleared": .bool(true)]))
        },
        Route(method: .get, path: "/_admin/openapi.json", summary: "This document", requestSchema: nil) { _, _, _ in
            AdminController.openAPI()
        },
    ]

    func addRoutes(to router: Router<BasicRequestContext>) {
        let gate = AdminGuard(hosts: sandbox.hosts, token: sandbox.configuration.adminToken)
        // Certification runs belong to the server, not to an isolated sandbox.
        let routes = Self.routes + (scope.prefix.isEmpty ? Self.certificationRoutes : [])
        if scope.prefix.isEmpty { Self.addReportRoutes(to: router, sandbox: sandbox, gate: gate) }
        var declared: [String: [HTTPRequest.Method]] = [:]
        for route in routes { declared[route.path, default: []].append(route.method) }
        for (path, methods) in declared { Self.refuseOtherMethods(router, path: scope.prefix + path, declared: methods) }
        for route in routes {
            router.on(RouterPath(scope.prefix + route.path), method: route.method) {
                (request: Request, _: BasicRequestContext) -> Response in
                if let refusal = gate.refusal(request) { return .json(refusal.status, refusal.json) }
                do {
                    var body: JSON?
                    if route.requestSchema != nil {
                        var buffer: ByteBuffer
                        do {
                            buffer = try await request.body.collect(upTo: 65536)
                        } catch {
                            throw AdminError(status: .contentTooLarge, "admin request bodies are limited to 64 KiB")
                        }
                        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
                        do throws(JSONParseError) {
                            body = bytes.isEmpty ? .object(JSONObject()) : try JSONParser.parse(bytes)
                        } catch {
                            throw AdminError("the body is not valid JSON: \(error.description)")
                        }
                    }
                    return .json(route.success, try route.handler(self, body, request))
                } catch let error as AdminError {
                    return .json(error.status, error.json)
                }
            }
        }
    }

    /// `GET /_admin/requests?...`: the journal, filtered, newest first (bodies: ask for one entry).
    func requests(_ request: Request) throws(AdminError) -> JSON {
        var filter = RequestJournal.Filter()
        for (name, value) in QueryString.parse(request.uri.query ?? "") {
            switch name {
            case "profile": filter.profile = value
            case "method": filter.method = value
            case "path": filter.path = value
            case "clientId": filter.clientID = value
            case "status":
                guard let status = Int(value), status == 0 || (100...599).contains(status) else {
                    throw AdminError("status must be an HTTP status code (0: closed without an answer)", field: "status")
                }
                filter.status = status
            case "since":
                guard let instant = FHIRDateTime.parse(value, form: .instant) else {
                    throw AdminError("since must be an instant with a time zone, e.g. 2026-04-13T08:00:00Z", field: "since")
                }
                filter.since = instant.startMilliseconds(in: .utc)
            case "limit":
                guard let limit = Int(value), (1...RequestJournal.capacity).contains(limit) else {
                    throw AdminError("limit must be from 1 to \(RequestJournal.capacity)", field: "limit")
                }
                filter.limit = limit
            case "full": break
            default:
                throw AdminError(
                    "unknown filter '\(name)'; allowed: profile, method, path, status, clientId, since, limit, full", field: name)
            }
        }
        let full = QueryString.parse(request.uri.query ?? "").contains { $0.name == "full" && $0.value != "false" }
        return .array(scope.journal.entries(filter).map { RequestJournal.json($0, full: full) })
    }

    /// `GET /_admin/compare?type=T&seedId=ID`: each mounted profile's rendering of the same seed
    /// resource (read through its pipeline, without its auth), with the vendor id it shows.
    func compare(_ request: Request) throws(AdminError) -> JSON {
        let query = QueryString.parse(request.uri.query ?? "")
        guard let type = query.last(where: { $0.name == "type" })?.value, !type.isEmpty else {
            throw AdminError("type is required, e.g. ?type=Patient&seedId=pat-0001", field: "type")
        }
        guard let seedID = query.last(where: { $0.name == "seedId" })?.value, !seedID.isEmpty else {
            throw AdminError("seedId is required, e.g. ?type=Patient&seedId=pat-0001", field: "seedId")
        }
        let origin = request.origin(sandbox.hosts) + scope.prefix
        var profiles = JSONObject()
        for mount in scope.mounts {
            let vendorID = mount.ids.external(seedID, type: type)
            // A vendor's required context (athena's practice) goes with the read, and in the URL.
            let context = mount.profile.context.map { [(name: $0.parameter, value: $0.value)] } ?? []
            let response = mount.pipeline.handle(
                FHIRRequest(method: "GET", segments: [type, vendorID], query: context, baseURL: origin + mount.profile.fhirBase))
            var entry = JSONObject()
            entry["id"] = .string(vendorID)
            entry["url"] = .string(
                origin + mount.profile.fhirBase + "/" + type + "/" + vendorID + (context.isEmpty ? "" : "?" + QueryString.encode(context)))
            entry["status"] = .int(response.status)
            if let json = try? JSONParser.parse(response.body) { entry["resource"] = json }
            profiles[mount.profile.name] = .object(entry)
        }
        return .object(JSONObject(["type": .string(type), "seedId": .string(seedID), "profiles": .object(profiles)]))
    }

    func reset() throws(AdminError) -> JSON {
        let started = ContinuousClock.now
        do {
            try scope.reset()
            // A reset sandbox starts its rate-limit windows afresh too.
            scope.control.limiter.restartCounters()
        } catch {
            throw AdminError(status: .internalServerError, "reset failed: \(error.message)")
        }
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
        return .object(
            JSONObject([
                "status": .string("reset"), "tenants": .array(scope.mounts.map { .string($0.profile.name) }),
                "milliseconds": .number(String(format3(milliseconds))),
            ]))
    }

    private func format3(_ value: Double) -> String {
        let scaled = Int((value * 1000).rounded())
        let fraction = scaled % 1000
        return "\(scaled / 1000)." + (fraction < 10 ? "00" : fraction < 100 ? "0" : "") + "\(fraction)"
    }

    func clockState() -> JSON {
        let now = scope.clock.now()
        return .object(
            JSONObject([
                "now": .string(InstantFormat.iso(now)), "local": .string(sandbox.seed.format(now)),
                "timeZone": .string(sandbox.seed.zone.name), "frozen": .bool(scope.clock.isFrozen), "epochMillis": .int(Int(now)),
            ]))
    }

    func setClock(_ body: JSON?) throws(AdminError) -> JSON {
        guard case .object(let object) = body ?? .null else {
            throw AdminError("expected a JSON object such as {\"now\": \"2026-04-13T08:00:00-05:00\", \"frozen\": true}")
        }
        for key in object.keys where key != "now" && key != "frozen" {
            throw AdminError("unknown field '\(key)'; allowed: now, frozen", field: key)
        }
        var instant = scope.clock.now()
        if let now = object["now"] {
            guard let text = now.stringValue, let parsed = FHIRDateTime.parse(text, form: .instant) else {
                throw AdminError("now must be an instant with a time zone, e.g. 2026-04-13T08:00:00-05:00", field: "now")
            }
            instant = parsed.startMilliseconds(in: sandbox.seed.zone)
        }
        var frozen = scope.clock.isFrozen
        if let flag = object["frozen"] {
            guard let value = flag.boolValue else { throw AdminError("frozen must be true or false", field: "frozen") }
            frozen = value
        }
        scope.clock.set(instant, frozen: frozen)
        scope.fireDueActions()
        return clockState()
    }

    func locks() -> JSON {
        let now = scope.clock.now()
        var result = JSONObject()
        for mount in scope.mounts {
            result[mount.profile.name] = .array(
                mount.tenant.locks.all(now: now).map { lock in
                    .object(JSONObject(["resource": .string(lock.key), "until": .string(InstantFormat.iso(lock.until))]))
                })
        }
        return .object(result)
    }

    func lock(_ body: JSON?) throws(AdminError) -> JSON {
        guard case .object(let object) = body ?? .null else { throw AdminError("expected {\"profile\", \"type\", \"id\", \"seconds\"}") }
        for key in object.keys where !["profile", "type", "id", "seconds"].contains(key) {
            throw AdminError("unknown field '\(key)'; allowed: profile, type, id, seconds", field: key)
        }
        guard let name = object["profile"]?.stringValue, let mount = scope.mount(named: name) else {
            throw AdminError(
                "profile must be one of \(scope.mounts.map(\.profile.name).joined(separator: ", "))", field: "profile")
        }
        guard let type = object["type"]?.stringValue, sandbox.registry.supports(type) else {
            throw AdminError("type must be a resource type this server serves", field: "type")
        }
        guard let given = object["id"]?.stringValue, !given.isEmpty else { throw AdminError("id is required", field: "id") }
        guard let text = object["seconds"]?.numberText, let seconds = Int64(text), (1...(366 * 86_400)).contains(seconds) else {
            throw AdminError("seconds must be a whole number from 1 to 31622400", field: "seconds")
        }
        // A vendor id (e…3, 12724…, composite) or the seed id.
        let id = mount.ids.internal(given, type: type) ?? given
        let until = scope.clock.now() + seconds * 1000
        mount.tenant.locks.lock(type, id, until: until)
        return .object(
            JSONObject([
                "profile": .string(name), "resource": .string("\(type)/\(id)"), "until": .string(InstantFormat.iso(until)),
            ]))
    }

    func advance(_ body: JSON?) throws(AdminError) -> JSON {
        guard case .object(let object) = body ?? .null else { throw AdminError("expected {\"seconds\": N}") }
        for key in object.keys where key != "seconds" { throw AdminError("unknown field '\(key)'; allowed: seconds", field: key) }
        let limit: Int64 = 100 * 365 * 86_400
        guard let text = object["seconds"]?.numberText, let seconds = Int64(text), (-limit...limit).contains(seconds) else {
            throw AdminError("seconds must be a whole number within ±\(limit) (100 years)", field: "seconds")
        }
        // The clock stays within years 1 to 9999 (what FHIR instants can say).
        let target = scope.clock.now() + seconds * 1000
        guard (-62_135_596_800_000...253_402_300_799_999).contains(target) else {
            throw AdminError("moving the clock by \(seconds) s would leave years 1 to 9999", field: "seconds")
        }
        scope.clock.advance(by: seconds * 1000)
        scope.fireDueActions()
        return clockState()
    }

}

/// A bad admin request: status, message and the offending field.
struct AdminError: Error {
    let status: HTTPResponse.Status
    let message: String
    let field: String?

    init(status: HTTPResponse.Status = .badRequest, _ message: String, field: String? = nil) {
        self.status = status
        self.message = message
        self.field = field
    }

    /// `bad_request`, `not_found`, `conflict`, ...: the status's standard reason, snake-cased.
    static func name(_ status: HTTPResponse.Status) -> String {
        let reasons = [
            400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 409: "conflict",
            413: "content_too_large", 415: "unsupported_media_type", 422: "unprocessable_content", 423: "locked",
            429: "too_many_requests", 500: "internal_server_error",
        ]
        return reasons[status.code] ?? status.reasonPhrase.lowercased().replacing(" ", with: "_")
    }

    var json: JSON {
        var object = JSONObject()
        object["error"] = .string(Self.name(status))
        object["message"] = .string(message)
        if let field { object["field"] = .string(field) }
        return .object(object)
    }
}
