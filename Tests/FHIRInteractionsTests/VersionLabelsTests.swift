import FHIRCore
import Testing

@testable import FHIRInteractions

/// Version labels: what a client sees for stored versions, and what its `If-Match` names.
@Suite struct VersionLabelsTests {
    let cernerLike = VersionLabels(offset: -1, suffixed: ["Appointment"], suffix: "-1")

    @Test func labelsShowTheOffsetAndTheSuffixFromTheSecondVersion() {
        #expect(cernerLike.label(1, type: "Appointment") == "0")
        #expect(cernerLike.etag(2, type: "Appointment") == "W/\"1-1\"")
        #expect(cernerLike.label(11, type: "Patient") == "10")
        #expect(VersionLabels().etag(3, type: "Appointment") == "W/\"3\"")
    }

    @Test func labelsReadBackToStoredVersions() throws {
        #expect(try cernerLike.stored(fromLabel: "10-1", type: "Appointment") == 11)
        #expect(try cernerLike.stored(fromLabel: "0", type: "Appointment") == 1)
        #expect(try cernerLike.stored(fromLabel: "10", type: "Patient") == 11)
        // Well-formed, but never issued: a bare number where the base shows a suffix, and back.
        #expect(try cernerLike.stored(fromLabel: "10", type: "Appointment") == nil)
        #expect(try cernerLike.stored(fromLabel: "10-1", type: "Patient") == nil)
        #expect(throws: FHIRError.self) { try cernerLike.stored(fromLabel: "ten", type: "Appointment") }
    }

    @Test func aConflictQuotesWhatTheClientSentAndTheCurrentETag() throws {
        let naive = try IfMatch.parse("W/\"1\"", type: "Appointment", labels: cernerLike)
        #expect(naive.version == nil)
        do {
            try naive.check(current: 2, type: "Appointment", id: "a")
            Issue.record("a bare W/\"1\" must not match W/\"1-1\"")
        } catch {
            #expect(error.message.contains("If-Match is W/\"1\" but Appointment/a is at W/\"1-1\""))
        }
        try IfMatch.parse("\"1-1\"", type: "Appointment", labels: cernerLike).check(current: 2, type: "Appointment", id: "a")
    }
}
