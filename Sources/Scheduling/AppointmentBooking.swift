import FHIRCore
import FHIRInteractions
import FHIRSearch
import FHIRStore
import SandboxSeed

/// The write hook for Appointment: booking, cancelling and rescheduling move slots in the same
/// transaction as the Appointment itself, after the status model and the booking rules agree.
/// Slots change by compare-and-set (free → busy), so a slot can be taken once only.
public struct AppointmentBooking: WriteHook {
    public let rules: BookingRules
    public let parser: SearchQueryParser
    /// A profile's own Appointment rules (nil: R4's status model).
    public let policy: (any AppointmentPolicy)?

    public init(seed: Seed, registry: SearchRegistry, policy: (any AppointmentPolicy)? = nil) {
        rules = BookingRules(seed: seed)
        parser = SearchQueryParser(registry: registry, zone: seed.zone)
        self.policy = policy
    }

    public func willStore(
        _ incoming: JSONObject, old: JSONObject?, id: String, tx: StoreTransaction, now: Int64
    ) throws(FHIRError) -> JSONObject {
        // The staff's own writes follow the EHR's rules (R4's lifecycle), not the vendor API's.
        let policy = StaffDesk.writing ? nil : policy
        var resource = try policy?.prepare(incoming, old: old, tx: tx) ?? incoming
        let status = resource["status"]?.stringValue ?? ""
        let oldStatus = old?["status"]?.stringValue
        if let oldStatus, policy == nil, !AppointmentStatusModel.allows(from: oldStatus, to: status) {
            throw FHIRError(
                .businessRule, "an appointment cannot go from \(oldStatus) to \(status)", expression: ["Appointment.status"])
        }
        let slots = try Self.slotIDs(resource)
        let oldSlots = old.flatMap { try? Self.slotIDs($0) } ?? []
        let wasHolding = oldStatus.map { AppointmentStatusModel.occupying.contains($0) } ?? false
        let holds = AppointmentStatusModel.occupying.contains(status)
        let held = wasHolding ? Set(oldSlots) : []
        let wanted = holds ? Set(slots) : []
        let release = held.subtracting(wanted)
        let take = wanted.subtracting(held)

        var patchHeldSlots: Set<String> = []
        if holds && !slots.isEmpty && (!take.isEmpty || old == nil) {
            var known: [String: SlotState] = [:]
            for row in try tx.slots(slots) {
                let spec = SlotSpec(id: row.id, schedule: row.schedule, start: row.start, end: row.end, types: row.types)
                // Slots this appointment already holds count as free for its own reschedule; so
                // do slots held by a Slot patch (no appointment holds them), which booking takes.
                var patchHeld = false
                if take.contains(row.id), row.status == "busy-tentative" { patchHeld = try Self.holder(of: row.id, tx: tx) == nil }
                if patchHeld { patchHeldSlots.insert(row.id) }
                known[row.id] = SlotState(spec: spec, status: held.contains(row.id) || patchHeld ? "free" : row.status)
            }
            let visitType = try Self.visitType(resource)
            // Whether the patient is new only matters for new-patient-only visit types, and their
            // coverage only for types with an insurance prerequisite.
            let type = visitType.flatMap { rules.seed.appointmentType($0) }
            let needsNew = type?.newPatientsOnly ?? false
            let day = known.values.map(\.spec.start).min()
            let request = BookingRequest(
                slots: slots, start: Self.instant(resource["start"], rules.seed), end: Self.instant(resource["end"], rules.seed),
                minutesDuration: resource["minutesDuration"]?.numberText.flatMap { Int($0) }, visitType: visitType,
                patientIsNew: needsNew ? try isNew(patient: Self.patient(resource), excluding: id, tx: tx) : false,
                patientPayers: type?.coverage != nil && day != nil ? try payers(of: Self.patient(resource), on: day!, tx: tx) : nil)
            if let error = rules.check(request, slots: known, now: now) { throw error }
            // R4 app-3: only proposed and cancelled appointments may go without start and end;
            // a booking that names its slots only takes their times.
            if resource["start"] == nil, resource["end"] == nil, let first = known.values.map(\.spec.start).min(),
                let last = known.values.map(\.spec.end).max()
            {
                resource["start"] = .string(rules.seed.format(first))
                resource["end"] = .string(rules.seed.format(last))
            }
        }
        _ = try tx.setSlotStatus(Array(release), from: ["busy", "busy-tentative"], to: "free", at: now)
        let target = status == "pending" ? "busy-tentative" : "busy"
        guard try tx.setSlotStatus(Array(take.subtracting(patchHeldSlots)), from: ["free"], to: target, at: now),
            try tx.setSlotStatus(Array(patchHeldSlots), from: ["busy-tentative"], to: target, at: now)
        else {
            throw FHIRError(
                .conflict, "a requested slot was taken meanwhile; search for availability again", expression: ["Appointment.slot"])
        }
        let kept = Array(held.intersection(wanted))
        // pending → booked on the same slots turns them from busy-tentative to busy (and back).
        _ = try tx.setSlotStatus(kept, from: target == "busy" ? ["busy-tentative"] : ["busy"], to: target, at: now)
        return resource
    }

    /// The id of the appointment that occupies `slot` (pending, booked, ...), if any: a
    /// `busy-tentative` slot without one is held by a Slot patch (`holdsByPatch`), not by `$hold`.
    static func holder(of slot: String, tx: StoreTransaction) throws(FHIRError) -> String? {
        let query = try SearchQueryParser(registry: .r4, zone: .utc).parse(
            type: "Appointment",
            parameters: [
                (name: "slot", value: "Slot/\(slot)"),
                (name: "status", value: AppointmentStatusModel.occupying.sorted().joined(separator: ",")),
            ], strict: true, now: 0)
        return try tx.search(query).first?.id
    }

    public func willDelete(_ old: JSONObject, id: String, tx: StoreTransaction, now: Int64) throws(FHIRError) {
        guard let status = old["status"]?.stringValue, AppointmentStatusModel.occupying.contains(status) else { return }
        _ = try tx.setSlotStatus(try Self.slotIDs(old), from: ["busy", "busy-tentative"], to: "free", at: now)
    }

    /// `Appointment.slot` references as slot ids; anything but `Slot/<id>` is a 422.
    public static func slotIDs(_ appointment: JSONObject) throws(FHIRError) -> [String] {
        var ids: [String] = []
        for (index, reference) in (appointment["slot"]?.arrayValue ?? []).enumerated() {
            guard let text = reference["reference"]?.stringValue, let parsed = ReferenceSyntax.parse(text), parsed.type == "Slot" else {
                throw FHIRError(.businessRule, "slot references must be Slot/<id>", expression: ["Appointment.slot[\(index)]"])
            }
            ids.append(parsed.id)
        }
        return ids
    }

    static func instant(_ value: JSON?, _ seed: Seed) -> Int64? {
        value?.stringValue.flatMap { FHIRDateTime.parse($0, form: .instant) }?.startMilliseconds(in: seed.zone)
    }

    /// The seed's visit-type code from `appointmentType`, if it uses the clinic's system (an
    /// unknown code there fails the booking rules). A coding of R4's binding (v2-0276:
    /// CHECKUP, EMERGENCY, FOLLOWUP, ROUTINE, WALKIN) is a known kind without the clinic's
    /// rules; a type only in other systems, or an unknown v2-0276 code, is one the clinic does
    /// not know: 422 naming `Appointment.appointmentType`. Text alone names no type.
    static func visitType(_ appointment: JSONObject) throws(FHIRError) -> String? {
        let codings = appointment["appointmentType"]?["coding"]?.arrayValue ?? []
        if let code = codings.first(where: { $0["system"]?.stringValue == AppointmentType.system })?["code"]?.stringValue {
            return code
        }
        let known = codings.contains {
            $0["system"]?.stringValue == AppointmentType.v2System && Self.v2Kinds.contains($0["code"]?.stringValue ?? "")
        }
        guard codings.isEmpty || known else {
            let shown = codings.map { "\($0["system"]?.stringValue ?? "")|\($0["code"]?.stringValue ?? "")" }.joined(separator: ", ")
            throw FHIRError(
                .businessRule,
                "appointmentType \(shown) is not a visit type of this clinic: use \(AppointmentType.system) (see the seed's "
                    + "appointment-types) or \(AppointmentType.v2System)", expression: ["Appointment.appointmentType"])
        }
        return nil
    }

    /// HL7 v2 table 0276 (R4's example binding for `Appointment.appointmentType`).
    static let v2Kinds: Set<String> = ["CHECKUP", "EMERGENCY", "FOLLOWUP", "ROUTINE", "WALKIN"]

    static func patient(_ appointment: JSONObject) -> String? {
        for participant in appointment["participant"]?.arrayValue ?? [] {
            if let text = participant["actor"]?["reference"]?.stringValue, let parsed = ReferenceSyntax.parse(text),
                parsed.type == "Patient"
            {
                return parsed.id
            }
        }
        return nil
    }

    /// A patient is new when no other appointment of theirs is booked, attended or fulfilled.
    /// The payers (Organization ids) of `patient`'s active coverages whose period holds `instant`.
    func payers(of patient: String?, on instant: Int64, tx: StoreTransaction) throws(FHIRError) -> [String] {
        guard let query = try coverages(of: patient) else { return [] }
        var bodies: [[UInt8]] = []
        for key in try tx.search(query) { if let body = try tx.current("Coverage", key.id)?.body { bodies.append(body) } }
        return payers(in: bodies, on: instant)
    }

    /// The bodies of `patient`'s active coverages (for `payers(in:on:)` at several instants).
    func coverageBodies(of patient: String?, reader: StoreReader) throws(FHIRError) -> [[UInt8]] {
        guard let query = try coverages(of: patient) else { return [] }
        return try reader.bodies(try reader.search(query)).map(\.1)
    }

    private func coverages(of patient: String?) throws(FHIRError) -> SearchQuery? {
        guard let patient else { return nil }
        return try parser.parse(
            type: "Coverage", parameters: [(name: "beneficiary", value: "Patient/\(patient)"), (name: "status", value: "active")],
            strict: true, now: 0)
    }

    /// The payers of those of `bodies` (Coverages) whose period holds `instant`.
    func payers(in bodies: [[UInt8]], on instant: Int64) -> [String] {
        let zone = rules.seed.zone
        var payers: [String] = []
        for body in bodies {
            guard let object = (try? JSONParser.parse(body))?.objectValue else { continue }
            let starts = object["period"]?["start"]?.stringValue.flatMap { FHIRDateTime.parse($0, form: .search) }?.range(in: zone).lo
            let ends = object["period"]?["end"]?.stringValue.flatMap { FHIRDateTime.parse($0, form: .search) }?.range(in: zone).hi
            guard (starts ?? .min) <= instant, instant < (ends ?? .max) else { continue }
            for payor in object["payor"]?.arrayValue ?? [] {
                if let reference = payor["reference"]?.stringValue.flatMap(ReferenceSyntax.parse), reference.type == "Organization" {
                    payers.append(reference.id)
                }
            }
        }
        return payers
    }

    func isNew(patient: String?, excluding id: String, tx: StoreTransaction) throws(FHIRError) -> Bool {
        guard let query = try activeAppointments(of: patient) else { return false }
        return try tx.search(query).allSatisfy { $0.id == id }
    }

    func isNew(patient: String?, excluding id: String, reader: StoreReader) throws(FHIRError) -> Bool {
        guard let query = try activeAppointments(of: patient) else { return false }
        return try reader.search(query).allSatisfy { $0.id == id }
    }

    private func activeAppointments(of patient: String?) throws(FHIRError) -> SearchQuery? {
        guard let patient else { return nil }
        return try parser.parse(
            type: "Appointment",
            parameters: [(name: "patient", value: "Patient/\(patient)"), (name: "status", value: "booked,arrived,checked-in,fulfilled")],
            strict: true, now: 0)
    }
}

/// A profile's Appointment write rules, where they differ from R4's (a strategy the profile
/// names): what a create or update must look like, which status transitions it allows, what the
/// stored version carries. Booking itself (slots taken and released, never twice) stays the
/// engine's.
public protocol AppointmentPolicy: Sendable {
    /// The Appointment to store for `incoming` (replacing `old`, nil for a create), or the error
    /// that refuses it. Runs inside the write transaction.
    func prepare(_ incoming: JSONObject, old: JSONObject?, tx: StoreTransaction) throws(FHIRError) -> JSONObject
}
