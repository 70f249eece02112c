import FHIRCore
import FHIRInteractions
import FHIRSearch
import FHIRStore
import SandboxSeed

/// Serves Slot from the slot table: read and search (the R4 Slot parameters, one-level chains
/// through `schedule`, `_include=Slot:schedule`), sorted by start. Slots are generated from
/// the templates; booking changes them; with `writable`, a client creates, updates and deletes
/// them too. With `holdsByPatch`, a JSON Patch `replace /status` between `free` and
/// `busy-tentative` holds and releases a slot.
public struct SlotProvider: ResourceProvider {
    /// The Slot search parameters implemented here.
    public static let parameters: Set<String> = [
        "_id", "_lastUpdated", "appointment-type", "identifier", "schedule", "service-category", "service-type", "specialty", "start",
        "status",
    ]

    public let renderer: SlotRenderer
    /// Whether PATCH of `/status` holds and releases slots.
    public let holdsByPatch: Bool
    /// Whether slots can be created, updated and deleted (`SlotProvider+Writes`).
    public let writable: Bool
    public var interactions: [String] {
        ["read", "search-type"] + (holdsByPatch ? ["patch"] : []) + (writable ? ["vread", "create", "update", "delete"] : [])
    }

    public init(renderer: SlotRenderer, holdsByPatch: Bool = false, writable: Bool = false) {
        self.renderer = renderer
        self.holdsByPatch = holdsByPatch
        self.writable = writable
    }

    /// The hold: only `replace /status` with `busy-tentative` (from `free`) or `free` (from a
    /// `busy-tentative` no appointment holds). Anything else is a 422 naming the operation.
    public func patch(
        _ id: String, operations: [JSONPatch.Operation], ifMatch: IfMatch?, tx: StoreTransaction, now: Int64
    ) throws(FHIRError) -> StoredResource {
        guard holdsByPatch else { throw FHIRError(.methodNotAllowed, "PATCH is not offered for Slot") }
        guard let row = try tx.slots([id]).first else { throw FHIRError(.notFound, "Slot/\(id) does not exist") }
        try ifMatch?.check(current: row.version, type: "Slot", id: id)
        var wanted: String?
        for operation in operations {
            guard operation.op == "replace", operation.path == ["status"], let value = operation.value?.stringValue,
                ["free", "busy-tentative"].contains(value)
            else {
                throw FHIRError(
                    .businessRule, "operation \(operation.index): only replace /status with free or busy-tentative is supported for Slot",
                    expression: ["Slot.status"])
            }
            wanted = value
        }
        guard let wanted else { throw FHIRError(.malformedRequest, "the JSON Patch document has no operations") }
        if wanted != row.status {
            let from: Set<String> = wanted == "busy-tentative" ? ["free"] : ["busy-tentative"]
            if wanted == "free", try AppointmentBooking.holder(of: id, tx: tx) != nil {
                throw FHIRError(
                    .conflict, "Slot/\(id) is held by an appointment; cancel or book that appointment instead", expression: ["Slot.status"])
            }
            guard row.end > now || wanted == "free", try tx.setSlotStatus([id], from: from, to: wanted, at: now) else {
                throw FHIRError(.conflict, "Slot/\(id) is \(row.status); it cannot become \(wanted)", expression: ["Slot.status"])
            }
        }
        guard let updated = try tx.slots([id]).first else { throw FHIRError(.notFound, "Slot/\(id) does not exist") }
        return renderer.stored(updated, now: now)
    }

    var seed: Seed { renderer.seed }

    public func read(_ id: String, reader: StoreReader, now: Int64) throws(FHIRError) -> StoredResource? {
        try reader.slots(ids: [id]).first.map { renderer.stored($0, now: now) }
    }

    public func keys(_ ids: [String], reader: StoreReader) throws(FHIRError) -> [VersionKey] {
        try reader.slots(ids: ids).map { VersionKey(rid: 0, type: "Slot", id: $0.id, version: $0.version) }
    }

    public func bodies(_ keys: [VersionKey], reader: StoreReader, now: Int64) throws(FHIRError) -> [(VersionKey, [UInt8])] {
        let rows = Dictionary(uniqueKeysWithValues: try reader.slots(ids: keys.map(\.id)).map { ($0.id, $0) })
        return keys.compactMap { key in rows[key.id].map { (key, renderer.bytes($0, now: now)) } }
    }

    public func included(
        from keys: [VersionKey], parameter: String, targetType: String?, reader: StoreReader
    ) throws(FHIRError) -> [VersionKey] {
        guard parameter == "schedule", targetType == nil || targetType == "Schedule" else { return [] }
        let schedules = Set(try reader.slots(ids: keys.map(\.id)).map(\.schedule)).sorted()
        return try reader.keys("Schedule", ids: schedules)
    }

    public func search(_ query: SearchQuery, reader: StoreReader, now: Int64) throws(FHIRError) -> [VersionKey] {
        var filter = SlotFilter()
        // Free slots are offered from now on; past ones are not offered at all.
        filter.freeFrom = now
        for clause in query.clauses {
            try apply(clause, to: &filter, reader: reader, now: now)
        }
        var rows = try reader.slots(filter)
        for key in query.sort.reversed() {
            guard key.parameter.name == "start" else {
                throw FHIRError(.invalidParameter, "Slot results sort by start only", expression: ["_sort"])
            }
            if key.descending { rows.reverse() }
        }
        return rows.map { VersionKey(rid: 0, type: "Slot", id: $0.id, version: $0.version) }
    }

    private func apply(_ clause: SearchClause, to filter: inout SlotFilter, reader: StoreReader, now: Int64) throws(FHIRError) {
        let name = clause.parameter.name
        if let missing = clause.missing {
            // schedule, start and status are always present; the others never are, except types.
            let alwaysPresent = ["schedule", "start", "status", "_id", "_lastUpdated", "specialty", "service-type"].contains(name)
            if missing == alwaysPresent { filter.ids = [] }
            return
        }
        if let chained = clause.chain.first {
            guard chained.targetType == "Schedule" else { filter.ids = []; return }
            var scheduleQuery = SearchQuery(type: "Schedule")
            scheduleQuery.clauses = [chained.clause]
            intersect(&filter.schedules, with: Set(try reader.search(scheduleQuery).map(\.id)))
            return
        }
        switch name {
        case "_id":
            let ids = clause.values.compactMap { value -> String? in
                if case .token(_, let code) = value { return code }
                return nil
            }
            if clause.modifier == "not" {
                throw FHIRError(.invalidParameter, "_id:not is not supported for Slot", expression: ["_id"])
            }
            filter.ids = (filter.ids.map { Set($0).intersection(ids) }.map(Array.init)) ?? ids
        case "schedule":
            let ids = clause.values.compactMap { value -> String? in
                if case .reference(let type, let id) = value, type == nil || type == "Schedule" { return id }
                return nil
            }
            intersect(&filter.schedules, with: Set(ids))
        case "start":
            filter.times.append(
                clause.values.flatMap { value -> [SlotFilter.TimeCondition] in
                    guard case .date(let comparator, let lo, let hi) = value else { return [] }
                    return Self.condition(comparator, lo, hi)
                })
        case "_lastUpdated":
            // An instant of millisecond precision, [u, u + 1 ms): the value's range is exact.
            filter.updated.append(
                clause.values.flatMap { value -> [SlotFilter.TimeCondition] in
                    guard case .date(let comparator, let lo, let hi) = value else { return [] }
                    return Self.condition(comparator, lo, hi, precision: 1)
                })
        case "status":
            var statuses = Set(tokenCodes(clause))
            if clause.modifier == "not" {
                statuses = Set(["busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error"]).subtracting(statuses)
            }
            filter.statuses = filter.statuses.map { $0.intersection(statuses) } ?? statuses
        case "service-type", "appointment-type":
            let codes = try serviceCodes(clause)
            let visitTypes = Set(codes.compactMap { code in seed.appointmentTypes.first { $0.code == code || $0.v2 == code }?.code })
            let services = Set(seed.schedules.filter { codes.contains($0.serviceType ?? "") }.map(\.id))
            if clause.modifier == "not" {
                filter.excludedTypes = (filter.excludedTypes ?? []).union(visitTypes)
            } else if name == "service-type" && visitTypes.isEmpty {
                intersect(&filter.schedules, with: services)
            } else {
                filter.types = (filter.types.map { $0.intersection(visitTypes) } ?? visitTypes)
                if filter.types?.isEmpty == true { filter.ids = [] }
            }
        case "specialty":
            let codes = Set(tokenCodes(clause))
            intersect(&filter.schedules, with: Set(seed.schedules.filter { codes.contains($0.specialty ?? "") }.map(\.id)))
        default:
            // identifier, service-category: slots carry neither, so nothing matches.
            filter.ids = []
        }
    }

    /// A `service-type` (or `appointment-type`) clause's codes in the clinic's terms: a vendor's
    /// service-type codes (`renderer.serviceTypes`) become the schedules' SNOMED codes. A vendor
    /// that has its own codes takes them or the standard ones, not both in one search (400).
    private func serviceCodes(_ clause: SearchClause) throws(FHIRError) -> [String] {
        guard let vendor = renderer.serviceTypes else { return tokenCodes(clause) }
        var systems = Set<String>()
        let codes = clause.values.compactMap { value -> String? in
            guard case .token(let system, let code) = value, let code else { return nil }
            if let system, !system.isEmpty { systems.insert(system == vendor.system ? "vendor" : "standard") }
            if system == vendor.system { return vendor.codes[code] ?? "unknown:\(code)" }
            return vendor.codes[code] ?? code
        }
        if systems.count > 1 {
            throw FHIRError(
                .invalidParameter,
                "\(clause.parameter.name) takes \(vendor.system) codes or standard ones, not both in one search",
                expression: [clause.parameter.name])
        }
        return codes
    }

    private func tokenCodes(_ clause: SearchClause) -> [String] {
        clause.values.compactMap { value in
            if case .token(_, let code) = value { return code }
            return nil
        }
    }

    private func intersect(_ target: inout Set<String>?, with values: Set<String>) {
        target = target.map { $0.intersection(values) } ?? values
    }

    /// R4 date comparisons for an instant `s` of `precision` milliseconds (a slot start: 1 s;
    /// `_lastUpdated`: 1 ms), [s, s + precision), as ranges of s.
    static func condition(
        _ comparator: SearchComparator, _ lo: Int64, _ hi: Int64, precision: Int64 = 1000
    ) -> [SlotFilter.TimeCondition] {
        let tail = precision - 1
        switch comparator {
        case .eq: return [.range(from: lo, before: hi - tail)]
        case .ne: return [.range(from: nil, before: lo), .range(from: hi - tail, before: nil)]
        case .gt: return [.range(from: hi - tail, before: nil)]
        case .lt: return [.range(from: nil, before: lo)]
        case .ge: return [.range(from: lo, before: nil)]
        case .le: return [.range(from: nil, before: hi - tail)]
        case .sa: return [.range(from: hi, before: nil)]
        case .eb: return [.range(from: nil, before: lo - tail)]
        case .ap: return [.range(from: lo - tail, before: hi)]
        }
    }
}
