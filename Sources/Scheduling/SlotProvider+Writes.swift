import FHIRCore
import FHIRInteractions
import FHIRStore
import SandboxSeed

/// Slot create, update and delete (R4's Slot is a writable resource): a written slot is a row of
/// the slot table like the generated ones, so search, `$find` and booking see it at once; a
/// written slot with a generated slot's id replaces it; a reset restores the templates' slots.
/// The table keeps a slot's schedule, start, end, status and visit types, so a Slot carrying
/// other elements (comment, overbooked, identifier, extensions) is refused (422) rather than
/// stored with them silently dropped. A slot an active appointment holds cannot be changed or
/// deleted (409): cancel or move the appointment first.
extension SlotProvider {
    static let writableElements: Set<String> = [
        "resourceType", "id", "meta", "text", "schedule", "status", "start", "end", "appointmentType", "serviceType", "specialty",
        "serviceCategory",
    ]
    static let statuses: Set<String> = ["busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error"]

    public func put(
        _ resource: JSONObject, id: String?, ifMatch: IfMatch?, tx: StoreTransaction, now: Int64
    ) throws(FHIRError) -> (stored: StoredResource, created: Bool) {
        guard writable else { throw FHIRError(.methodNotAllowed, "Slot writes are not offered here") }
        let unsupported = resource.members.map(\.key).filter { !Self.writableElements.contains($0) }
        guard unsupported.isEmpty else {
            throw FHIRError(
                .businessRule,
                "this server keeps a Slot's schedule, start, end, status and visit types only; remove "
                    + unsupported.map { "Slot.\($0)" }.joined(separator: ", "), expression: unsupported.map { "Slot.\($0)" })
        }
        guard let reference = resource["schedule"]?["reference"]?.stringValue.flatMap(ReferenceSyntax.parse), reference.type == "Schedule",
            try tx.current("Schedule", reference.id).map({ !$0.deleted }) == true
        else { throw FHIRError(.businessRule, "schedule must reference an existing Schedule", expression: ["Slot.schedule"]) }
        let zone = seed.zone
        guard let start = resource["start"]?.stringValue.flatMap({ FHIRDateTime.parse($0, form: .instant) })?.startMilliseconds(in: zone),
            let end = resource["end"]?.stringValue.flatMap({ FHIRDateTime.parse($0, form: .instant) })?.startMilliseconds(in: zone),
            start < end
        else { throw FHIRError(.businessRule, "start and end must be instants with start before end", expression: ["Slot.end"]) }
        let status = resource["status"]?.stringValue ?? ""
        guard Self.statuses.contains(status) else {
            throw FHIRError(
                .businessRule, "status must be one of \(Self.statuses.sorted().joined(separator: ", "))", expression: ["Slot.status"])
        }
        // Visit types: the clinic's codes in appointmentType and serviceType.
        let concepts = [resource["appointmentType"]].compactMap { $0 } + (resource["serviceType"]?.arrayValue ?? [])
        var types: [String] = []
        for concept in concepts {
            for coding in concept["coding"]?.arrayValue ?? [] where coding["system"]?.stringValue == AppointmentType.system {
                guard let code = coding["code"]?.stringValue, seed.appointmentType(code) != nil else {
                    throw FHIRError(
                        .businessRule, "'\(coding["code"]?.stringValue ?? "")' is not one of the clinic's visit types",
                        expression: ["Slot.appointmentType"])
                }
                if !types.contains(code) { types.append(code) }
            }
        }
        guard let slotID = id else { throw FHIRError(.internalError, "a Slot write needs its id") }
        let current = try tx.slots([slotID]).first
        if let current {
            try ifMatch?.check(current: current.version, type: "Slot", id: slotID)
            try refuseIfHeld(slotID, tx: tx)
        }
        let row = SlotRow(
            id: slotID, schedule: reference.id, start: start, end: end, status: status,
            types: types.isEmpty ? (current.map { $0.typeList.split(separator: ",").map(String.init) } ?? []) : types,
            version: (current?.version ?? 0) + 1, lastUpdated: now)
        try tx.putSlot(row)
        return (renderer.stored(row, now: now), current == nil)
    }

    public func delete(_ id: String, ifMatch: IfMatch?, tx: StoreTransaction, now: Int64) throws(FHIRError) -> StoredResource {
        guard writable else { throw FHIRError(.methodNotAllowed, "Slot writes are not offered here") }
        guard let current = try tx.slots([id]).first else { throw FHIRError(.notFound, "Slot/\(id) does not exist") }
        try ifMatch?.check(current: current.version, type: "Slot", id: id)
        try refuseIfHeld(id, tx: tx)
        try tx.deleteSlot(id)
        return renderer.stored(current, now: now)
    }

    func refuseIfHeld(_ id: String, tx: StoreTransaction) throws(FHIRError) {
        if let holder = try AppointmentBooking.holder(of: id, tx: tx) {
            throw FHIRError(
                .conflict, "Slot/\(id) is held by Appointment/\(holder); cancel or move the appointment first", expression: ["Slot"])
        }
    }
}
