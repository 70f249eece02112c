import FHIRCore
import FHIRInteractions
import FHIRSearch
import FHIRStore
import SandboxSeed

/// What the clinic's staff do in the EHR itself (test control's staff actions): cancel, book,
/// reschedule, block a provider's schedule, mark no-shows and check-ins, update a patient. They
/// write through the tenant's service, so slots move with appointments in one transaction and
/// a slot is never booked twice; the EHR's own rules apply, not a vendor API's create and
/// transition rules (`StaffDesk.writing`). Ids are stored ids. Errors name the field.
public struct StaffDesk {
    public let service: FHIRService

    public init(service: FHIRService) { self.service = service }

    /// Whether the current write is the staff's (the Appointment hook then skips the profile's
    /// API policy).
    @TaskLocal public static var writing = false

    var now: Int64 { service.clock.now() }

    /// Cancels an appointment (status `cancelled`, `cancelationReason`); its slots are freed.
    @discardableResult
    public func cancel(appointment id: String, reason: String, field: String = "appointment") throws(FHIRError) -> JSONObject {
        try staffWrite { writer throws(FHIRError) in
            var appointment = try Self.current(writer, "Appointment", id, field: field)
            let status = appointment["status"]?.stringValue ?? ""
            guard !["cancelled", "fulfilled", "noshow", "entered-in-error"].contains(status) else {
                throw FHIRError(.conflict, "Appointment/\(id) is \(status) and cannot be cancelled", expression: [field])
            }
            appointment["status"] = .string("cancelled")
            appointment["cancelationReason"] = .object(JSONObject(["text": .string(reason)]))
            return try Self.put(writer, "Appointment", id, SchedulingContext.participants(appointment, status: "declined"))
        }
    }

    /// Books a free slot for `patient` as a phone or portal booking would (a new `booked`
    /// Appointment); 409 when the slot is not free.
    @discardableResult
    public func book(slot: String, patient: String) throws(FHIRError) -> JSONObject {
        try staffWrite { writer throws(FHIRError) in
            _ = try Self.current(writer, "Patient", patient, field: "patient")
            let row = try Self.slot(writer, slot)
            guard row.status == "free" else {
                throw FHIRError(.conflict, "Slot/\(slot) is \(row.status), not free", expression: ["slot"])
            }
            let appointment = JSONObject([
                "resourceType": .string("Appointment"), "status": .string("booked"),
                "start": .string(InstantFormat.iso(row.start)), "end": .string(InstantFormat.iso(row.end)),
                "created": .string(InstantFormat.iso(now)), "slot": .array([Self.reference("Slot", slot)]),
                "comment": .string("Booked by the front desk"),
                "participant": .array([
                    .object(JSONObject(["actor": Self.reference("Patient", patient), "status": .string("accepted")]))
                ]),
            ])
            return try Self.put(writer, "Appointment", nil, appointment)
        }
    }

    /// Moves an appointment to start at another free slot, taking as many contiguous slots of
    /// that schedule as its length needs (its old slots are freed).
    @discardableResult
    public func reschedule(appointment id: String, slot: String) throws(FHIRError) -> JSONObject {
        try staffWrite { writer throws(FHIRError) in
            var appointment = try Self.current(writer, "Appointment", id, field: "appointment")
            let status = appointment["status"]?.stringValue ?? ""
            guard AppointmentStatusModel.occupying.contains(status) || status == "proposed" else {
                throw FHIRError(.conflict, "Appointment/\(id) is \(status) and cannot be rescheduled", expression: ["appointment"])
            }
            let first = try Self.slot(writer, slot)
            let oldSlots = try writer.transaction.slots(try AppointmentBooking.slotIDs(appointment))
            let length = oldSlots.isEmpty ? first.end - first.start : oldSlots.map(\.end).max()! - oldSlots.map(\.start).min()!
            var filter = SlotFilter()
            filter.schedules = [first.schedule]
            filter.times = [[.range(from: first.start, before: first.start + length)]]
            let rows = try writer.transaction.slots(filter).sorted { $0.start < $1.start }
            let held = Set(oldSlots.map(\.id))
            guard let last = rows.last, last.end == first.start + length,
                zip(rows, rows.dropFirst()).allSatisfy({ $0.end == $1.start })
            else {
                throw FHIRError(
                    .conflict, "the schedule has no \(length / 60_000) contiguous minutes from Slot/\(slot)", expression: ["slot"])
            }
            if let taken = rows.first(where: { $0.status != "free" && !held.contains($0.id) }) {
                throw FHIRError(.conflict, "Slot/\(taken.id) is \(taken.status), not free", expression: ["slot"])
            }
            appointment["slot"] = .array(rows.map { Self.reference("Slot", $0.id) })
            appointment["start"] = .string(InstantFormat.iso(first.start))
            appointment["end"] = .string(InstantFormat.iso(last.end))
            appointment["minutesDuration"] = .int(Int(length / 60_000))
            return try Self.put(writer, "Appointment", id, appointment)
        }
    }

    /// `noshow` or `checked-in` (the R4 lifecycle decides what may follow what).
    @discardableResult
    public func mark(appointment id: String, status: String) throws(FHIRError) -> JSONObject {
        try staffWrite { writer throws(FHIRError) in
            var appointment = try Self.current(writer, "Appointment", id, field: "appointment")
            let old = appointment["status"]?.stringValue ?? ""
            guard AppointmentStatusModel.allows(from: old, to: status) else {
                throw FHIRError(.conflict, "Appointment/\(id) is \(old) and cannot become \(status)", expression: ["appointment"])
            }
            appointment["status"] = .string(status)
            return try Self.put(writer, "Appointment", id, appointment)
        }
    }

    /// Blocks a practitioner's schedules from `start` to `end`: free slots starting in the
    /// window become `busy-unavailable`, appointments booked in it are cancelled.
    public func block(practitioner: String, start: Int64, end: Int64, reason: String) throws(FHIRError) -> (
        slots: [String], cancelled: [String]
    ) {
        try staffWrite { writer throws(FHIRError) in
            _ = try Self.current(writer, "Practitioner", practitioner, field: "practitioner")
            // The engine's parameters, whatever the profile lets clients search by.
            let query = try SearchQueryParser(registry: .r4, zone: .utc).parse(
                type: "Schedule", parameters: [(name: "actor", value: "Practitioner/\(practitioner)")], strict: true, now: 0)
            let schedules = Set(try writer.transaction.search(query).map(\.id))
            var filter = SlotFilter()
            filter.schedules = schedules
            filter.times = [[.range(from: start, before: end)]]
            let rows = try writer.transaction.slots(filter)
            var cancelled: [String] = []
            let taken = rows.filter { $0.status != "free" }.map(\.id)
            for slot in taken {
                guard let holder = try AppointmentBooking.holder(of: slot, tx: writer.transaction), !cancelled.contains(holder),
                    var appointment = try writer.current("Appointment", holder)?.resource
                else { continue }
                appointment["status"] = .string("cancelled")
                appointment["cancelationReason"] = .object(JSONObject(["text": .string("Provider unavailable: \(reason)")]))
                _ = try Self.put(writer, "Appointment", holder, SchedulingContext.participants(appointment, status: "declined"))
                cancelled.append(holder)
            }
            // Every slot in the window, including those the cancellations just freed.
            let blocked = rows.map(\.id)
            _ = try writer.transaction.setSlotStatus(blocked, from: ["free"], to: "busy-unavailable", at: now)
            return (blocked, cancelled)
        }
    }

    /// Sets a patient's phone (replacing their phone numbers) and/or address (replacing the
    /// home address).
    @discardableResult
    public func updatePatient(_ id: String, phone: String?, address: JSONObject?) throws(FHIRError) -> JSONObject {
        try staffWrite { writer throws(FHIRError) in
            var patient = try Self.current(writer, "Patient", id, field: "patient")
            if let phone {
                var telecom = (patient["telecom"]?.arrayValue ?? []).filter { $0["system"]?.stringValue != "phone" }
                telecom.insert(
                    .object(JSONObject(["system": .string("phone"), "value": .string(phone), "use": .string("home")])), at: 0)
                patient["telecom"] = .array(telecom)
            }
            if let address {
                var addresses = (patient["address"]?.arrayValue ?? []).filter { $0["use"]?.stringValue != address["use"]?.stringValue }
                addresses.insert(.object(address), at: 0)
                patient["address"] = .array(addresses)
            }
            return try Self.put(writer, "Patient", id, patient)
        }
    }

    /// A seed patient other than `patient` (who the front desk books a raced slot for).
    public func anotherPatient(than patient: String?) throws(FHIRError) -> String? {
        let query = try service.searchParser().parse(type: "Patient", parameters: [(name: "_count", value: "2")], strict: false, now: 0)
        return try service.read { reader throws(FHIRError) in try reader.search(query) }.map(\.id).first { $0 != patient }
    }

    func staffWrite<T: Sendable>(_ body: (FHIRWriter) throws(FHIRError) -> T) throws(FHIRError) -> T {
        try service.tenant.seedIfNeeded()
        let result = Self.$writing.withValue(true) { Result { () throws(FHIRError) -> T in try service.write(body) } }
        return try result.get()
    }

    static func current(_ writer: FHIRWriter, _ type: String, _ id: String, field: String) throws(FHIRError) -> JSONObject {
        guard let resource = try writer.current(type, id)?.resource else {
            throw FHIRError(.notFound, "\(type)/\(id) does not exist", expression: [field])
        }
        return resource
    }

    static func slot(_ writer: FHIRWriter, _ id: String) throws(FHIRError) -> SlotRow {
        guard let row = try writer.transaction.slots([id]).first else {
            throw FHIRError(.notFound, "Slot/\(id) does not exist", expression: ["slot"])
        }
        return row
    }

    static func put(_ writer: FHIRWriter, _ type: String, _ id: String?, _ resource: JSONObject) throws(FHIRError) -> JSONObject {
        var resource = resource
        resource["meta"] = nil
        let stored = try writer.put(type, id: id, resource)
        return (try? JSONParser.parse(stored.body ?? []))?.objectValue ?? resource
    }

    static func reference(_ type: String, _ id: String) -> JSON { .object(JSONObject(["reference": .string("\(type)/\(id)")])) }
}
