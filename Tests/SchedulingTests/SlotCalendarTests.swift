import FHIRCore
import FHIRStore
import Foundation
import SandboxSeed
import Testing

@testable import Scheduling

@Suite struct SlotCalendarTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    // Monday 2026-04-13 08:00 in Chicago.
    static let monday: Int64 = 1_776_085_200_000
    let seed: Seed
    let calendar: SlotCalendar
    let clockDay: Int

    init() throws {
        seed = try SeedLoader.load(directory: Self.root.appendingPathComponent("Seeds/default").path)
        calendar = SlotCalendar(seed: seed)
        clockDay = seed.localDay(Self.monday)
    }

    func slots(_ schedule: String, dayOffset: Int) throws -> [SlotSpec] {
        let template = try #require(seed.schedules.first { $0.id == schedule })
        return calendar.slots(of: template, day: clockDay + dayOffset, clockDay: clockDay)
    }

    func times(_ slots: [SlotSpec]) -> [String] { slots.map { String(seed.format($0.start).dropFirst(11).prefix(5)) } }

    @Test func windowsAreCutIntoSlotsAroundLunch() throws {
        let tuesday = try slots("sched-okafor-main", dayOffset: 1)
        #expect(tuesday.count == 24)
        #expect(times(tuesday).first == "08:00" && times(tuesday).contains("11:40") && !times(tuesday).contains("12:00"))
        #expect(times(tuesday).contains("13:00") && times(tuesday).last == "16:40")
        #expect(tuesday.first?.id == "slot-okafor-main-20260414-0800")
        #expect(seed.format(tuesday[0].start) == "2026-04-14T08:00:00-05:00" && tuesday[0].end - tuesday[0].start == 20 * 60_000)
        #expect(tuesday.allSatisfy { PrimitiveCheck.isValidID($0.id) })
    }

    @Test func irregularitiesHold() throws {
        #expect(try slots("sched-okafor-main", dayOffset: 4).isEmpty)  // never Fridays
        let nguyenTuesday = try slots("sched-nguyen-main", dayOffset: 1)
        #expect(!nguyenTuesday.isEmpty && times(nguyenTuesday).allSatisfy { $0 >= "13:00" })  // surgery block
        let raman = try slots("sched-raman-main", dayOffset: 1)
        #expect(raman.filter { times([$0])[0] >= "13:00" }.allSatisfy { $0.types == ["NEW_PATIENT"] })
        #expect(raman.filter { times([$0])[0] < "12:00" }.allSatisfy { !$0.types.contains("NEW_PATIENT") })
        #expect(try slots("sched-larsen-main", dayOffset: 15).isEmpty)  // vacation, Tuesday of week 3
        #expect(try !slots("sched-larsen-main", dayOffset: 22).isEmpty)
        #expect(try slots("sched-obrien-northside", dayOffset: 4).allSatisfy { times([$0])[0] < "13:00" })
        let thanksgiving = CivilCalendar.daysFromCivil(year: 2026, month: 11, day: 26)
        for schedule in seed.schedules {
            #expect(calendar.slots(of: schedule, day: thanksgiving, clockDay: clockDay).isEmpty, "\(schedule.id)")
        }
    }

    @Test func daylightSavingTimeMovesTheOffset() throws {
        let afterDST = CivilCalendar.daysFromCivil(year: 2026, month: 11, day: 2)  // a Monday; DST ended Nov 1
        let template = try #require(seed.schedules.first { $0.id == "sched-okafor-main" })
        let first = try #require(calendar.slots(of: template, day: afterDST, clockDay: afterDST).first)
        #expect(seed.format(first.start) == "2026-11-02T08:00:00-06:00")
        #expect(InstantFormat.iso(first.start) == "2026-11-02T14:00:00.000Z")
    }

    @Test func sameSeedAndDateGiveTheSameSlots() {
        let horizon = clockDay..<(clockDay + seed.planningHorizonDays)
        let first = calendar.slots(days: horizon, clockDay: clockDay)
        #expect(first == calendar.slots(days: horizon, clockDay: clockDay))
        #expect(Set(first.map(\.id)).count == first.count)
        #expect(first.count > 5000)
    }
}

@Suite struct ClinicRendererTests {
    let seed: Seed
    let resources: [JSON]

    init() throws {
        seed = try SeedLoader.load(directory: SlotCalendarTests.root.appendingPathComponent("Seeds/default").path)
        resources = ClinicRenderer(seed: seed).render(at: SlotCalendarTests.monday)
    }

    var slots: [JSON] { resources.filter { $0["resourceType"]?.stringValue == "Slot" } }
    var appointments: [JSON] { resources.filter { $0["resourceType"]?.stringValue == "Appointment" } }

    @Test func everythingIsValidR4() {
        let validator = StructuralValidator()
        for resource in resources {
            let issues = validator.validate(resource)
            #expect(issues.isEmpty, "\(resource["id"]?.stringValue ?? ""): \(issues)")
        }
    }

    @Test func noSlotIsTakenTwiceAndBookedSlotsAreBusy() throws {
        var taken: [String: String] = [:]
        let status = Dictionary(uniqueKeysWithValues: slots.map { ($0["id"]!.stringValue!, $0["status"]!.stringValue!) })
        for appointment in appointments where appointment["status"]?.stringValue != "cancelled" {
            for reference in appointment["slot"]?.arrayValue ?? [] {
                let id = String(try #require(reference["reference"]?.stringValue).dropFirst(5))
                #expect(taken.updateValue(appointment["id"]!.stringValue!, forKey: id) == nil, "\(id) booked twice")
                #expect(status[id] == "busy")
            }
        }
        #expect(Set(taken.keys) == Set(status.filter { $0.value == "busy" }.keys))
        let first = try #require(appointments.first { $0["id"]?.stringValue == "appt-0001" })
        #expect(first["slot"]?.arrayValue?.count == 1)
        let cancelled = try #require(appointments.first { $0["id"]?.stringValue == "appt-0008" })
        #expect(cancelled["slot"] == nil)
    }

    @Test func visitsCoverContiguousSlotsOfTheirLength() throws {
        let byID = Dictionary(uniqueKeysWithValues: slots.map { ($0["id"]!.stringValue!, $0) })
        for appointment in appointments {
            let references = (appointment["slot"]?.arrayValue ?? []).compactMap { $0["reference"]?.stringValue?.dropFirst(5) }
            guard !references.isEmpty else { continue }
            let covered = try references.map { try #require(byID[String($0)]) }
            #expect(covered.first?["start"] == appointment["start"] && covered.last?["end"] == appointment["end"])
            for (a, b) in zip(covered, covered.dropFirst()) { #expect(a["end"] == b["start"]) }
        }
    }

    @Test func theNextTwoWeeksAreRealisticallyFull() {
        let limit = SlotCalendarTests.monday + 14 * 86_400_000
        let soon = slots.filter { slot in
            let start = FHIRDateTime.parse(slot["start"]!.stringValue!, form: .instant)!.startMilliseconds(in: .utc)
            return start >= SlotCalendarTests.monday && start < limit
        }
        let busy = soon.filter { $0["status"]?.stringValue == "busy" }.count
        let share = Double(busy) / Double(soon.count)
        #expect(share >= 0.6 && share <= 0.8, "\(busy) of \(soon.count) busy")
    }

    @Test func renderingIsDeterministic() {
        #expect(ClinicRenderer(seed: seed).render(at: SlotCalendarTests.monday).map(\.text) == resources.map(\.text))
    }
}

@Suite struct SlotRendererTests {
    @Test func assembledBytesEqualTheJSONRendering() throws {
        let seed = try SeedLoader.load(directory: SlotCalendarTests.root.appendingPathComponent("Seeds/default").path)
        let renderer = SlotRenderer(seed: seed, displays: seed.codeDisplays())
        let (_, rows) = ClinicRenderer(seed: seed).seeded(at: SlotCalendarTests.monday)
        for row in rows.prefix(400) + rows.suffix(200) {
            for now in [SlotCalendarTests.monday, row.start + 1] {
                #expect(try JSONParser.parse(renderer.bytes(row, now: now)) == renderer.json(row, now: now), "\(row.id)")
            }
        }
        // Cerner's shape: UTC times and the scheduling-location extension.
        let cerner = SlotRenderer(seed: seed, displays: seed.codeDisplays(), utc: true, locationExtension: "https://example.org/location")
        for row in rows.prefix(50) {
            let json = try JSONParser.parse(cerner.bytes(row, now: SlotCalendarTests.monday))
            #expect(json == cerner.json(row, now: SlotCalendarTests.monday))
            #expect(json["extension"]?.arrayValue?.first?["valueReference"]?["reference"]?.stringValue?.hasPrefix("Location/") == true)
            #expect(json["start"]?.stringValue?.hasSuffix("Z") == true)
        }
        var unusual = rows[0]
        unusual = SlotRow(
            id: "x", schedule: unusual.schedule, start: unusual.start, end: unusual.end, status: "busy", types: ["URGENT"], lastUpdated: 0)
        #expect(try JSONParser.parse(renderer.bytes(unusual, now: 0)) == renderer.json(unusual, now: 0))
    }
}
