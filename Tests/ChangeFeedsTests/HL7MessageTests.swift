import FHIRCore
import Testing

@testable import ChangeFeeds

/// ER7 reading and writing, and HL7 times.
@Suite struct HL7MessageTests {
    @Test func parsesFieldsComponentsRepetitionsAndEscapes() throws {
        let text = "MSH|^~\\&|APP|FAC|||20260413080000||SRM^S01^SRM_S01|C1|P|2.5.1\rPID|1||A1^^^F^MR~B2||O\\T\\Brien^Ann\\F\\Marie\r"
        let message = try HL7Message.parse(text)
        #expect(message.type == "SRM^S01" && message.controlID == "C1")
        let pid = try #require(message.segment("PID"))
        #expect(pid[3].component(1) == "A1" && pid[3].component(5) == "MR" && pid[3].component(1, repetition: 2) == "B2")
        #expect(pid[5].component(1) == "O&Brien" && pid[5].component(2) == "Ann|Marie")
        // Written back, the escapes come back and the message reads the same.
        #expect(try HL7Message.parse(message.encoded) == message)
        #expect(message.encoded.contains("O\\T\\Brien^Ann\\F\\Marie"))
    }

    @Test func refusesWhatIsNotAMessage() {
        #expect(throws: HL7ParseError.self) { try HL7Message.parse("PID|1") }
        #expect(throws: HL7ParseError.self) { try HL7Message.parse("MSH|#~\\&|A") }
        #expect(throws: HL7ParseError.self) { try HL7Message.parse("MSH|^~\\&|A\rpid|1") }
    }

    @Test func timesCarryTheClinicsOffsetAndReadBack() throws {
        let zone = try #require(TimeZoneRule(identifier: "America/Chicago"))
        let instant: Int64 = 1_776_175_200_000  // 2026-04-14T14:00:00Z
        #expect(HL7Time.format(instant, zone: zone) == "20260414090000-0500")
        #expect(HL7Time.parse("20260414090000-0500", zone: zone) == instant)
        #expect(HL7Time.parse("202604140900", zone: zone) == instant)  // local time in the clinic's zone
        #expect(HL7Time.parse("2026-04-14", zone: zone) == nil)
    }

    @Test func triggersFollowWhatChanged() {
        let booked = JSONObject(["status": .string("booked"), "start": .string("2026-04-14T09:00:00-05:00")])
        var moved = booked
        moved["start"] = .string("2026-04-14T10:00:00-05:00")
        var cancelled = booked
        cancelled["status"] = .string("cancelled")
        #expect(HL7Outbound.appointmentTrigger(booked, old: nil) == "S12")
        #expect(HL7Outbound.appointmentTrigger(moved, old: booked) == "S13")
        #expect(HL7Outbound.appointmentTrigger(cancelled, old: booked) == "S15")
        #expect(HL7Outbound.appointmentTrigger(booked, old: booked) == "S14")
        #expect(HL7Outbound.appointmentTrigger(nil, old: booked) == "S17")
    }
}
