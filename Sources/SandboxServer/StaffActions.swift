import FHIRCore
import FHIRInteractions
import HTTPTypes
import SandboxProfiles
import Scheduling
import Synchronization

/// `POST /_admin/actions`: what the clinic's staff do in the EHR, on one tenant (`profile`) or
/// on every tenant of the sandbox, now or when the sandbox clock reaches `at`.
struct StaffAction: Sendable {
    enum Kind: String, Sendable, CaseIterable {
        case cancelAppointment = "cancel-appointment"
        case blockSchedule = "block-schedule"
        case bookSlot = "book-slot"
        case rescheduleAppointment = "reschedule-appointment"
        case updatePatient = "update-patient"
        case noShow = "no-show"
        case checkIn = "check-in"

        /// The fields each action takes (besides `action`, `profile` and `at`), required first.
        var fields: (required: [String], optional: [String]) {
            switch self {
            case .cancelAppointment: (["appointment"], ["reason"])
            case .blockSchedule: (["practitioner", "start", "end"], ["reason"])
            case .bookSlot: (["slot", "patient"], [])
            case .rescheduleAppointment: (["appointment", "slot"], [])
            case .updatePatient: (["patient", "set"], [])
            case .noShow, .checkIn: (["appointment"], [])
            }
        }
    }

    let kind: Kind
    let profile: String?
    let at: Int64?
    /// The request body as given (echoed by the schedule's listing).
    let body: JSONObject

    /// Reads an action; errors name the field.
    static func parse(_ json: JSON?, scope: any SandboxScope, zone: TimeZoneRule) throws(AdminError) -> StaffAction {
        guard let object = json?.objectValue else { throw AdminError("expected an action object: {\"action\": ..., ...}") }
        guard let name = object["action"]?.stringValue, let kind = Kind(rawValue: name) else {
            throw AdminError(
                "action must be one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))", field: "action")
        }
        let allowed = ["action", "profile", "at"] + kind.fields.required + kind.fields.optional
        for key in object.keys where !allowed.contains(key) {
            throw AdminError("unknown field '\(key)' for \(name); allowed: \(allowed.joined(separator: ", "))", field: key)
        }
        for key in kind.fields.required where object[key] == nil {
            throw AdminError("\(name) needs \(key)", field: key)
        }
        var profile: String?
        if let value = object["profile"] {
            guard let text = value.stringValue, scope.mount(named: text) != nil else {
                throw AdminError(
                    status: .notFound,
                    "profile must name a profile of this sandbox: \(scope.mounts.map(\.profile.name).joined(separator: ", "))",
                    field: "profile")
            }
            profile = text
        }
        for key in ["reason"] where object[key] != nil && object[key]?.stringValue == nil {
            throw AdminError("\(key) must be a string", field: key)
        }
        for key in ["start", "end"] where object[key] != nil {
            _ = try instant(object[key], key, zone)
        }
        if kind == .updatePatient {
            guard let set = object["set"]?.objectValue, !set.keys.isEmpty else {
                throw AdminError("set must be an object with phone and/or address", field: "set")
            }
            for key in set.keys where key != "phone" && key != "address" {
                throw AdminError("unknown field '\(key)' in set; allowed: phone, address", field: "set.\(key)")
            }
            if let phone = set["phone"], phone.stringValue?.isEmpty != false {
                throw AdminError("set.phone must be a string", field: "set.phone")
            }
            if let address = set["address"], address.objectValue == nil {
                throw AdminError("set.address must be a FHIR Address object", field: "set.address")
            }
        }
        return StaffAction(
            kind: kind, profile: profile, at: try object["at"].map { value throws(AdminError) in try instant(value, "at", zone) },
            body: object)
    }

    static func instant(_ value: JSON?, _ field: String, _ zone: TimeZoneRule) throws(AdminError) -> Int64 {
        guard let text = value?.stringValue, let parsed = FHIRDateTime.parse(text, form: .instant) else {
            throw AdminError("\(field) must be an instant with a time zone, e.g. 2026-04-13T10:02:00-05:00", field: field)
        }
        return parsed.startMilliseconds(in: zone)
    }

    /// Runs the action on its tenant, or on each tenant of the sandbox: per profile, the
    /// resources it changed (as that profile shows their ids) or its error. One tenant's error
    /// is the answer's when it is the only tenant acted on, or when every tenant failed alike.
    func run(on scope: any SandboxScope, zone: TimeZoneRule) throws(AdminError) -> JSONObject {
        let mounts = profile.flatMap { scope.mount(named: $0) }.map { [$0] } ?? scope.mounts
        var results = JSONObject()
        var errors: [FHIRError] = []
        for mount in mounts {
            do {
                let changed = try perform(on: mount, zone: zone)
                results[mount.profile.name] = .object(
                    JSONObject([
                        "ok": .bool(true),
                        "changed": .array(changed.map { .string("\($0.type)/\(mount.ids.external($0.id, type: $0.type))") }),
                    ]))
            } catch {
                errors.append(error)
                var failure = Self.adminError(error).json.objectValue ?? JSONObject()
                failure["ok"] = .bool(false)
                failure["status"] = .int(error.code.status)
                results[mount.profile.name] = .object(failure)
            }
        }
        if let first = errors.first, errors.count == mounts.count, errors.allSatisfy({ $0.code == first.code }) {
            throw Self.adminError(first)
        }
        return JSONObject(["action": .string(kind.rawValue), "results": .object(results)])
    }

    static func adminError(_ error: FHIRError) -> AdminError {
        AdminError(status: HTTPResponse.Status(code: error.code.status), error.message, field: error.issues.first?.expression.first)
    }

    /// The stored id an action's reference names on `mount`: `Type/id` or a bare id, a seed id
    /// or (with `profile`) the id that profile shows.
    func storedID(_ field: String, type: String, on mount: Sandbox.Mount) throws(FHIRError) -> String {
        guard let text = body[field]?.stringValue, !text.isEmpty else {
            throw FHIRError(.invalidParameter, "\(field) must be a reference such as \(type)/<id>", expression: [field])
        }
        var id = text
        if let parsed = ReferenceSyntax.parse(text) {
            guard parsed.type == type else {
                throw FHIRError(.invalidParameter, "\(field) must reference a \(type), not a \(parsed.type)", expression: [field])
            }
            id = parsed.id
        }
        return profile == nil ? id : mount.ids.internal(id, type: type) ?? id
    }

    func perform(on mount: Sandbox.Mount, zone: TimeZoneRule) throws(FHIRError) -> [(type: String, id: String)] {
        let desk = StaffDesk(service: mount.pipeline.service)
        try mount.tenant.seedIfNeeded()
        try mount.state.horizon.extend()
        func appointment() throws(FHIRError) -> String { try storedID("appointment", type: "Appointment", on: mount) }
        func changed(_ resource: JSONObject) -> [(type: String, id: String)] {
            [(resource["resourceType"]?.stringValue ?? "", resource["id"]?.stringValue ?? "")]
        }
        switch kind {
        case .cancelAppointment:
            return changed(
                try desk.cancel(appointment: try appointment(), reason: body["reason"]?.stringValue ?? "Cancelled by the clinic"))
        case .bookSlot:
            return changed(
                try desk.book(
                    slot: try storedID("slot", type: "Slot", on: mount), patient: try storedID("patient", type: "Patient", on: mount)))
        case .rescheduleAppointment:
            return changed(try desk.reschedule(appointment: try appointment(), slot: try storedID("slot", type: "Slot", on: mount)))
        case .noShow: return changed(try desk.mark(appointment: try appointment(), status: "noshow"))
        case .checkIn: return changed(try desk.mark(appointment: try appointment(), status: "checked-in"))
        case .updatePatient:
            let set = body["set"]?.objectValue ?? JSONObject()
            return changed(
                try desk.updatePatient(
                    try storedID("patient", type: "Patient", on: mount), phone: set["phone"]?.stringValue,
                    address: set["address"]?.objectValue))
        case .blockSchedule:
            guard let start = FHIRDateTime.parse(body["start"]?.stringValue ?? "", form: .instant)?.startMilliseconds(in: zone),
                let end = FHIRDateTime.parse(body["end"]?.stringValue ?? "", form: .instant)?.startMilliseconds(in: zone), start < end
            else { throw FHIRError(.invalidParameter, "end must be after start", expression: ["end"]) }
            let result = try desk.block(
                practitioner: try storedID("practitioner", type: "Practitioner", on: mount), start: start, end: end,
                reason: body["reason"]?.stringValue ?? "Provider unavailable")
            return result.cancelled.map { ("Appointment", $0) } + result.slots.map { ("Slot", $0) }
        }
    }
}

/// Staff actions waiting for the sandbox clock to reach their `at`, and what the fired ones did.
final class StaffSchedule: Sendable {
    struct Entry: Sendable {
        let id: String
        let action: StaffAction
        let zone: TimeZoneRule
        var outcome: JSON?
    }

    private let entries = Mutex<(next: Int, list: [Entry])>((1, []))
    /// The earliest pending instant (Int64.max: none), read without the lock on every request.
    private let earliest = Atomic<Int64>(.max)

    var hasPending: Bool { earliest.load(ordering: .acquiring) != .max }

    func add(_ action: StaffAction, zone: TimeZoneRule) -> String {
        entries.withLock { state in
            let id = "action-\(state.next)"
            state.next += 1
            state.list.append(Entry(id: id, action: action, zone: zone, outcome: nil))
            refresh(state.list)
            return id
        }
    }

    private func refresh(_ list: [Entry]) {
        earliest.store(list.filter { $0.outcome == nil }.compactMap(\.action.at).min() ?? .max, ordering: .releasing)
    }

    /// Takes the actions due at `now` (in instant order); the caller runs them and reports back.
    func due(at now: Int64) -> [Entry] {
        guard earliest.load(ordering: .acquiring) <= now else { return [] }
        return entries.withLock { state in
            let due = state.list.filter { $0.outcome == nil && ($0.action.at ?? .max) <= now }.sorted { $0.action.at! < $1.action.at! }
            for entry in due {
                if let index = state.list.firstIndex(where: { $0.id == entry.id }) { state.list[index].outcome = .object(JSONObject()) }
            }
            refresh(state.list)
            return due
        }
    }

    func record(_ id: String, outcome: JSON) {
        entries.withLock { state in
            if let index = state.list.firstIndex(where: { $0.id == id }) { state.list[index].outcome = outcome }
        }
    }

    func clear() {
        entries.withLock { state in
            state.list.removeAll()
            refresh(state.list)
        }
    }

    var json: JSON {
        .array(
            entries.withLock { $0.list }.map { entry in
                var object = entry.action.body
                object["id"] = .string(entry.id)
                object["state"] = .string(entry.outcome == nil ? "pending" : "fired")
                if let outcome = entry.outcome { object["outcome"] = outcome }
                return .object(object)
            })
    }
}

extension SandboxScope {
    /// Runs the staff actions whose instant the sandbox clock has reached (after a clock change,
    /// and before each request).
    func fireDueActions() {
        for entry in control.staff.due(at: clock.now()) {
            let outcome: JSON
            do {
                outcome = .object(try entry.action.run(on: self, zone: entry.zone))
            } catch {
                outcome = error.json
            }
            control.staff.record(entry.id, outcome: outcome)
        }
    }
}
