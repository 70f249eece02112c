import ChangeFeeds
import FHIRCore
import FHIRInteractions
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SandboxFaults
import SandboxProfiles
import SandboxSeed

/// Isolated sandboxes: `/_admin/sandboxes` creates, lists and deletes them; everything under
/// `/sandboxes/{id}/` is answered by that sandbox's own routes (its profiles' FHIR and OAuth
/// endpoints and its admin API), each built from the compiled profiles the server already holds.
struct SandboxesController: Sendable {
    let sandbox: Sandbox
    var registry: IsolatedSandboxes { sandbox.isolated }

    static let idPattern = "^[A-Za-z0-9-]{1,64}$"
    static let defaultTTL = 3600
    static let maxTTL = 7 * 86_400

    /// What the admin OpenAPI document says of these routes (path, method, summary, takes a body).
    static let documented: [(path: String, method: String, summary: String, body: Bool)] = [
        ("/_admin/sandboxes", "get", "Every live isolated sandbox: id, profiles and their URLs, created, lastUsed, expiresAt", false),
        (
            "/_admin/sandboxes", "post",
            "Create an isolated sandbox (server-chosen id), 201: {\"profiles\": [names], \"clock\": {\"now\", \"frozen\"}, \"ttlSeconds\"}",
            true
        ),
        ("/_admin/sandboxes/{id}", "get", "One isolated sandbox", false),
        (
            "/_admin/sandboxes/{id}", "put",
            "Create the sandbox with this id ([A-Za-z0-9-]{1,64}): 201, or 200 when it exists (idempotent); same body as POST", true
        ),
        ("/_admin/sandboxes/{id}", "delete", "Delete a sandbox: 204; its URLs answer 404 afterwards", false),
    ]

    static let bodySchema: JSON = .object(
        JSONObject([
            "type": .string("object"),
            "properties": .object(
                JSONObject([
                    "profiles": .object(
                        JSONObject(["type": .string("array"), "items": .object(JSONObject(["type": .string("string")]))])),
                    "clock": AdminController.clockSchema,
                    "ttlSeconds": .object(
                        JSONObject(["type": .string("integer"), "minimum": .int(1), "maximum": .int(Self.maxTTL)])),
                    "rateLimits": .object(JSONObject(["type": .string("boolean")])),
                    "latency": .object(JSONObject(["type": .string("string"), "enum": .array([.string("off"), .string("profile")])])),
                ])),
            "additionalProperties": .bool(false),
        ]))

    func addRoutes(to router: Router<BasicRequestContext>) {
        let gate = AdminGuard(hosts: sandbox.hosts, token: sandbox.configuration.adminToken)
        func admin(
            _ path: String, _ method: HTTPRequest.Method,
            _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws(AdminError) -> Response
        ) {
            router.on(RouterPath(path), method: method) { request, context -> Response in
                if let refusal = gate.refusal(request) { return .json(refusal.status, refusal.json) }
                do {
                    return try await handler(request, context)
                } catch let error as AdminError {
                    return .json(error.status, error.json)
                }
            }
        }
        admin("/_admin/sandboxes", .get) { request, _ throws(AdminError) in
            let origin = request.origin(sandbox.hosts)
            return .json(.ok, .array(registry.all.map { .object($0.summary(origin: origin)) }))
        }
        admin("/_admin/sandboxes", .post) { request, _ throws(AdminError) in
            try await create(id: UUID().uuidString.lowercased(), request: request, idempotent: false)
        }
        admin("/_admin/sandboxes/{id}", .put) { request, context throws(AdminError) in
            let id = context.parameters.get("id") ?? ""
            guard id.wholeMatch(of: /[A-Za-z0-9-]{1,64}/) != nil else {
                throw AdminError("a sandbox id is 1 to 64 of A-Z a-z 0-9 -", field: "id")
            }
            return try await create(id: id, request: request, idempotent: true)
        }
        admin("/_admin/sandboxes/{id}", .get) { request, context throws(AdminError) in
            let id = context.parameters.get("id") ?? ""
            guard let found = registry.sandbox(id) else { throw AdminError(status: .notFound, "no sandbox '\(id)'", field: "id") }
            return .json(.ok, .object(found.summary(origin: request.origin(sandbox.hosts))))
        }
        AdminController.refuseOtherMethods(router, path: "/_admin/sandboxes", declared: [.get, .post])
        AdminController.refuseOtherMethods(router, path: "/_admin/sandboxes/{id}", declared: [.put, .get, .delete])
        admin("/_admin/sandboxes/{id}", .delete) { _, context throws(AdminError) in
            let id = context.parameters.get("id") ?? ""
            guard let removed = registry.sandbox(id), registry.remove(id) else {
                throw AdminError(status: .notFound, "no sandbox '\(id)'", field: "id")
            }
            // Its subscriptions stop delivering (queued notifications are dropped).
            for mount in removed.mounts {
                mount.runtime.subscriptions?.stop()
                mount.feed.stop()
            }
            return Response(status: .noContent)
        }
        // Everything under a sandbox's prefix goes to its own routes.
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete, .head, .options] {
            router.on("/sandboxes/{id}/**", method: method) { request, context -> Response in
                let id = context.parameters.get("id") ?? ""
                guard let found = registry.sandbox(id), let routes = found.routes else {
                    return Response(
                        .error(FHIRError(.notFound, "no sandbox '\(id)' (deleted, expired after its ttlSeconds unused, or never created)")))
                }
                found.touch()
                return try await routes.respond(to: request, context: context)
            }
        }
    }

    /// `POST` (server-chosen id) or `PUT` (the client's, idempotent) of a sandbox.
    func create(id: String, request: Request, idempotent: Bool) async throws(AdminError) -> Response {
        let body = try await Self.body(request)
        let origin = request.origin(sandbox.hosts)
        // Made first (about a millisecond), then inserted atomically: an id taken meanwhile, or
        // already, keeps its sandbox.
        let made = try make(id: id, body: body)
        switch registry.insert(made) {
        case .exists(let existing):
            guard idempotent else { throw AdminError(status: .conflict, "sandbox '\(id)' exists", field: "id") }
            existing.touch()
            return .json(.ok, .object(existing.summary(origin: origin)))
        case .full:
            throw AdminError(
                status: .tooManyRequests,
                "\(registry.limit) isolated sandboxes exist (--max-sandboxes); delete one (DELETE /_admin/sandboxes/{id}) or let one expire"
            )
        case .inserted:
            var response = Response.json(.created, .object(made.summary(origin: origin)))
            response.headers[.location] = origin + "/_admin/sandboxes/" + id
            return response
        }
    }

    /// A new sandbox from the creation body: its tenants (copies of the snapshot, made on first
    /// use), its clock, and its routes.
    func make(id: String, body: JSONObject) throws(AdminError) -> IsolatedSandbox {
        for key in body.keys where !["profiles", "clock", "ttlSeconds", "rateLimits", "latency"].contains(key) {
            throw AdminError("unknown field '\(key)'; allowed: profiles, clock, ttlSeconds, rateLimits, latency", field: key)
        }
        var rateLimits: RateLimiter.Mode = sandbox.configuration.rateLimits ? .defaults : .off
        if let item = body["rateLimits"] {
            guard let flag = item.boolValue else { throw AdminError("rateLimits must be true or false", field: "rateLimits") }
            rateLimits = flag ? .on : .off
        }
        var latency: LatencySwitch.Mode = sandbox.configuration.latencyProfile ? .profile : .off
        if let item = body["latency"] {
            guard let text = item.stringValue, let mode = LatencySwitch.Mode(rawValue: text) else {
                throw AdminError("latency must be \"off\" or \"profile\"", field: "latency")
            }
            latency = mode
        }
        let mounted = sandbox.mounts.map(\.profile.name)
        var profiles: [String]?
        if let item = body["profiles"] {
            guard let names = item.arrayValue?.compactMap(\.stringValue), names.count == item.arrayValue?.count, !names.isEmpty,
                names.allSatisfy(mounted.contains)
            else {
                throw AdminError(
                    "profiles must be a non-empty list of mounted profiles: \(mounted.joined(separator: ", "))", field: "profiles")
            }
            profiles = names
        }
        var ttl = Self.defaultTTL
        if let item = body["ttlSeconds"] {
            guard let text = item.numberText, let value = Int(text), (1...Self.maxTTL).contains(value) else {
                throw AdminError("ttlSeconds must be a whole number from 1 to \(Self.maxTTL)", field: "ttlSeconds")
            }
            ttl = value
        }
        let clock = SandboxClock(system: { Int64(Date().timeIntervalSince1970 * 1000) })
        if let item = body["clock"] {
            guard case .object(let object) = item, object.keys.allSatisfy(["now", "frozen"].contains) else {
                throw AdminError("clock is {\"now\": instant, \"frozen\": bool}", field: "clock")
            }
            var instant = clock.now()
            if let now = object["now"] {
                guard let text = now.stringValue, let parsed = FHIRDateTime.parse(text, form: .instant) else {
                    throw AdminError("clock.now must be an instant with a time zone, e.g. 2026-04-13T08:00:00-05:00", field: "clock")
                }
                instant = parsed.startMilliseconds(in: sandbox.seed.zone)
            }
            guard object["frozen"] == nil || object["frozen"]?.boolValue != nil else {
                throw AdminError("clock.frozen must be true or false", field: "clock")
            }
            clock.set(instant, frozen: object["frozen"]?.boolValue ?? false)
        }
        let prefix = "/sandboxes/\(id)"
        let control = Sandbox.control(
            sandbox.compiled.map(\.profile).filter { profiles?.contains($0.name) ?? true }, rateLimits: rateLimits, latency: latency)
        let mounts: [Sandbox.Mount]
        do {
            mounts = try sandbox.makeMounts(prefix: prefix, profiles: profiles, clock: clock, control: control)
        } catch {
            throw AdminError(status: .internalServerError, "cannot create the sandbox: \(error.message)")
        }
        let made = IsolatedSandbox(
            id: id, mounts: mounts, clock: clock, control: control, ttl: TimeInterval(ttl), snapshot: sandbox.snapshot)
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ErrorMiddleware(bases: mounts.flatMap(\.bases)))
        AdminController(sandbox: sandbox, scope: made).addRoutes(to: router)
        for mount in mounts { mount.addRoutes(to: router, hosts: sandbox.hosts) }
        made.attach(router.buildResponder())
        return made
    }

    static func body(_ request: Request) async throws(AdminError) -> JSONObject {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: 65536)
        } catch {
            throw AdminError(status: .contentTooLarge, "admin request bodies are limited to 64 KiB")
        }
        let bytes = Array(buffer.readableBytesView)
        guard !bytes.isEmpty else { return JSONObject() }
        let parsed: JSON
        do throws(JSONParseError) {
            parsed = try JSONParser.parse(bytes)
        } catch {
            throw AdminError("the body is not valid JSON: \(error.description)")
        }
        guard case .object(let object) = parsed else { throw AdminError("the body must be a JSON object") }
        return object
    }
}
