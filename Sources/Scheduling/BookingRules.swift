import FHIRCore
import SandboxSeed

/// A slot as the booking rules see it: where and when, what it takes, and its status.
public struct SlotState: Sendable, Equatable {
    public let spec: SlotSpec
    public var status: String

    public init(spec: SlotSpec, status: String) {
        self.spec = spec
        self.status = status
    }
}

/// What a client asks to book, read from an Appointment (or `$book` / `$hold` parameters).
public struct BookingRequest: Sendable {
    /// Slot ids in the order the Appointment lists them.
    public var slots: [String]
    public var start: Int64?
    public var end: Int64?
    public var minutesDuration: Int?
    /// The seed's visit-type code (`NEW_PATIENT`), if the Appointment names one.
    public var visitType: String?
    /// Whether the patient has no earlier visits at the clinic.
    public var patientIsNew: Bool
    /// The payers (Organization ids) of the patient's coverages active on the visit's date, for a
    /// visit type with an insurance prerequisite (nil: not known, so not checked).
    public var patientPayers: [String]?

    public init(
        slots: [String], start: Int64? = nil, end: Int64? = nil, minutesDuration: Int? = nil, visitType: String? = nil,
        patientIsNew: Bool = false, patientPayers: [String]? = nil
    ) {
        self.patientPayers = patientPayers
        self.slots = slots
        self.start = start
        self.end = end
        self.minutesDuration = minutesDuration
        self.visitType = visitType
        self.patientIsNew = patientIsNew
    }
}

/// The seed's booking rules, checked before any slot changes. A slot someone else holds is a
/// 409 naming the slot; every other broken rule is a 422 listing all of them at once.
public struct BookingRules: Sendable {
    public let seed: Seed

    public init(seed: Seed) { self.seed = seed }

    /// Nil when `request` may be booked into `slots` at `now`.
    public func check(_ request: BookingRequest, slots known: [String: SlotState], now: Int64) -> FHIRError? {
        var issues: [FHIRError.Issue] = []
        func fail(_ message: String, _ expression: String) {
            issues.append(.init(code: "business-rule", message: message, expression: [expression]))
        }
        guard !request.slots.isEmpty else {
            return FHIRError(.businessRule, "a booking needs at least one slot", expression: ["Appointment.slot"])
        }
        var slots: [SlotState] = []
        for (index, id) in request.slots.enumerated() {
            guard let slot = known[id] else {
                fail("Slot/\(id) does not exist", "Appointment.slot[\(index)]")
                continue
            }
            if slot.status != "free" {
                return FHIRError(
                    .conflict, "Slot/\(id) is no longer free (it is \(slot.status)); search for availability again",
                    expression: ["Appointment.slot[\(index)]"])
            }
            slots.append(slot)
        }
        guard issues.isEmpty else { return FHIRError(.businessRule, issues: issues) }
        let ordered = slots.sorted { $0.spec.start < $1.spec.start }
        if Set(ordered.map(\.spec.id)).count != ordered.count { fail("a slot is listed twice", "Appointment.slot") }
        if Set(ordered.map(\.spec.schedule)).count > 1 { fail("all slots must belong to one schedule", "Appointment.slot") }
        if !zip(ordered, ordered.dropFirst()).allSatisfy({ $0.spec.end == $1.spec.start }) {
            fail("the slots must be contiguous", "Appointment.slot")
        }
        let first = ordered[0].spec
        let last = ordered[ordered.count - 1].spec
        if let start = request.start, start != first.start {
            fail("start must be \(seed.format(first.start)), the first slot's start", "Appointment.start")
        }
        if let end = request.end, end != last.end {
            fail("end must be \(seed.format(last.end)), the last slot's end", "Appointment.end")
        }
        if first.start < now { fail("Slot/\(first.id) has already started", "Appointment.slot[0]") }
        let minutes = Int((last.end - first.start) / 60_000)
        if let duration = request.minutesDuration, duration != minutes {
            fail("minutesDuration is \(duration) but the slots cover \(minutes) minutes", "Appointment.minutesDuration")
        }
        if let code = request.visitType {
            guard let type = seed.appointmentType(code) else {
                fail("unknown visit type '\(code)'", "Appointment.appointmentType")
                return FHIRError(.businessRule, issues: issues)
            }
            if type.minutes != minutes {
                fail("a \(type.display) takes \(type.minutes) minutes, not \(minutes)", "Appointment.minutesDuration")
            }
            if let slot = ordered.first(where: { !$0.spec.types.contains(code) }) {
                fail("Slot/\(slot.spec.id) does not take \(type.display) visits", "Appointment.appointmentType")
            }
            if type.newPatientsOnly && !request.patientIsNew {
                fail("\(type.display) is only for patients new to the clinic", "Appointment.appointmentType")
            }
            if let template = seed.schedules.first(where: { $0.id == first.schedule }), !type.locations.isEmpty,
                !type.locations.contains(template.location)
            {
                fail("\(type.display) is not offered at Location/\(template.location)", "Appointment.appointmentType")
            }
            if let requirement = type.coverage, let payers = request.patientPayers {
                let counted = requirement.payers.isEmpty ? payers : payers.filter(requirement.payers.contains)
                if counted.isEmpty {
                    let from =
                        requirement.payers.isEmpty ? "" : " from " + requirement.payers.map { "Organization/\($0)" }.joined(separator: ", ")
                    fail(
                        "\(type.display) needs an active Coverage\(from) on \(seed.format(first.start).prefix(10)) "
                            + "(insurance prerequisite of the visit type); the patient has none", "Appointment.appointmentType")
                }
            }
            if first.start - now < Int64(type.minimumLeadHours) * 3_600_000 {
                fail("\(type.display) must be booked at least \(type.minimumLeadHours) hours ahead", "Appointment.start")
            }
            let lastDay = seed.localDay(now) + type.maximumDaysAhead
            if seed.localDay(first.start) > lastDay {
                let limit = type.maximumDaysAhead == 0 ? "for the same day only" : "at most \(type.maximumDaysAhead) days ahead"
                fail("\(type.display) can be booked \(limit)", "Appointment.start")
            }
        }
        return issues.isEmpty ? nil : FHIRError(.businessRule, issues: issues)
    }
}
