import CSQLite
import FHIRCore
import FHIRSearch
import Synchronization

/// One tenant's resources in SQLite: every version kept, search indexes in side tables.
/// All access is serialised by a lock around one connection; calls are synchronous so the
/// request path pays no async hop.
public final class ResourceStore: Sendable {
    private let connection: StoreLock<SQLiteConnection>
    public let extractor: IndexExtractor
    /// The database file, or nil in memory.
    public let path: String?
    /// Who is told of commits (change feeds), by name.
    private let watches = Mutex<[String: CommitWatch]>([:])

    /// Sets (or, with nil, removes) the commit watch named `name`.
    public func watchCommits(_ name: String, _ commitWatch: CommitWatch?) { watches.withLock { $0[name] = commitWatch } }

    /// Opens (and migrates) a store at `path`, or in memory when nil. `maxBytes` bounds what the
    /// database may hold (in memory, what it may take of RAM): a write past it fails with
    /// `insufficientStorage` (507) and changes nothing.
    /// `schema: false` opens an empty in-memory store that will only be restored into (its
    /// schema comes with the copy): cheaper when a copy of a snapshot is made on first use.
    public init(path: String?, extractor: IndexExtractor, maxBytes: Int? = nil, schema: Bool = true) throws(FHIRError) {
        let db: SQLiteConnection
        do {
            db = try SQLiteConnection(path: path)
            if schema || path != nil { try Schema.migrate(db) }
            if let maxBytes { try db.execute("PRAGMA max_page_count = \(max(1, maxBytes / 4096))") }
        } catch {
            throw FHIRError(.internalError, "cannot open store: \(error.message)")
        }
        connection = StoreLock(db)
        self.extractor = extractor
        self.path = path
    }

    func locked<T: Sendable>(_ body: (SQLiteConnection) throws(StoreError) -> T) throws(FHIRError) -> T {
        do {
            return try connection.withLock { (db: SQLiteConnection) throws(StoreError) -> T in try body(db) }
        } catch {
            throw error.fhir
        }
    }

    /// The current version of `type/id` (a deletion marker if deleted), or nil if it never existed.
    /// `method` is not filled in (reads do not need it; history and transactions do).
    public func read(_ type: String, _ id: String) throws(FHIRError) -> StoredResource? {
        try locked { db throws(StoreError) in
            let statement = try db.prepare("SELECT version, last_updated, deleted, body FROM resource WHERE type = ? AND id = ?")
            try statement.bind([.text(type), .text(id)])
            guard try statement.step() else { return nil }
            let deleted = statement.int(2) != 0
            return StoredResource(
                type: type, id: id, version: Int(statement.int(0)), lastUpdated: statement.int(1), deleted: deleted, method: "",
                body: deleted ? nil : statement.blob(3))
        }
    }

    /// A specific version, or nil.
    public func read(_ type: String, _ id: String, version: Int) throws(FHIRError) -> StoredResource? {
        try locked { db throws(StoreError) in
            let statement = try db.prepare(
                """
                SELECT v.version, v.last_updated, v.method, v.body FROM resource r
                JOIN resource_version v ON v.rid = r.rid WHERE r.type = ? AND r.id = ? AND v.version = ?
                """)
            try statement.bind([.text(type), .text(id), .int(Int64(version))])
            guard try statement.step() else { return nil }
            let method = statement.text(2)
            return StoredResource(
                type: type, id: id, version: Int(statement.int(0)), lastUpdated: statement.int(1),
                deleted: method == "DELETE", method: method, body: statement.isNull(3) ? nil : statement.blob(3))
        }
    }

    /// Runs `body` atomically under the store lock: all its writes land, or none.
    public func write<T: Sendable>(_ body: (StoreTransaction) throws(FHIRError) -> T) throws(FHIRError) -> T {
        let commitWatches = watches.withLock { watches in watches.keys.sorted().compactMap { watches[$0] } }
        let outcome: Result<T, FHIRError> = try locked { db throws(StoreError) -> Result<T, FHIRError> in
            try db.execute("SAVEPOINT tx")
            let result: Result<T, FHIRError>
            let collector = commitWatches.isEmpty ? nil : ChangeCollector(watches: commitWatches)
            do {
                result = .success(try body(StoreTransaction(db: db, extractor: extractor, collector: collector)))
            } catch let error as FHIRError {
                result = .failure(error)
            } catch {
                result = .failure(FHIRError(.internalError, "\(error)"))
            }
            switch result {
            case .success:
                do throws(StoreError) {
                    try db.execute("RELEASE tx")
                } catch {
                    if sqlite3_get_autocommit(db.handle) == 0 {
                        try? db.execute("ROLLBACK TO tx")
                        try? db.execute("RELEASE tx")
                    }
                    throw error
                }
                if let collector, !collector.changes.isEmpty {
                    for watch in collector.watches { watch.committed(collector.changes) }
                }
            case .failure:
                // SQLite may already have rolled back on a full database: then there is nothing to undo.
                if sqlite3_get_autocommit(db.handle) == 0 {
                    try db.execute("ROLLBACK TO tx")
                    try db.execute("RELEASE tx")
                }
            }
            return result
        }
        return try outcome.get()
    }

    /// Matching current versions for a search, in result order.
    public func search(_ query: SearchQuery) throws(FHIRError) -> [VersionKey] {
        try locked { db throws(StoreError) in try Queries.search(db, query) }
    }

    /// The bodies of the given versions, in the same order (deleted versions are skipped).
    public func bodies(_ keys: [VersionKey]) throws(FHIRError) -> [(VersionKey, [UInt8])] {
        try locked { db throws(StoreError) in try Queries.bodies(db, keys) }
    }

    /// Runs several reads under one acquisition of the store lock, so a search's query, page
    /// bodies and includes see one state and pay for the lock once.
    public func read<T: Sendable>(_ body: (StoreReader) throws(FHIRError) -> T) throws(FHIRError) -> T {
        let outcome: Result<T, FHIRError> = try locked { db throws(StoreError) -> Result<T, FHIRError> in
            do {
                return .success(try body(StoreReader(db: db)))
            } catch let error as FHIRError {
                return .failure(error)
            } catch {
                return .failure(FHIRError(.internalError, "\(error)"))
            }
        }
        return try outcome.get()
    }

    /// Resources referenced by `keys` through `parameter` (for `_include`).
    public func included(from keys: [VersionKey], parameter: String, targetType: String?) throws(FHIRError) -> [VersionKey] {
        try locked { db throws(StoreError) in try Queries.included(db, keys, parameter: parameter, targetType: targetType) }
    }

    /// Resources of `sourceType` whose `parameter` refers to one of `keys` (for `_revinclude`).
    public func revIncluded(_ keys: [VersionKey], sourceType: String, parameter: String) throws(FHIRError) -> [VersionKey] {
        try locked { db throws(StoreError) in try Queries.revIncluded(db, keys, sourceType: sourceType, parameter: parameter) }
    }

    /// Version history, newest first: of one resource, one type, or everything.
    /// Versions newest first; `next` continues after the last one when more remain.
    public func history(
        type: String?, id: String?, since: Int64?, before: Int64? = nil, limit: Int
    ) throws(FHIRError) -> (versions: [StoredResource], next: Int64?) {
        try locked { db throws(StoreError) in try Queries.history(db, type: type, id: id, since: since, before: before, limit: limit) }
    }

    /// Number of current (not deleted) resources of a type, or of all types.
    public func count(type: String? = nil) throws(FHIRError) -> Int {
        try locked { db throws(StoreError) in
            let statement = try db.prepare(
                type == nil
                    ? "SELECT count(*) FROM resource WHERE deleted = 0"
                    : "SELECT count(*) FROM resource WHERE deleted = 0 AND type = ?")
            if let type { try statement.bind([.text(type)]) }
            _ = try statement.step()
            return Int(statement.int(0))
        }
    }

    /// Replaces this store's entire content with `source`'s: a fast reset from a snapshot.
    public func restore(from source: ResourceStore) throws(FHIRError) {
        try locked { db throws(StoreError) in
            try source.connection.withLock { (sourceDB: SQLiteConnection) throws(StoreError) in
                try db.restore(from: sourceDB)
            }
        }
    }

    /// Rebuilds every search index from the current resource bodies. Search results must not change.
    public func reindex() throws(FHIRError) -> Int {
        try locked { db throws(StoreError) in
            try db.transaction { () throws(StoreError) -> Int in
                for table in Queries.indexTables { try db.execute("DELETE FROM \(table)") }
                let select = try db.prepare("SELECT rid, type, body FROM resource WHERE deleted = 0")
                var rows: [(Int64, String, [UInt8])] = []
                while try select.step() { rows.append((select.int(0), select.text(1), select.blob(2))) }
                for (rid, type, body) in rows {
                    guard let json = try? JSONParser.parse(body) else { continue }
                    try Queries.writeIndexes(db, rid: rid, entries: extractor.entries(for: json, type: type))
                }
                try db.execute("ANALYZE")
                return rows.count
            }
        }
    }

    /// Moves the write-ahead log into the database file (file stores; a no-op in memory).
    public func checkpoint() throws(FHIRError) {
        guard path != nil else { return }
        try locked { db throws(StoreError) in
            db.resetStatements()
            try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }

    /// Gathers planner statistics (`ANALYZE`), so searches drive from the index side tables
    /// instead of scanning every resource of a type. Copies made with `restore` inherit them.
    public func analyze() throws(FHIRError) {
        try locked { db throws(StoreError) in try db.execute("ANALYZE") }
    }

    /// A value in the store's key-value table (e.g. which seed it was loaded from).
    public func metadata(_ key: String) throws(FHIRError) -> String? {
        try locked { db throws(StoreError) in
            let statement = try db.prepare("SELECT value FROM store_meta WHERE key = ?")
            try statement.bind([.text(key)])
            return try statement.step() ? statement.text(0) : nil
        }
    }

    public func setMetadata(_ key: String, _ value: String) throws(FHIRError) {
        try locked { db throws(StoreError) in
            try db.prepare("INSERT OR REPLACE INTO store_meta (key, value) VALUES (?, ?)").run([.text(key), .text(value)])
        }
    }
}

extension StoreError {
    var fhir: FHIRError {
        if code & 0xFF == SQLITE_FULL {
            return FHIRError(
                .insufficientStorage,
                "this sandbox holds as much data as it may (--max-sandbox-mb); nothing was written: reset it (POST /_admin/reset)")
        }
        return FHIRError(.internalError, "storage failure: \(message)")
    }
}
