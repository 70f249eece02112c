import Foundation
import Synchronization

/// How local (zone-less) times are turned into instants: a fixed offset, or an IANA zone with
/// its daylight-saving rules. The clinic's zone comes from the seed.
public struct TimeZoneRule: Sendable {
    private let zone: TimeZone?
    private let fixedOffset: Int
    /// Offsets by 15-minute bucket: zone transitions fall on quarter hours, and asking
    /// Foundation (ICU) for every timestamp dominated slot rendering.
    private let cache = OffsetCache()

    /// A fixed offset in seconds east of UTC.
    public init(fixedOffsetSeconds: Int) {
        zone = nil
        fixedOffset = fixedOffsetSeconds
    }

    /// An IANA zone such as `America/Chicago`; nil when the name is unknown.
    public init?(identifier: String) {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        self.zone = zone
        fixedOffset = 0
    }

    public static let utc = TimeZoneRule(fixedOffsetSeconds: 0)

    /// The zone's identifier, or a `+hh:mm` offset.
    public var name: String {
        if let zone { return zone.identifier }
        return fixedOffset == 0 ? "UTC" : String(InstantFormat.iso(0, offsetSeconds: fixedOffset).suffix(6))
    }

    /// Offset at an instant.
    public func offsetSeconds(atMilliseconds instant: Int64) -> Int {
        guard let zone else { return fixedOffset }
        let bucket = instant >= 0 ? instant / 900_000 : (instant - 899_999) / 900_000
        if let cached = cache.offset(bucket) { return cached }
        let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(bucket * 900_000) / 1000))
        cache.store(offset, for: bucket)
        return offset
    }

    /// Offset for a wall-clock time read in this zone (the offset in force at that local time).
    public func offsetSeconds(forLocalMilliseconds local: Int64) -> Int {
        guard zone != nil else { return fixedOffset }
        let guess = offsetSeconds(atMilliseconds: local)
        return offsetSeconds(atMilliseconds: local - Int64(guess) * 1000)
    }
}

/// A bounded memo of zone offsets by 15-minute bucket.
final class OffsetCache: Sendable {
    private let table = Mutex<[Int64: Int]>([:])

    func offset(_ bucket: Int64) -> Int? { table.withLock { $0[bucket] } }

    func store(_ offset: Int, for bucket: Int64) {
        table.withLock { table in
            if table.count > 65_536 { table.removeAll(keepingCapacity: true) }
            table[bucket] = offset
        }
    }
}
