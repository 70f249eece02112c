import Testing

@testable import FHIRCore

@Suite struct DateTimeTests {
    let chicago = TimeZoneRule(identifier: "America/Chicago")!

    @Test func parsesEachFormAndPrecision() {
        #expect(FHIRDateTime.parse("2026", form: .date)?.precision == .year)
        #expect(FHIRDateTime.parse("2026-04", form: .dateTime)?.precision == .month)
        #expect(FHIRDateTime.parse("2026-04-13T08:00:00-05:00", form: .instant)?.precision == .second)
        #expect(FHIRDateTime.parse("2026-04-13T08:00:00.5Z", form: .instant)?.millisecond == 500)
        #expect(FHIRDateTime.parse("2026-04-13T08:00:00.123456Z", form: .instant)?.millisecond == 123)
        #expect(FHIRDateTime.parse("2026-04-13T08:00", form: .search)?.offsetSeconds == nil)
    }

    @Test(arguments: [
        ("2026-04-13T08:00:00", FHIRDateTime.Form.dateTime),  // time without zone
        ("2026-04-13T08:00Z", .dateTime),  // no seconds
        ("2026-02-30", .date),
        ("2026-13", .date),
        ("2026-04-13", .instant),
        ("2026-04-13T24:00:00Z", .instant),
        ("2026-04-13T08:00:00+15:00", .instant),
        ("26-04-13", .date),
        ("2026-04-13T08:00:00Z", .date),
        ("2026-04-13T08:00:00.Z", .instant),
    ])
    func rejectsInvalidValues(text: String, form: FHIRDateTime.Form) {
        #expect(FHIRDateTime.parse(text, form: form) == nil)
    }

    @Test func rangesFollowPrecisionAndZone() throws {
        let day = try #require(FHIRDateTime.parse("2026-04-13", form: .date)).range(in: chicago)
        #expect(InstantFormat.iso(day.lo) == "2026-04-13T05:00:00.000Z")
        #expect(InstantFormat.iso(day.hi) == "2026-04-14T05:00:00.000Z")
        let winter = try #require(FHIRDateTime.parse("2026-01-15", form: .date)).range(in: chicago)
        #expect(InstantFormat.iso(winter.lo) == "2026-01-15T06:00:00.000Z")
        let year = try #require(FHIRDateTime.parse("2024", form: .date)).range(in: .utc)
        #expect(year.hi - year.lo == 366 * 86_400_000)
        let second = try #require(FHIRDateTime.parse("2026-04-13T08:00:00-05:00", form: .instant)).range(in: .utc)
        #expect(second.hi - second.lo == 1000)
        #expect(InstantFormat.iso(second.lo) == "2026-04-13T13:00:00.000Z")
    }

    @Test func formatsInstantsForFHIRAndHTTP() {
        let instant: Int64 = 1_776_085_200_000  // 2026-04-13T13:00:00Z
        #expect(InstantFormat.iso(instant) == "2026-04-13T13:00:00.000Z")
        #expect(InstantFormat.iso(instant, offsetSeconds: -18_000) == "2026-04-13T08:00:00-05:00")
        #expect(InstantFormat.http(instant) == "Mon, 13 Apr 2026 13:00:00 GMT")
        #expect(InstantFormat.iso(-1) == "1969-12-31T23:59:59.999Z")
    }

    @Test func civilCalendarRoundTrips() {
        for days in stride(from: -800_000, to: 800_000, by: 997) {
            let (y, m, d) = CivilCalendar.civilFromDays(days)
            #expect(CivilCalendar.daysFromCivil(year: y, month: m, day: d) == days)
        }
        #expect(CivilCalendar.weekday(days: 0) == 4)  // 1970-01-01 was a Thursday
    }

    @Test func clockFreezesMovesAndAdvances() {
        let clock = SandboxClock(system: { 1_000 })
        #expect(clock.now() == 1_000 && !clock.isFrozen)
        clock.advance(by: 500)
        #expect(clock.now() == 1_500)
        clock.set(10_000, frozen: true)
        clock.advance(by: 1)
        #expect(clock.now() == 10_001 && clock.isFrozen)
        clock.set(20_000, frozen: false)
        #expect(clock.now() == 20_000 && !clock.isFrozen)
    }

    @Test func seededRandomnessIsDeterministic() {
        let a = RandomSource.seeded(42)
        let b = RandomSource.seeded(42)
        #expect(a.uuid() == b.uuid())
        let id = a.uuid()
        #expect(PrimitiveCheck.isValidID(id) && id.count == 36)
        #expect(id.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12])
        #expect(Array(id)[14] == "4" && "89ab".contains(Array(id)[19]))
        #expect(a.token(20).allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(a.token(16).count == 16)
    }
}
