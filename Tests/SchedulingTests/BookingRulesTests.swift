import FHIRCore
import Foundation
import SandboxSeed
import Testing

@testable import Scheduling

/// Every booking rule broken once, and the error it gives.
@Suite struct BookingRulesTests {
    let seed: Seed
    let rules: BookingRules
    let slots: [String: SlotState]
    let now = SlotCalendarTests.monday  // Monday 08:00 Chicago

    init() throws {
        seed = try SeedLoader.load(directory: SlotCalendarTests.root.appendingPathComponent("Seeds/default").path)
        rules = BookingRules(seed: seed)
        let clockDay = seed.localDay(SlotCalendarTests.monday)
        let specs = SlotCalendar(seed: seed).slots(days: clockDay..<(clockDay + 60), clockDay: clockDay)
        slots = Dictionary(uniqueKeysWithValues: specs.map { ($0.id, SlotState(spec: $0, status: "free")) })
    }

    func instant(_ text: String) -> Int64 { FHIRDateTime.parse(text, form: .instant)!.startMilliseconds(in: .utc) }

    func check(_ request: BookingRequest, slots: [String: SlotState]? = nil, now: Int64? = nil) -> FHIRError? {
        rules.check(request, slots: slots ?? self.slots, now: now ?? self.now)
    }

    func expressions(_ error: FHIRError?) -> [String] { error?.issues.flatMap(\.expression) ?? [] }

    @Test func aValidFollowUpPasses() {
        let request = BookingRequest(
            slots: ["slot-okafor-main-20260415-0900"], start: instant("2026-04-15T09:00:00-05:00"),
            end: instant("2026-04-15T09:20:00-05:00"), minutesDuration: 20, visitType: "FOLLOW_UP")
        #expect(check(request) == nil)
    }

    @Test func aNewPatientVisitNeedsTwoContiguousSlots() {
        let one = BookingRequest(slots: ["slot-okafor-main-20260415-0900"], visitType: "NEW_PATIENT", patientIsNew: true)
        #expect(expressions(check(one)) == ["Appointment.minutesDuration"])
        let two = BookingRequest(
            slots: ["slot-okafor-main-20260415-0900", "slot-okafor-main-20260415-0920"], minutesDuration: 40, visitType: "NEW_PATIENT",
            patientIsNew: true)
        #expect(check(two) == nil)
        let gap = BookingRequest(
            slots: ["slot-okafor-main-20260415-0900", "slot-okafor-main-20260415-0940"], visitType: "NEW_PATIENT", patientIsNew: true)
        #expect(expressions(check(gap)).contains("Appointment.slot"))
        let established = BookingRequest(slots: two.slots, visitType: "NEW_PATIENT", patientIsNew: false)
        #expect(expressions(check(established)) == ["Appointment.appointmentType"])
    }

    @Test func aTakenSlotIsAConflictNamingIt() {
        var taken = slots
        taken["slot-okafor-main-20260415-0920"]?.status = "busy"
        let error = check(BookingRequest(slots: ["slot-okafor-main-20260415-0900", "slot-okafor-main-20260415-0920"]), slots: taken)
        #expect(error?.code == .conflict)
        #expect(expressions(error) == ["Appointment.slot[1]"])
        #expect(error?.message.contains("slot-okafor-main-20260415-0920") == true)
        taken["slot-okafor-main-20260415-0920"]?.status = "busy-tentative"
        #expect(check(BookingRequest(slots: ["slot-okafor-main-20260415-0920"]), slots: taken)?.code == .conflict)
    }

    @Test func structuralRules() {
        #expect(expressions(check(BookingRequest(slots: ["slot-nope"]))) == ["Appointment.slot[0]"])
        #expect(expressions(check(BookingRequest(slots: []))) == ["Appointment.slot"])
        let twoSchedules = BookingRequest(slots: ["slot-okafor-main-20260415-0900", "slot-reyes-main-20260415-0920"])
        #expect(expressions(check(twoSchedules)).contains("Appointment.slot"))
        let wrongStart = BookingRequest(slots: ["slot-okafor-main-20260415-0900"], start: instant("2026-04-15T09:05:00-05:00"))
        #expect(expressions(check(wrongStart)) == ["Appointment.start"])
        let wrongEnd = BookingRequest(slots: ["slot-okafor-main-20260415-0900"], end: instant("2026-04-15T09:40:00-05:00"))
        #expect(expressions(check(wrongEnd)) == ["Appointment.end"])
        let duration = BookingRequest(slots: ["slot-okafor-main-20260415-0900"], minutesDuration: 30)
        #expect(expressions(check(duration)) == ["Appointment.minutesDuration"])
    }

    @Test func typeRulesFromTheSeed() {
        // Dr. Raman takes new patients only on Tuesday afternoons.
        let ramanMorning = BookingRequest(
            slots: ["slot-raman-main-20260414-0800", "slot-raman-main-20260414-0820"], visitType: "NEW_PATIENT", patientIsNew: true)
        #expect(expressions(check(ramanMorning)) == ["Appointment.appointmentType"])
        let ramanAfternoon = BookingRequest(
            slots: ["slot-raman-main-20260414-1300", "slot-raman-main-20260414-1320"], visitType: "NEW_PATIENT", patientIsNew: true)
        #expect(check(ramanAfternoon) == nil)
        // Telehealth only at the virtual location.
        let telehealthInClinic = BookingRequest(slots: ["slot-okafor-main-20260415-0900"], visitType: "TELEHEALTH")
        #expect(expressions(check(telehealthInClinic)).contains("Appointment.appointmentType"))
        // Lead time: new patients at least 24 hours ahead (clock is Monday 08:00).
        let tooSoon = BookingRequest(
            slots: ["slot-okafor-main-20260413-1300", "slot-okafor-main-20260413-1320"], visitType: "NEW_PATIENT", patientIsNew: true)
        #expect(expressions(check(tooSoon)) == ["Appointment.start"])
        // Urgent visits are same-day only.
        #expect(check(BookingRequest(slots: ["slot-okafor-main-20260413-1300"], visitType: "URGENT")) == nil)
        #expect(expressions(check(BookingRequest(slots: ["slot-okafor-main-20260414-1300"], visitType: "URGENT"))) == ["Appointment.start"])
        // Telehealth at most 30 days ahead.
        let farTelehealth = BookingRequest(slots: ["slot-obrien-telehealth-20260521-0800"], visitType: "TELEHEALTH")
        #expect(expressions(check(farTelehealth)) == ["Appointment.start"])
        #expect(
            expressions(check(BookingRequest(slots: ["slot-okafor-main-20260415-0900"], visitType: "MASSAGE"))) == [
                "Appointment.appointmentType"
            ])
    }

    @Test func pastSlotsCannotBeBooked() {
        let later = instant("2026-04-15T10:00:00-05:00")
        #expect(expressions(check(BookingRequest(slots: ["slot-okafor-main-20260415-0900"]), now: later)) == ["Appointment.slot[0]"])
    }

    @Test func everyRuleIsReportedAtOnce() {
        let request = BookingRequest(
            slots: ["slot-okafor-main-20260415-0900"], start: instant("2026-04-15T09:05:00-05:00"), minutesDuration: 30,
            visitType: "TELEHEALTH")
        #expect(Set(expressions(check(request))) == ["Appointment.start", "Appointment.minutesDuration", "Appointment.appointmentType"])
    }
}

@Suite struct StateMachineTests {
    @Test func appointmentLifecycle() {
        #expect(AppointmentStatusModel.allows(from: "proposed", to: "booked"))
        #expect(AppointmentStatusModel.allows(from: "booked", to: "cancelled"))
        #expect(AppointmentStatusModel.allows(from: "booked", to: "checked-in"))
        #expect(AppointmentStatusModel.allows(from: "arrived", to: "fulfilled"))
        #expect(AppointmentStatusModel.allows(from: "fulfilled", to: "entered-in-error"))
        #expect(!AppointmentStatusModel.allows(from: "cancelled", to: "booked"))
        #expect(!AppointmentStatusModel.allows(from: "fulfilled", to: "booked"))
        #expect(!AppointmentStatusModel.allows(from: "noshow", to: "arrived"))
        #expect(!AppointmentStatusModel.allows(from: "entered-in-error", to: "booked"))
        for status in AppointmentStatusModel.statuses { #expect(AppointmentStatusModel.allows(from: status, to: status)) }
    }

    @Test func holdBooksBeforeExpiry() {
        var hold = Hold(slots: ["a", "b"], heldAt: 1_000, minutes: 10)
        #expect(hold.event(.tick(now: 1_000 + 9 * 60_000)) == .none)
        #expect(hold.event(.book(now: 1_000 + 9 * 60_000)) == .markBusy(["a", "b"]))
        #expect(hold.state == .booked)
        #expect(hold.event(.tick(now: 1_000 + 20 * 60_000)) == .none)
        if case .refuse = hold.event(.book(now: 0)) {} else { Issue.record("a second book must be refused") }
    }

    @Test func holdLapsesWithTheClock() {
        var hold = Hold(slots: ["a"], heldAt: 0, minutes: 5)
        #expect(hold.event(.tick(now: 5 * 60_000)) == .free(["a"]))
        #expect(hold.state == .expired)
        #expect(hold.event(.book(now: 5 * 60_000)) == .refuse(reason: "the hold expired; hold or book the slots again", free: []))
        var late = Hold(slots: ["b"], heldAt: 0, minutes: 5)
        #expect(late.event(.book(now: 6 * 60_000)) == .refuse(reason: "the hold expired; hold or book the slots again", free: ["b"]))
        var released = Hold(slots: ["c"], heldAt: 0, minutes: 5)
        #expect(released.event(.release) == .free(["c"]))
        #expect(released.event(.tick(now: 10 * 60_000)) == .none)
    }
}
