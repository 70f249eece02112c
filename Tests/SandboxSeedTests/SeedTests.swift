import FHIRCore
import Foundation
import Testing

@testable import SandboxSeed

/// The default seed loads, and seeds with mistakes fail with file and line.
@Suite struct SeedTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let defaultSeed = root.appendingPathComponent("Seeds/default").path
    // Monday 2026-04-13 08:00 in Chicago.
    static let monday: Int64 = 1_776_085_200_000

    @Test func defaultSeedHasTheDocumentedClinic() throws {
        let seed = try SeedLoader.load(directory: Self.defaultSeed)
        let resources = seed.render(at: Self.monday)
        func count(_ type: String) -> Int { resources.filter { $0["resourceType"]?.stringValue == type }.count }
        #expect(count("Patient") >= 300)
        #expect(count("Practitioner") >= 8 && count("PractitionerRole") == count("Practitioner"))
        #expect(count("Organization") >= 2 && count("Location") >= 2)
        #expect(count("Schedule") == seed.schedules.count && count("Appointment") == seed.appointments.count)
        #expect(seed.appointmentTypes.count >= 6)
        #expect(Double(count("Coverage")) > Double(count("Patient")) * 0.75)
        let validator = StructuralValidator()
        for resource in resources { #expect(validator.validate(resource).isEmpty) }
        let ids = resources.map { "\($0["resourceType"]!.stringValue!)/\($0["id"]!.stringValue!)" }
        #expect(Set(ids).count == ids.count)
    }

    @Test func renderingIsDeterministicAndRelativeToTheClock() throws {
        let seed = try SeedLoader.load(directory: Self.defaultSeed)
        #expect(seed.render(at: Self.monday).map(\.text) == seed.render(at: Self.monday).map(\.text))
        let appointment = try #require(seed.render(at: Self.monday).first { $0["id"]?.stringValue == "appt-0001" })
        #expect(appointment["start"]?.stringValue == "2026-04-14T09:00:00-05:00")
        let later = try #require(seed.render(at: Self.monday + 7 * 86_400_000).first { $0["id"]?.stringValue == "appt-0001" })
        #expect(later["start"]?.stringValue == "2026-04-21T09:00:00-05:00")
        let schedule = try #require(seed.render(at: Self.monday).first { $0["id"]?.stringValue == "sched-okafor-main" })
        #expect(schedule["planningHorizon"]?["start"]?.stringValue == "2026-04-13T00:00:00-05:00")
        #expect(schedule["planningHorizon"]?["end"]?.stringValue == "2026-07-12T00:00:00-05:00")
    }

    @Test func templatesEncodeTheIrregularities() throws {
        let seed = try SeedLoader.load(directory: Self.defaultSeed)
        let clockDay = seed.localDay(Self.monday)
        let okafor = try #require(seed.schedules.first { $0.id == "sched-okafor-main" })
        let nine = TimeOfDay(minutes: 9 * 60)
        let nineTwenty = TimeOfDay(minutes: 9 * 60 + 20)
        #expect(seed.isOpen(okafor, day: clockDay, start: nine, end: nineTwenty, clockDay: clockDay))
        #expect(!seed.isOpen(okafor, day: clockDay + 4, start: nine, end: nineTwenty, clockDay: clockDay))  // Friday
        #expect(
            !seed.isOpen(
                okafor, day: clockDay, start: TimeOfDay(minutes: 12 * 60), end: TimeOfDay(minutes: 12 * 60 + 20), clockDay: clockDay))
        let nguyen = try #require(seed.schedules.first { $0.id == "sched-nguyen-main" })
        #expect(!seed.isOpen(nguyen, day: clockDay + 1, start: nine, end: TimeOfDay(minutes: 9 * 60 + 30), clockDay: clockDay))
        let raman = try #require(seed.schedules.first { $0.id == "sched-raman-main" })
        let tuesdayAfternoon = try #require(raman.week[2]?.last)
        #expect(raman.types(of: tuesdayAfternoon) == ["NEW_PATIENT"])
        let larsen = try #require(seed.schedules.first { $0.id == "sched-larsen-main" })
        #expect(!seed.isOpen(larsen, day: clockDay + 15, start: nine, end: TimeOfDay(minutes: 9 * 60 + 30), clockDay: clockDay))
        #expect(seed.isOpen(larsen, day: clockDay + 22, start: nine, end: TimeOfDay(minutes: 9 * 60 + 30), clockDay: clockDay))
        let thanksgiving = CivilCalendar.daysFromCivil(year: 2026, month: 11, day: 26)
        let northside = try #require(seed.schedules.first { $0.id == "sched-martinez-garcia-northside" })
        #expect(!seed.isOpen(northside, day: thanksgiving, start: nine, end: nineTwenty, clockDay: clockDay))
    }

    func brokenSeed(_ edit: (URL) throws -> Void) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seed-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: Self.defaultSeed), to: directory)
        defer { try? FileManager.default.removeItem(at: directory) }
        try edit(directory)
        do {
            _ = try SeedLoader.load(directory: directory.path)
            return ""
        } catch {
            return error.message
        }
    }

    @Test func mistakesNameTheFileAndLine() throws {
        let unknownKey = try brokenSeed { directory in
            try "name: x\ntimeZone: UTC\ncolour: red\n".write(
                to: directory.appendingPathComponent("seed.yaml"), atomically: true, encoding: .utf8)
        }
        #expect(unknownKey.contains("seed.yaml:3") && unknownKey.contains("colour"))
        let badZone = try brokenSeed { directory in
            try "name: x\ntimeZone: Mars/Olympus\n".write(
                to: directory.appendingPathComponent("seed.yaml"), atomically: true, encoding: .utf8)
        }
        #expect(badZone.contains("Mars/Olympus"))
        let dangling = try brokenSeed { directory in
            let file = directory.appendingPathComponent("resources/Coverage.ndjson")
            let text =
                try String(contentsOf: file, encoding: .utf8)
                + #"{"resourceType":"Coverage","id":"x","status":"active","beneficiary":{"reference":"Patient/ghost"},"payor":[{"reference":"Organization/org-riverbend"}]}"#
                + "\n"
            try text.write(to: file, atomically: true, encoding: .utf8)
        }
        #expect(dangling.contains("Patient/ghost"))
        let badTime = try brokenSeed { directory in
            let file = directory.appendingPathComponent("appointments.yaml")
            let text = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(of: "time: \"09:00\"", with: "time: \"9am\"")
            try text.write(to: file, atomically: true, encoding: .utf8)
        }
        #expect(badTime.contains("appointments.yaml") && badTime.contains("9am"))
        #expect(throws: SeedError.self) { try SeedLoader.load(directory: "/nonexistent") }
    }
}
