import FHIRCore

/// HL7 v2 times (DTM): `YYYYMMDDHHMMSS±ZZZZ` in the clinic's zone, and back.
public enum HL7Time {
    /// An instant as DTM with the zone's offset at that instant.
    public static func format(_ milliseconds: Int64, zone: TimeZoneRule) -> String {
        let offset = zone.offsetSeconds(atMilliseconds: milliseconds)
        let digits = InstantFormat.iso(milliseconds, offsetSeconds: offset).prefix(19).filter(\.isNumber)
        let minutes = abs(offset) / 60
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
        return digits + (offset < 0 ? "-" : "+") + two(minutes / 60) + two(minutes % 60)
    }

    /// A FHIR instant or dateTime (`2026-04-14T09:00:00-05:00`) as DTM; a date as `YYYYMMDD`.
    public static func format(fhir text: String, zone: TimeZoneRule) -> String {
        if text.count == 10 { return text.filter { $0 != "-" } }
        guard let parsed = FHIRDateTime.parse(text, form: .instant) else { return "" }
        return format(parsed.startMilliseconds(in: zone), zone: zone)
    }

    /// A DTM (`YYYYMMDDHHMM[SS[.S…]][±ZZZZ]`) as an instant; without an offset, local time in `zone`.
    public static func parse(_ text: String, zone: TimeZoneRule) -> Int64? {
        let digits = text.prefix { $0.isNumber }
        guard digits.count >= 12, digits.count <= 14 || text.dropFirst(14).first == "." else { return nil }
        let core = String(digits.prefix(14)) + String(repeating: "0", count: max(0, 14 - min(digits.count, 14)))
        let rest = text.drop { $0.isNumber || $0 == "." }
        let iso =
            "\(core.prefix(4))-\(core.dropFirst(4).prefix(2))-\(core.dropFirst(6).prefix(2))T"
            + "\(core.dropFirst(8).prefix(2)):\(core.dropFirst(10).prefix(2)):\(core.dropFirst(12).prefix(2))"
        if let sign = rest.first, sign == "+" || sign == "-" {
            let offset = rest.dropFirst()
            guard offset.count == 4, offset.allSatisfy(\.isNumber) else { return nil }
            return FHIRDateTime.parse(iso + "\(sign)\(offset.prefix(2)):\(offset.suffix(2))", form: .instant)?.startMilliseconds(in: zone)
        }
        guard rest.isEmpty, let local = FHIRDateTime.parse(iso + "Z", form: .instant)?.startMilliseconds(in: .utc) else { return nil }
        return local - Int64(zone.offsetSeconds(forLocalMilliseconds: local)) * 1000
    }
}
