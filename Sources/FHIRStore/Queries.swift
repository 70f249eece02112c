import FHIRCore
import FHIRSearch

/// The store's SQL, kept in one place.
enum Queries {
    static let indexTables = ["idx_string", "idx_token", "idx_date", "idx_reference", "idx_number", "idx_uri"]

    static func current(_ db: SQLiteConnection, _ type: String, _ id: String) throws(StoreError) -> StoredResource? {
        let statement = try db.prepare(
            """
            SELECT r.version, r.last_updated, r.deleted, r.body,
                (SELECT method FROM resource_version v WHERE v.rid = r.rid AND v.version = r.version)
            FROM resource r WHERE r.type = ? AND r.id = ?
            """)
        try statement.bind([.text(type), .text(id)])
        guard try statement.step() else { return nil }
        let deleted = statement.int(2) != 0
        return StoredResource(
            type: type, id: id, version: Int(statement.int(0)), lastUpdated: statement.int(1), deleted: deleted,
            method: statement.text(4), body: deleted ? nil : statement.blob(3))
    }

    /// Bodies of the given versions: the current row when it is that version (a rowid lookup),
    /// otherwise the kept version.
    static func bodies(_ db: SQLiteConnection, _ keys: [VersionKey]) throws(StoreError) -> [(VersionKey, [UInt8])] {
        let current = try db.prepare("SELECT version, body FROM resource WHERE rid = ?")
        let older = try db.prepare("SELECT body FROM resource_version WHERE rid = ? AND version = ?")
        var result: [(VersionKey, [UInt8])] = []
        result.reserveCapacity(keys.count)
        for key in keys {
            try current.bind(.int(key.rid), at: 1)
            if try current.step(), current.int(0) == Int64(key.version), !current.isNull(1) {
                result.append((key, current.blob(1)))
                current.reset()
                continue
            }
            current.reset()
            try older.bind([.int(key.rid), .int(Int64(key.version))])
            if try older.step(), !older.isNull(0) { result.append((key, older.blob(0))) }
            older.reset()
        }
        return result
    }

    static func clearIndexes(_ db: SQLiteConnection, rid: Int64) throws(StoreError) {
        for table in indexTables {
            try db.prepare("DELETE FROM \(table) WHERE rid = ?").run([.int(rid)])
        }
    }

    static func writeIndexes(_ db: SQLiteConnection, rid: Int64, entries: [IndexEntry]) throws(StoreError) {
        for entry in entries {
            let ridValue = SQLValue.int(rid)
            let param = SQLValue.text(entry.parameter)
            switch entry.value {
            case .string(let normalized, let exact):
                try db.prepare("INSERT INTO idx_string (rid, param, norm, exact) VALUES (?, ?, ?, ?)")
                    .run([ridValue, param, .text(normalized), .text(exact)])
            case .token(let system, let code):
                try db.prepare("INSERT INTO idx_token (rid, param, system, code) VALUES (?, ?, ?, ?)")
                    .run([ridValue, param, .text(system), .text(code)])
            case .date(let lo, let hi):
                try db.prepare("INSERT INTO idx_date (rid, param, lo, hi) VALUES (?, ?, ?, ?)")
                    .run([ridValue, param, .int(lo), .int(hi)])
            case .reference(let type, let id):
                try db.prepare("INSERT INTO idx_reference (rid, param, target_type, target_id) VALUES (?, ?, ?, ?)")
                    .run([ridValue, param, .text(type), .text(id)])
            case .number(let value):
                try db.prepare("INSERT INTO idx_number (rid, param, value) VALUES (?, ?, ?)")
                    .run([ridValue, param, .double(value)])
            case .quantity(let value, let system, let code):
                try db.prepare("INSERT INTO idx_number (rid, param, value, system, code) VALUES (?, ?, ?, ?, ?)")
                    .run([ridValue, param, .double(value), .text(system), .text(code)])
            case .uri(let value):
                try db.prepare("INSERT INTO idx_uri (rid, param, value) VALUES (?, ?, ?)")
                    .run([ridValue, param, .text(value)])
            }
        }
    }

    /// Whether the current version of `query.type`/`id` matches the query (one resource's
    /// probe: no clause reads more than that resource's index rows).
    static func matches(_ db: SQLiteConnection, _ query: SearchQuery, id: String) throws(StoreError) -> Bool {
        var compiler = SearchSQL()
        let statement = try db.prepare(compiler.match(query, id: id))
        try statement.bind(compiler.bindings)
        return try statement.step()
    }

    static func search(_ db: SQLiteConnection, _ query: SearchQuery) throws(StoreError) -> [VersionKey] {
        var compiler = SearchSQL()
        let sql = compiler.select(query)
        let statement = try db.prepare(sql)
        try statement.bind(compiler.bindings)
        var keys: [VersionKey] = []
        while try statement.step() {
            keys.append(VersionKey(rid: statement.int(0), type: query.type, id: statement.text(1), version: Int(statement.int(2))))
        }
        return keys
    }

    static func included(
        _ db: SQLiteConnection, _ keys: [VersionKey], parameter: String, targetType: String?
    ) throws(StoreError) -> [VersionKey] {
        guard !keys.isEmpty else { return [] }
        let placeholders = Array(repeating: "?", count: keys.count).joined(separator: ",")
        var sql = """
            SELECT DISTINCT t.rid, t.type, t.id, t.version FROM idx_reference ref
            JOIN resource t ON t.type = ref.target_type AND t.id = ref.target_id
            WHERE ref.rid IN (\(placeholders)) AND ref.param = ? AND t.deleted = 0
            """
        var bindings = keys.map { SQLValue.int($0.rid) } + [.text(parameter)]
        if let targetType {
            sql += " AND t.type = ?"
            bindings.append(.text(targetType))
        }
        return try versionKeys(db, sql + " ORDER BY t.rid", bindings)
    }

    static func revIncluded(
        _ db: SQLiteConnection, _ keys: [VersionKey], sourceType: String, parameter: String
    ) throws(StoreError) -> [VersionKey] {
        guard !keys.isEmpty else { return [] }
        let pairs = Array(repeating: "(ref.target_type = ? AND ref.target_id = ?)", count: keys.count).joined(separator: " OR ")
        let sql = """
            SELECT DISTINCT s.rid, s.type, s.id, s.version FROM idx_reference ref JOIN resource s ON s.rid = ref.rid
            WHERE s.type = ? AND ref.param = ? AND s.deleted = 0 AND (\(pairs)) ORDER BY s.rid
            """
        var bindings: [SQLValue] = [.text(sourceType), .text(parameter)]
        for key in keys { bindings += [.text(key.type), .text(key.id)] }
        return try versionKeys(db, sql, bindings)
    }

    private static func versionKeys(_ db: SQLiteConnection, _ sql: String, _ bindings: [SQLValue]) throws(StoreError) -> [VersionKey] {
        let statement = try db.prepare(sql)
        try statement.bind(bindings)
        var keys: [VersionKey] = []
        while try statement.step() {
            keys.append(VersionKey(rid: statement.int(0), type: statement.text(1), id: statement.text(2), version: Int(statement.int(3))))
        }
        return keys
    }

    /// Versions newest first (by commit order), at most `limit`, optionally since an instant and
    /// before a commit position (`before`: a previous page's `next`); `next` is the position to
    /// continue from when more remain.
    static func history(
        _ db: SQLiteConnection, type: String?, id: String?, since: Int64?, before: Int64? = nil, limit: Int
    ) throws(StoreError) -> (versions: [StoredResource], next: Int64?) {
        var conditions: [String] = []
        var bindings: [SQLValue] = []
        if let type {
            conditions.append("r.type = ?")
            bindings.append(.text(type))
        }
        if let id {
            conditions.append("r.id = ?")
            bindings.append(.text(id))
        }
        if let since {
            conditions.append("v.last_updated >= ?")
            bindings.append(.int(since))
        }
        if let before {
            conditions.append("v.seq < ?")
            bindings.append(.int(before))
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let statement = try db.prepare(
            """
            SELECT r.type, r.id, v.version, v.last_updated, v.method, v.body, v.seq FROM resource_version v
            JOIN resource r ON r.rid = v.rid \(filter) ORDER BY v.seq DESC LIMIT ?
            """)
        try statement.bind(bindings + [.int(Int64(limit) + 1)])
        var result: [StoredResource] = []
        var positions: [Int64] = []
        while try statement.step() {
            let method = statement.text(4)
            result.append(
                StoredResource(
                    type: statement.text(0), id: statement.text(1), version: Int(statement.int(2)),
                    lastUpdated: statement.int(3), deleted: method == "DELETE", method: method,
                    body: statement.isNull(5) ? nil : statement.blob(5)))
            positions.append(statement.int(6))
        }
        guard result.count > limit else { return (result, nil) }
        return (Array(result.prefix(limit)), limit > 0 ? positions[limit - 1] : nil)
    }
}
