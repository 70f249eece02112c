/// A slot as stored: the compact row a Slot resource is rendered from. Slots live in their own
/// table (about 100 bytes a row) rather than as versioned JSON with index rows, because a
/// 90-day horizon has thousands of them.
public struct SlotRow: Sendable, Equatable {
    public let id: String
    public let schedule: String
    /// Epoch milliseconds.
    public let start: Int64
    public let end: Int64
    public var status: String
    /// Visit-type codes the slot takes, comma-separated as stored.
    public let typeList: String
    public var version: Int
    public var lastUpdated: Int64

    /// Visit-type codes the slot takes.
    public var types: [String] { typeList.split(separator: ",").map(String.init) }

    public init(
        id: String, schedule: String, start: Int64, end: Int64, status: String, types: [String], version: Int = 1, lastUpdated: Int64
    ) {
        self.init(
            id: id, schedule: schedule, start: start, end: end, status: status, typeList: types.joined(separator: ","), version: version,
            lastUpdated: lastUpdated)
    }

    public init(
        id: String, schedule: String, start: Int64, end: Int64, status: String, typeList: String, version: Int, lastUpdated: Int64
    ) {
        self.id = id
        self.schedule = schedule
        self.start = start
        self.end = end
        self.status = status
        self.typeList = typeList
        self.version = version
        self.lastUpdated = lastUpdated
    }
}

/// Which slots a search wants; every set condition must hold.
public struct SlotFilter: Sendable {
    /// A half-open range for the slot's start: `from <= start < before` (either may be open).
    public enum TimeCondition: Sendable, Equatable {
        case range(from: Int64?, before: Int64?)
    }

    public var ids: [String]?
    public var schedules: Set<String>?
    /// Conditions on the start: each inner list is ORed; the lists are ANDed.
    public var times: [[TimeCondition]] = []
    /// The same on the last update (`_lastUpdated`).
    public var updated: [[TimeCondition]] = []
    /// Statuses as stored.
    public var statuses: Set<String>?
    /// Free slots are only offered from this instant on (`nil`: any time).
    public var freeFrom: Int64?
    /// Slots whose types include any of these.
    public var types: Set<String>?
    /// Slots whose types include none of these.
    public var excludedTypes: Set<String>?

    public init() {}
}
