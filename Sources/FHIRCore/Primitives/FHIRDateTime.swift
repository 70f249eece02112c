/// A FHIR `date`, `dateTime` or `instant` value with the precision it was written in.
///
/// The sandbox compares dates as half-open ranges of epoch milliseconds: `2026-04` is the whole
/// month, `2026-04-13T08:00:00-05:00` is one second. Values without a time zone are read in the
/// clinic's time zone (`TimeZoneRule`).
public struct FHIRDateTime: Sendable, Equatable {
    public enum Precision: Int, Sendable, Comparable {
        case year, month, day, minute, second, millisecond
        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// Which lexical forms are acceptable.
    public enum Form: Sendable {
        /// `date`: YYYY, YYYY-MM or YYYY-MM-DD.
        case date
        /// `dateTime`: a date, or a full time with seconds and a zone.
        case dateTime
        /// `instant`: full time with seconds and a zone.
        case instant
        /// Search values: any of the above, plus times without seconds or zone.
        case search
    }

    public var year: Int
    public var month: Int = 1
    public var day: Int = 1
    public var hour: Int = 0
    public var minute: Int = 0
    public var second: Int = 0
    public var millisecond: Int = 0
    /// Zone offset in seconds east of UTC, or nil when the value carries no zone.
    public var offsetSeconds: Int?
    public var precision: Precision

    public init(
        year: Int, month: Int = 1, day: Int = 1, hour: Int = 0, minute: Int = 0, second: Int = 0,
        millisecond: Int = 0, offsetSeconds: Int? = nil, precision: Precision
    ) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.millisecond = millisecond
        self.offsetSeconds = offsetSeconds
        self.precision = precision
    }

    /// Parses `text` in `form`, returning nil when it is not valid for that form.
    public static func parse(_ text: String, form: Form) -> FHIRDateTime? {
        var scanner = DigitScanner(Array(text.utf8))
        guard let year = scanner.digits(4) else { return nil }
        var value = FHIRDateTime(year: year, precision: .year)
        if scanner.atEnd { return form == .instant ? nil : value }
        guard scanner.take("-"), let month = scanner.digits(2), (1...12).contains(month) else { return nil }
        value.month = month
        value.precision = .month
        if scanner.atEnd { return form == .instant ? nil : value }
        guard scanner.take("-"), let day = scanner.digits(2), day >= 1,
            day <= CivilCalendar.daysInMonth(year: year, month: month)
        else { return nil }
        value.day = day
        value.precision = .day
        if scanner.atEnd { return form == .instant ? nil : value }
        guard form != .date, scanner.take("T"), let hour = scanner.digits(2), hour < 24,
            scanner.take(":"), let minute = scanner.digits(2), minute < 60
        else { return nil }
        value.hour = hour
        value.minute = minute
        value.precision = .minute
        if scanner.take(":") {
            guard let second = scanner.digits(2), second < 60 else { return nil }
            value.second = second
            value.precision = .second
            if scanner.take(".") {
                var fraction = 0
                var count = 0
                while let digit = scanner.digits(1) {
                    if count < 3 { fraction = fraction * 10 + digit }
                    count += 1
                }
                guard count > 0 else { return nil }
                if count < 3 { for _ in count..<3 { fraction *= 10 } }
                value.millisecond = fraction
                value.precision = .millisecond
            }
        } else if form != .search {
            return nil
        }
        if scanner.take("Z") {
            value.offsetSeconds = 0
        } else if let sign = scanner.sign() {
            guard let hours = scanner.digits(2), hours <= 14, scanner.take(":"), let minutes = scanner.digits(2),
                minutes < 60
            else { return nil }
            value.offsetSeconds = sign * (hours * 3600 + minutes * 60)
        } else if form != .search {
            return nil
        }
        return scanner.atEnd ? value : nil
    }

    /// The half-open range [lo, hi) of epoch milliseconds this value covers.
    public func range(in zone: TimeZoneRule) -> (lo: Int64, hi: Int64) {
        let lo = startMilliseconds(in: zone)
        let end: FHIRDateTime
        switch precision {
        case .year: end = FHIRDateTime(year: year + 1, offsetSeconds: offsetSeconds, precision: .year)
        case .month:
            end =
                month == 12
                ? FHIRDateTime(year: year + 1, offsetSeconds: offsetSeconds, precision: .month)
                : FHIRDateTime(year: year, month: month + 1, offsetSeconds: offsetSeconds, precision: .month)
        case .day:
            let days = CivilCalendar.daysFromCivil(year: year, month: month, day: day) + 1
            let (y, m, d) = CivilCalendar.civilFromDays(days)
            end = FHIRDateTime(year: y, month: m, day: d, offsetSeconds: offsetSeconds, precision: .day)
        case .minute: return (lo, lo + 60_000)
        case .second: return (lo, lo + 1_000)
        case .millisecond: return (lo, lo + 1)
        }
        return (lo, end.startMilliseconds(in: zone))
    }

    /// Epoch milliseconds of the first instant covered.
    public func startMilliseconds(in zone: TimeZoneRule) -> Int64 {
        let days = CivilCalendar.daysFromCivil(year: year, month: month, day: day)
        let local = (Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)) * 1000 + Int64(millisecond)
        let offset = offsetSeconds ?? zone.offsetSeconds(forLocalMilliseconds: local)
        return local - Int64(offset) * 1000
    }
}

/// Formats instants the way the sandbox writes them.
public enum InstantFormat {
    /// `2026-04-13T13:00:00.000Z` (UTC, millisecond precision) for `meta.lastUpdated`.
    public static func iso(_ milliseconds: Int64) -> String {
        iso(milliseconds, offsetSeconds: 0, fraction: true)
    }

    /// An instant in a given zone offset, e.g. `2026-04-13T08:00:00-05:00`.
    public static func iso(_ milliseconds: Int64, offsetSeconds: Int, fraction: Bool = false) -> String {
        let local = milliseconds + Int64(offsetSeconds) * 1000
        let days = Int(floorDiv(local, 86_400_000))
        let inDay = Int(local - Int64(days) * 86_400_000)
        let (y, m, d) = CivilCalendar.civilFromDays(days)
        var text = pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T"
        text += pad(inDay / 3_600_000, 2) + ":" + pad(inDay / 60_000 % 60, 2) + ":" + pad(inDay / 1000 % 60, 2)
        if fraction { text += "." + pad(inDay % 1000, 3) }
        if offsetSeconds == 0 { return text + "Z" }
        let sign = offsetSeconds < 0 ? "-" : "+"
        let absolute = abs(offsetSeconds)
        return text + sign + pad(absolute / 3600, 2) + ":" + pad(absolute / 60 % 60, 2)
    }

    /// A `date` (YYYY-MM-DD) for the local day containing the instant.
    public static func date(_ milliseconds: Int64, offsetSeconds: Int) -> String {
        String(iso(milliseconds, offsetSeconds: offsetSeconds).prefix(10))
    }

    private static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// RFC 7231 IMF-fixdate for `Last-Modified`: `Mon, 13 Apr 2026 13:00:00 GMT`.
    public static func http(_ milliseconds: Int64) -> String {
        let seconds = floorDiv(milliseconds, 1000)
        let days = Int(floorDiv(seconds, 86_400))
        let inDay = Int(seconds - Int64(days) * 86_400)
        let (y, m, d) = CivilCalendar.civilFromDays(days)
        let weekday = weekdays[((days % 7) + 7) % 7]
        return "\(weekday), \(pad(d, 2)) \(months[m - 1]) \(pad(y, 4)) "
            + "\(pad(inDay / 3600, 2)):\(pad(inDay / 60 % 60, 2)):\(pad(inDay % 60, 2)) GMT"
    }

    /// Zero-padded decimal.
    public static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}

/// Proleptic Gregorian calendar arithmetic (Howard Hinnant's algorithms), free of Foundation.
public enum CivilCalendar {
    public static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01.
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// 0 = Sunday ... 6 = Saturday.
    public static func weekday(days: Int) -> Int { ((days + 4) % 7 + 7) % 7 }
}

struct DigitScanner {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index == bytes.count }

    mutating func digits(_ count: Int) -> Int? {
        guard index + count <= bytes.count else { return nil }
        var value = 0
        for offset in 0..<count {
            let byte = bytes[index + offset]
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        index += count
        return value
    }

    mutating func take(_ character: Unicode.Scalar) -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(character.value) else { return false }
        index += 1
        return true
    }

    mutating func sign() -> Int? {
        if take("+") { return 1 }
        if take("-") { return -1 }
        return nil
    }
}
