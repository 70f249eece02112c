import FHIRCore
import FHIRSearch

/// The operations available inside `ResourceStore.write`: all of them happen in one SQLite
/// transaction under the store lock.
public struct StoreTransaction {
    let db: SQLiteConnection
    let extractor: IndexExtractor
    /// Collects the versions written for the store's commit watch (nil: nobody watches).
    var collector: ChangeCollector? = nil

    /// The current version of `type/id` (possibly a deletion marker), or nil.
    public func current(_ type: String, _ id: String) throws(FHIRError) -> StoredResource? {
        do { return try Queries.current(db, type, id) } catch { throw error.fhir }
    }

    /// Matches of a search, inside this transaction (conditional create/update).
    public func search(_ query: SearchQuery) throws(FHIRError) -> [VersionKey] {
        do { return try Queries.search(db, query) } catch { throw error.fhir }
    }

    /// Stores a new version of `type/id` and reindexes it. `resource` and `body` are the same
    /// resource as a value and as its bytes.
    public func put(
        _ type: String, _ id: String, version: Int, lastUpdated: Int64, method: String, resource: JSON, body: [UInt8]
    ) throws(FHIRError) {
        do {
            let rid = try upsert(type, id, version: version, lastUpdated: lastUpdated, deleted: false, body: body)
            try db.prepare("INSERT INTO resource_version (rid, version, last_updated, method, body) VALUES (?, ?, ?, ?, ?)")
                .run([.int(rid), .int(Int64(version)), .int(lastUpdated), .text(method), .blob(body)])
            // A first version has no index rows to clear.
            if version > 1 { try Queries.clearIndexes(db, rid: rid) }
            try Queries.writeIndexes(db, rid: rid, entries: extractor.entries(for: resource, type: type))
        } catch {
            throw error.fhir
        }
        record(type, id, version: version, deleted: false, lastUpdated: lastUpdated, body: body)
    }

    /// Tells the watch (if any) of a new version; it matches against this transaction's state.
    private func record(_ type: String, _ id: String, version: Int, deleted: Bool, lastUpdated: Int64, body: [UInt8]?) {
        guard let collector else { return }
        let db = db
        let search: CommitWatch.Search = { query throws(FHIRError) in
            do throws(StoreError) { return try Queries.matches(db, query, id: id) } catch { throw error.fhir }
        }
        let matched = collector.watches.flatMap { $0.match(type, id, search) }
        collector.changes.append(
            StoreChange(type: type, id: id, version: version, deleted: deleted, lastUpdated: lastUpdated, body: body, matched: matched))
    }

    /// Records the deletion of `type/id` as a new version without a body.
    public func delete(_ type: String, _ id: String, version: Int, lastUpdated: Int64) throws(FHIRError) {
        // Matched while the last live version is still indexed.
        record(type, id, version: version, deleted: true, lastUpdated: lastUpdated, body: nil)
        do {
            let rid = try upsert(type, id, version: version, lastUpdated: lastUpdated, deleted: true, body: nil)
            try db.prepare("INSERT INTO resource_version (rid, version, last_updated, method, body) VALUES (?, ?, ?, 'DELETE', NULL)")
                .run([.int(rid), .int(Int64(version)), .int(lastUpdated)])
            try Queries.clearIndexes(db, rid: rid)
        } catch {
            throw error.fhir
        }
    }

    /// Adds slots; ids already present are left as they are.
    public func insertSlots(_ rows: [SlotRow]) throws(FHIRError) {
        do { try Queries.insertSlots(db, rows) } catch { throw error.fhir }
    }

    /// Writes one slot row (replacing the row with its id).
    public func putSlot(_ row: SlotRow) throws(FHIRError) {
        do { try Queries.putSlot(db, row) } catch { throw error.fhir }
        recordSlot(row.id, version: row.version, deleted: false, lastUpdated: row.lastUpdated)
    }

    /// Removes one slot row.
    public func deleteSlot(_ id: String) throws(FHIRError) {
        do { try Queries.deleteSlot(db, id: id) } catch { throw error.fhir }
        recordSlot(id, version: 0, deleted: true, lastUpdated: 0)
    }

    /// Tells the watch (if any) of a slot row's change. Slots are rendered from their rows, so
    /// the change carries no body and is not matched here (a watch evaluates it after commit).
    private func recordSlot(_ id: String, version: Int, deleted: Bool, lastUpdated: Int64) {
        collector?.changes.append(
            StoreChange(type: "Slot", id: id, version: version, deleted: deleted, lastUpdated: lastUpdated, body: nil, matched: []))
    }

    /// The stored rows of these slot ids (unknown ids are skipped).
    public func slots(_ ids: [String]) throws(FHIRError) -> [SlotRow] {
        do { return try Queries.slots(db, ids: ids) } catch { throw error.fhir }
    }

    /// Compare-and-set: moves every id from one of `expected` to `status`, or none and returns false.
    /// Slots matching `filter`, inside this transaction.
    public func slots(_ filter: SlotFilter) throws(FHIRError) -> [SlotRow] {
        do { return try Queries.slots(db, filter) } catch { throw error.fhir }
    }

    public func setSlotStatus(_ ids: [String], from expected: Set<String>, to status: String, at instant: Int64) throws(FHIRError) -> Bool {
        let changed: Bool
        do { changed = try Queries.setSlotStatus(db, ids: ids, expected: expected, status: status, at: instant) } catch { throw error.fhir }
        if changed, collector != nil {
            for row in try slots(ids) { recordSlot(row.id, version: row.version, deleted: false, lastUpdated: row.lastUpdated) }
        }
        return changed
    }

    /// The start of the latest stored slot.
    public func lastSlotStart() throws(FHIRError) -> Int64? {
        do { return try Queries.lastSlotStart(db) } catch { throw error.fhir }
    }

    private func upsert(
        _ type: String, _ id: String, version: Int, lastUpdated: Int64, deleted: Bool, body: [UInt8]?
    ) throws(StoreError) -> Int64 {
        let bodyValue: SQLValue = body.map { .blob($0) } ?? .null
        try db.prepare(
            """
            INSERT INTO resource (type, id, version, last_updated, deleted, body) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (type, id) DO UPDATE SET version = excluded.version, last_updated = excluded.last_updated,
                deleted = excluded.deleted, body = excluded.body
            """
        ).run([.text(type), .text(id), .int(Int64(version)), .int(lastUpdated), .int(deleted ? 1 : 0), bodyValue])
        if version == 1 { return db.lastInsertRowID }
        let select = try db.prepare("SELECT rid FROM resource WHERE type = ? AND id = ?")
        try select.bind([.text(type), .text(id)])
        guard try select.step() else { throw StoreError(code: 0, message: "row vanished after upsert") }
        return select.int(0)
    }
}
