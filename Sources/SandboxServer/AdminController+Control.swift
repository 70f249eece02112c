import FHIRCore
import HTTPTypes
import Hummingbird
import SandboxFaults
import SandboxProfiles
import SandboxSeed

/// The test-control routes of the admin API: faults, rate limits, latency, staff actions.
extension AdminController {
    static func schema(_ type: String, _ extra: [(String, JSON)] = []) -> JSON {
        .object(
            JSONObject([JSONObject.Member(key: "type", value: .string(type))] + extra.map { JSONObject.Member(key: $0.0, value: $0.1) }))
    }

    static func object(_ properties: [(String, JSON)], required: [String] = [], closed: Bool = true) -> JSON {
        var members: [(String, JSON)] = [
            ("properties", .object(JSONObject(properties.map { JSONObject.Member(key: $0.0, value: $0.1) })))
        ]
        if !required.isEmpty { members.append(("required", .array(required.map(JSON.string)))) }
        if closed { members.append(("additionalProperties", .bool(false))) }
        return schema("object", members)
    }

    static let faultSchema: JSON = object(
        [
            (
                "match",
                object(FaultMatch.fieldNames.map { ($0, schema("string", [("minLength", .int(1)), ("maxLength", .int(512))])) })
            ),
            (
                "action",
                object(
                    [
                        ("type", schema("string", [("enum", .array(FaultAction.types.map(JSON.string)))])),
                        ("status", schema("integer", [("minimum", .int(400)), ("maximum", .int(599))])),
                        ("retryAfter", schema("integer", [("minimum", .int(0)), ("maximum", .int(86_400))])),
                        ("ms", schema("integer", [("minimum", .int(0)), ("maximum", .int(FaultRule.maxMilliseconds))])),
                        ("minMs", schema("integer", [("minimum", .int(0)), ("maximum", .int(FaultRule.maxMilliseconds))])),
                        ("maxMs", schema("integer", [("minimum", .int(0)), ("maximum", .int(FaultRule.maxMilliseconds))])),
                        ("seconds", schema("integer", [("minimum", .int(1)), ("maximum", .int(86_400))])),
                    ], required: ["type"])
            ),
            ("times", schema("integer", [("minimum", .int(1))])),
            ("after", schema("integer", [("minimum", .int(0))])),
            ("probability", schema("number", [("minimum", .int(0)), ("maximum", .int(1))])),
            ("seed", schema("integer", [("minimum", .int(0))])),
            ("expiresAfterSeconds", schema("integer", [("minimum", .int(1)), ("maximum", .int(31_536_000))])),
        ], required: ["action"])

    static let switchSchema: JSON = object([("enabled", schema("boolean"))], required: ["enabled"])
    static let latencySchema: JSON = object(
        [("mode", schema("string", [("enum", .array([.string("off"), .string("profile")]))]))], required: ["mode"])
    static let actionSchema: JSON = object(
        [
            ("action", schema("string", [("enum", .array(StaffAction.Kind.allCases.map { .string($0.rawValue) }))])),
            ("profile", schema("string")), ("at", schema("string", [("format", .string("date-time"))])),
            ("appointment", schema("string")), ("slot", schema("string")), ("patient", schema("string")),
            ("practitioner", schema("string")), ("start", schema("string", [("format", .string("date-time"))])),
            ("end", schema("string", [("format", .string("date-time"))])), ("reason", schema("string")),
            ("set", object([("phone", schema("string")), ("address", schema("object"))])),
        ], required: ["action"])

    static let controlRoutes: [Route] = [
        Route(
            method: .post, path: "/_admin/faults",
            summary:
                "Arm a fault rule ({match, action, times, after, probability, seed, expiresAfterSeconds}); 201 with the rule and its id",
            requestSchema: faultSchema, success: .created
        ) { controller, body, _ throws(AdminError) in try controller.armFault(body) },
        Route(
            method: .get, path: "/_admin/faults", summary: "The armed rules with their matches and hits (spent rules stay listed)",
            requestSchema: nil
        ) {
            controller, _, _ in
            let now = SandboxControl.wallNow
            return .array(controller.scope.control.faults.all.map { .object($0.json(at: now)) })
        },
        Route(method: .delete, path: "/_admin/faults", summary: "Disarm every rule (and end an outage)", requestSchema: nil) {
            controller, _, _ in .object(JSONObject(["disarmed": .int(controller.scope.control.faults.disarmAll())]))
        },
        Route(
            method: .get, path: "/_admin/faults/{id}", summary: "One rule with its counters", requestSchema: nil,
            idPattern: "^fault-[0-9]+$"
        ) { controller, _, request throws(AdminError) in
            .object(try controller.fault(request, remove: false).json(at: SandboxControl.wallNow))
        },
        Route(
            method: .delete, path: "/_admin/faults/{id}", summary: "Disarm one rule; the answer is the rule as it was", requestSchema: nil,
            idPattern: "^fault-[0-9]+$"
        ) { controller, _, request throws(AdminError) in
            .object(try controller.fault(request, remove: true).json(at: SandboxControl.wallNow))
        },
        Route(
            method: .get, path: "/_admin/rate-limits",
            summary: "Each profile's rate limits, whether they apply, and their current counters",
            requestSchema: nil
        ) { controller, _, _ in .object(controller.scope.control.limiter.json(now: SandboxControl.wallNow)) },
        Route(
            method: .put, path: "/_admin/rate-limits",
            summary:
                "Switch rate limits: {\"enabled\": true} turns on every limit the profiles define, false turns them off (counters restart)",
            requestSchema: switchSchema
        ) { controller, body, _ throws(AdminError) in
            guard let object = body?.objectValue, let enabled = object["enabled"]?.boolValue, object.keys.count == 1 else {
                throw AdminError("expected {\"enabled\": true|false}", field: "enabled")
            }
            controller.scope.control.limiter.set(enabled ? .on : .off)
            return .object(controller.scope.control.limiter.json(now: SandboxControl.wallNow))
        },
        Route(method: .get, path: "/_admin/latency", summary: "The latency mode and each profile's latency model", requestSchema: nil) {
            controller, _, _ in controller.latencyState()
        },
        Route(
            method: .put, path: "/_admin/latency", summary: "Set the latency mode: {\"mode\": \"off\"|\"profile\"}",
            requestSchema: latencySchema
        ) { controller, body, _ throws(AdminError) in
            guard let object = body?.objectValue, object.keys.count == 1, let text = object["mode"]?.stringValue,
                let mode = LatencySwitch.Mode(rawValue: text)
            else { throw AdminError("expected {\"mode\": \"off\"|\"profile\"}", field: "mode") }
            controller.scope.control.latency.set(mode)
            return controller.latencyState()
        },
        Route(
            method: .post, path: "/_admin/actions",
            summary:
                "A staff action in the EHR (cancel-appointment, block-schedule, book-slot, reschedule-appointment, update-patient, "
                + "no-show, check-in), now (state done: what changed, per profile) or when the sandbox clock reaches \"at\" (state pending)",
            requestSchema: actionSchema
        ) { controller, body, _ throws(AdminError) in try controller.staffAction(body) },
        Route(
            method: .get, path: "/_admin/actions", summary: "Scheduled staff actions: pending ones, and what fired ones did",
            requestSchema: nil
        ) {
            controller, _, _ in controller.scope.control.staff.json
        },
        Route(
            method: .delete, path: "/_admin/actions", summary: "Forget scheduled staff actions (pending ones never fire)",
            requestSchema: nil
        ) {
            controller, _, _ in
            controller.scope.control.staff.clear()
            return .object(JSONObject(["cleared": .bool(true)]))
        },
    ]

    func armFault(_ body: JSON?) throws(AdminError) -> JSON {
        let rule: FaultRule
        do {
            rule = try FaultRule.parse(body ?? .null)
        } catch {
            throw AdminError(error.message, field: error.field)
        }
        if let profile = rule.match.profile, scope.mount(named: profile) == nil {
            throw AdminError(
                "match.profile must name a profile of this sandbox: \(scope.mounts.map(\.profile.name).joined(separator: ", "))",
                field: "match.profile")
        }
        guard let armed = scope.control.faults.arm(rule, now: SandboxControl.wallNow) else {
            throw AdminError(status: .tooManyRequests, "a sandbox holds at most \(FaultBook.capacity) rules; delete some first")
        }
        return .object(armed.json(at: SandboxControl.wallNow))
    }

    func fault(_ request: Request, remove: Bool) throws(AdminError) -> FaultBook.Status {
        let id = request.uri.path.split(separator: "/").last.map(String.init) ?? ""
        let found = remove ? scope.control.faults.disarm(id: id) : scope.control.faults.rule(id: id)
        guard let found else { throw AdminError(status: .notFound, "no fault rule '\(id)'", field: "id") }
        return found
    }

    func latencyState() -> JSON {
        var models = JSONObject()
        for mount in scope.mounts { models[mount.profile.name] = mount.profile.latency.map { .object($0.json) } ?? .null }
        return .object(JSONObject(["mode": .string(scope.control.latency.mode.rawValue), "profiles": .object(models)]))
    }

    /// Runs a staff action now, or schedules it (`state: pending`) when `at` is later than the sandbox clock.
    func staffAction(_ body: JSON?) throws(AdminError) -> JSON {
        let zone = sandbox.seed.zone
        let action = try StaffAction.parse(body, scope: scope, zone: zone)
        if let at = action.at, at > scope.clock.now() {
            let id = scope.control.staff.add(action, zone: zone)
            return .object(JSONObject(["id": .string(id), "state": .string("pending"), "at": .string(InstantFormat.iso(at))]))
        }
        var done = try action.run(on: scope, zone: zone)
        done["state"] = .string("done")
        return .object(done)
    }
}
