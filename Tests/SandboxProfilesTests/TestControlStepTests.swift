import FHIRCore
import FHIRInteractions
import Scheduling
import Testing

@testable import SandboxProfiles

/// Test control's engine seams on a real tenant: the front desk racing a booking (`SlotRace`),
/// staff actions under the EHR's own rules (`StaffDesk`), and Provenance for client writes.
@Suite struct TestControlStepTests {
    static let slot = "slot-okafor-main-20260414-1000"
    static let booking = booking(at: "10:00", until: "10:20")

    /// Dr Okafor's 20-minute slot on Tuesday 2026-04-14 from `start` ("10:00") to `end`, for pat-0002.
    static func booking(at start: String, until end: String) -> String {
        """
        {"resourceType": "Appointment", "status": "booked",
         "slot": [{"reference": "Slot/slot-okafor-main-20260414-\(start.replacing(":", with: ""))"}],
         "start": "2026-04-14T\(start):00-05:00", "end": "2026-04-14T\(end):00-05:00",
         "participant": [{"actor": {"reference": "Patient/pat-0002"}, "status": "accepted"}]}
        """
    }

    static func request(_ method: String, _ path: String, body: String? = nil, client: String? = nil, race: Bool = false) -> FHIRRequest {
        var request = FHIRRequest(
            method: method, segments: path.split(separator: "/").map(String.init), query: [],
            headers: .init(contentType: body == nil ? nil : "application/fhir+json"), body: body.map { Array($0.utf8) },
            baseURL: "http://test/base")
        request.frontDeskTakesSlot = race
        if let client {
            request.access = Access(
                grants: [.init(level: .system, type: "*", actions: Set(Access.Action.allCases))], patient: nil, client: client)
        }
        return request
    }

    static func slotStatus(_ runtime: ProfileRuntime, _ id: String) throws -> String? {
        try runtime.pipeline.call("GET", "Slot/\(id)").json()["status"]?.stringValue
    }

    @Test func theFrontDeskTakesTheSlotJustBeforeTheBooking() throws {
        let runtime = try Fixture.runtime("generic")
        let lost = runtime.pipeline.handle(Self.request("POST", "Appointment", body: Self.booking, race: true))
        #expect(lost.status == 409)
        #expect(try Self.slotStatus(runtime, Self.slot) == "busy")
        // The front desk's appointment holds it, for someone other than the client's patient.
        let holders = try runtime.pipeline.call("GET", "Appointment?slot=Slot/\(Self.slot)&status=booked").json()
        let entries = holders["entry"]?.arrayValue ?? []
        #expect(entries.count == 1)
        #expect(entries.first?["resource"]?["participant"]?.arrayValue?.first?["actor"]?["reference"]?.stringValue != "Patient/pat-0002")
        // Without the mark the same booking of another slot goes through.
        let other = Self.booking(at: "10:20", until: "10:40")
        #expect(runtime.pipeline.handle(Self.request("POST", "Appointment", body: other)).status == 201)
    }

    @Test func staffActionsFollowTheEHRRulesNotTheVendorAPIs() throws {
        // Cerner's API cannot mark a booked appointment no-show (§2.3 transitions); the front desk can.
        let runtime = try Fixture.runtime("cerner")
        let desk = StaffDesk(service: runtime.pipeline.service)
        let marked = try desk.mark(appointment: "appt-0001", status: "noshow")
        #expect(marked["status"]?.stringValue == "noshow")
        #expect(throws: FHIRError.self) { try desk.mark(appointment: "appt-0001", status: "checked-in") }
        let booked = try desk.book(slot: Self.slot, patient: "pat-0004")
        #expect(booked["status"]?.stringValue == "booked")
        #expect(throws: FHIRError.self) { try desk.book(slot: Self.slot, patient: "pat-0005") }  // never twice
        let cancelled = try desk.cancel(appointment: booked["id"]!.stringValue!, reason: "Called to cancel")
        #expect(cancelled["cancelationReason"]?["text"]?.stringValue == "Called to cancel")
        _ = try desk.book(slot: Self.slot, patient: "pat-0005")  // freed by the cancel
    }

    @Test func blockingAScheduleCancelsAndBlocksTheWindow() throws {
        let runtime = try Fixture.runtime("generic")
        let desk = StaffDesk(service: runtime.pipeline.service)
        let start = Fixture.now + 24 * 3_600_000  // Tuesday 08:00
        let result = try desk.block(practitioner: "pract-okafor", start: start, end: start + 4 * 3_600_000, reason: "out sick")
        #expect(result.cancelled.contains("appt-0001"))
        #expect(result.slots.contains(Self.slot))
        #expect(try Self.slotStatus(runtime, Self.slot) == "busy-unavailable")
        #expect(try Self.slotStatus(runtime, "slot-okafor-main-20260414-1300") == "free")  // after the window
        let appointment = try runtime.pipeline.call("GET", "Appointment/appt-0001").json()
        #expect(appointment["status"]?.stringValue == "cancelled")
    }

    @Test func rescheduleTakesAsManySlotsAsTheAppointmentNeeds() throws {
        let runtime = try Fixture.runtime("generic")
        let desk = StaffDesk(service: runtime.pipeline.service)
        let before = try runtime.pipeline.call("GET", "Appointment/appt-0002").json()
        let minutes = before["minutesDuration"]?.numberText
        // The first free slot of Dr Okafor's on Wednesday whose next slot is free too.
        let free =
            try runtime.pipeline.call(
                "GET",
                "Slot?schedule=Schedule/sched-okafor-main&status=free&start=ge2026-04-15T00:00:00-05:00&start=lt2026-04-16T00:00:00-05:00"
                    + "&_count=100&_sort=start"
            ).json()["entry"]?.arrayValue?.compactMap { $0["resource"]?.objectValue } ?? []
        let pair = zip(free, free.dropFirst()).first { $0["end"]?.stringValue == $1["start"]?.stringValue }
        let first = try #require(pair?.0["id"]?.stringValue)
        let moved = try desk.reschedule(appointment: "appt-0002", slot: first)
        #expect(moved["start"]?.stringValue?.hasPrefix("2026-04-15T") == true)
        #expect(moved["minutesDuration"]?.numberText == minutes)
        #expect((moved["slot"]?.arrayValue?.count ?? 0) == (before["slot"]?.arrayValue?.count ?? -1))
    }

    @Test func clientWritesRecordProvenanceAndOthersDoNot() throws {
        let runtime = try Fixture.runtime("generic")
        let created = runtime.pipeline.handle(Self.request("POST", "Appointment", body: Self.booking, client: "agent-7"))
        #expect(created.status == 201)
        let anonymous = Self.booking(at: "11:00", until: "11:20")
        #expect(runtime.pipeline.handle(Self.request("POST", "Appointment", body: anonymous)).status == 201)
        let provenance = try runtime.pipeline.call("GET", "Provenance").json()
        let entries = provenance["entry"]?.arrayValue ?? []
        #expect(entries.count == 1)
        let resource = entries.first?["resource"]
        #expect(resource?["agent"]?.arrayValue?.first?["who"]?["identifier"]?["value"]?.stringValue == "agent-7")
        #expect(resource?["activity"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "CREATE")
        #expect(resource?["target"]?.arrayValue?.first?["reference"]?.stringValue?.hasPrefix("Appointment/") == true)
    }
}
