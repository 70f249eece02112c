import FHIRCore

/// athena's appointment ids (vendor-quirks §3.4, §3.8 (2)): an open slot *is* an appointment
/// (status `o`) and booking it keeps its id. The sandbox's slots are `slot-{stem}-{yyyymmdd}-{hhmm}`;
/// their appointment id is
///
///     generation × 10^11 + template × 10^9 + day × 10^4 + hhmm
///
/// (template: the schedule template's place in the seed, from 1; day: days since 1970-01-01,
/// local). `generation` counts the appointments booked on the slot through the proprietary API
/// before: the first booking stores the Appointment as `appt-{slot id}`, one booked after a
/// cancellation `appt-{slot id}.{generation}`, so a cancelled appointment keeps its id and the
/// freed time is offered under a new one. The FHIR side shows the same number
/// (`a-195900.Appointment-{appointmentid}`).
/// The clinic's background appointments (`appt-{stem}-{yyyymmdd}-{hhmm}`, rendered from the
/// templates) take generation 89, which bookings here never reach.
/// ASSUMPTION (§3.4: ids are opaque integers): the encoding is the sandbox's; it keeps ids
/// below 2^53 (JavaScript-safe).
extension AthenaIDs {
    static let generationUnit: Int64 = 100_000_000_000
    static let templateUnit: Int64 = 1_000_000_000
    /// The generation of the clinic's background appointments.
    static let background = 89

    /// The appointment id of a slot (generation 0), or nil when `slot` is not a template slot.
    func appointmentID(slot: String, generation: Int = 0) -> Int64? {
        guard slot.hasPrefix("slot-") else { return nil }
        let parts = slot.dropFirst(5).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, let template = stems[parts.dropLast(2).joined(separator: "-")],
            let date = Int(parts[parts.count - 2]), parts[parts.count - 2].count == 8, let time = Int(parts[parts.count - 1]),
            parts[parts.count - 1].count == 4, time % 100 < 60, time / 100 < 24, generation >= 0, generation <= Self.background
        else { return nil }
        let day = CivilCalendar.daysFromCivil(year: date / 10000, month: date / 100 % 100, day: date % 100)
        guard day >= 0, day < 100_000 else { return nil }
        return Int64(generation) * Self.generationUnit + Int64(template) * Self.templateUnit + Int64(day) * 10_000 + Int64(time)
    }

    /// The slot and generation an appointment id stands for.
    func slot(appointmentID number: Int64) -> (slot: String, generation: Int)? {
        guard number > 0 else { return nil }
        let generation = Int(number / Self.generationUnit)
        let template = Int(number % Self.generationUnit / Self.templateUnit)
        let day = Int(number % Self.templateUnit / 10_000)
        let time = Int(number % 10_000)
        guard template >= 1, template <= stemList.count else { return nil }
        let (year, month, date) = CivilCalendar.civilFromDays(day)
        let slot =
            "slot-\(stemList[template - 1])-\(InstantFormat.pad(year, 4))\(InstantFormat.pad(month, 2))\(InstantFormat.pad(date, 2))-"
            + InstantFormat.pad(time, 4)
        return appointmentID(slot: slot, generation: generation) == number ? (slot, generation) : nil
    }

    /// The stored id of the Appointment booked through the proprietary API on `slot`.
    static func bookedID(slot: String, generation: Int) -> String {
        generation == 0 ? "appt-\(slot)" : "appt-\(slot).\(generation)"
    }

    /// The number a stored Appointment (booked through the proprietary API) or Slot id shows as.
    func appointmentNumber(_ id: String, type: String) -> Int64? {
        if type == "Slot" { return appointmentID(slot: id) }
        guard id.hasPrefix("appt-slot-") else {
            return id.hasPrefix("appt-") ? appointmentID(slot: "slot-" + id.dropFirst(5), generation: Self.background) : nil
        }
        var slot = String(id.dropFirst(5))
        var generation = 0
        if let dot = slot.lastIndex(of: "."), let number = Int(slot[slot.index(after: dot)...]), number > 0 {
            generation = number
            slot = String(slot[..<dot])
        }
        return appointmentID(slot: slot, generation: generation)
    }

    /// The stored id an appointment number stands for (an Appointment booked through the
    /// proprietary API, or a Slot).
    func storedID(appointmentNumber text: String, type: String) -> String? {
        guard let number = Int64(text), String(number) == text, let (slot, generation) = slot(appointmentID: number) else { return nil }
        if type == "Slot" { return generation == 0 ? slot : nil }
        if generation == Self.background { return "appt-" + slot.dropFirst(5) }
        return Self.bookedID(slot: slot, generation: generation)
    }
}
