import FHIRCore
import Testing

@testable import SandboxProfiles

/// athena's FHIR ids (vendor-quirks §3.3, §3.9): the documented shapes, and every id back to
/// the stored one.
@Suite struct AthenaIDsTests {
    let ids = AthenaIDs(seed: Fixture.seed, practice: "195900")

    @Test func documentedShapes() {
        #expect(ids.external("pat-0001", type: "Patient") == "a-195900.E-60178")
        #expect(ids.external("org-riverbend", type: "Organization") == "a-1.Practice-195900")
        #expect(ids.external("loc-main", type: "Location").hasPrefix("a-195900.Department-"))
        #expect(ids.external("appt-0001", type: "Appointment").hasPrefix("a-195900.Appointment-"))
    }

    @Test func everyIdComesBack() {
        let cases: [(String, String)] = [
            ("Patient", "pat-0001"), ("Patient", "pat-0022"), ("Patient", "0f8fad5b-d9cb-469f-a165-70867728950e"),
            ("Patient", "client-chosen-id"), ("Organization", "org-riverbend"), ("Organization", "org-payer-prairie"),
            ("Location", "loc-telehealth"), ("Practitioner", "pract-okafor"), ("Appointment", "appt-0004"),
            ("Appointment", "3b241101-e2bb-4255-8caf-4136c566a962"),
        ]
        for (type, id) in cases {
            let shown = ids.external(id, type: type)
            #expect(shown.hasPrefix("a-"), "\(type)/\(id) → \(shown)")
            #expect(ids.internal(shown, type: type) == id, "\(type)/\(id) → \(shown)")
        }
    }

    @Test func idsOfAnotherPracticeOrTypeAreNotOurs() {
        #expect(ids.internal("a-195901.E-60178", type: "Patient") == nil)
        #expect(ids.internal("a-195900.E-60178", type: "Practitioner") == nil)
        #expect(ids.internal("pat-0001", type: "Patient") == nil)
        #expect(ids.internal("a-195900.E-abc", type: "Patient") == nil)
    }

    /// §3.4, §3.8 (2): an open slot's appointment id is the one its booking keeps; a booking after
    /// a cancellation gets the next generation; the clinic's background appointments their own.
    @Test func appointmentIdsEncodeTheSlot() throws {
        let slot = "slot-okafor-main-20260414-0800"
        let number = try #require(ids.appointmentID(slot: slot))
        #expect(number < 1 << 53)
        #expect(ids.external(slot, type: "Slot") == "a-195900.Slot-\(number)")
        #expect(ids.external("appt-\(slot)", type: "Appointment") == "a-195900.Appointment-\(number)")
        let second = try #require(ids.appointmentID(slot: slot, generation: 1))
        #expect(second == number + AthenaIDs.generationUnit)
        for (type, id) in [
            ("Slot", slot), ("Appointment", "appt-\(slot)"), ("Appointment", "appt-\(slot).1"),
            ("Appointment", "appt-okafor-main-20260414-0900"), ("Appointment", "appt-reyes-main-20261231-1330"),
        ] {
            let shown = ids.external(id, type: type)
            #expect(ids.internal(shown, type: type) == id, "\(type)/\(id) → \(shown)")
        }
        #expect(ids.appointmentID(slot: "slot-nobody-20260414-0800") == nil)
        #expect(ids.appointmentID(slot: "slot-okafor-main-20260414-2575") == nil)
        #expect(ids.slot(appointmentID: 99_000_000_000) == nil)
    }
}
