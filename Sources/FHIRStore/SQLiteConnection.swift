import CSQLite

/// One SQLite connection with a prepared-statement cache. Not thread-safe by itself: owners
/// (`ResourceStore`) serialise access with a lock, which keeps the per-request path free of
/// async hops.
final class SQLiteConnection: @unchecked Sendable {
    let handle: OpaquePointer
    private var statements: [String: Statement] = [:]

    /// Opens `path`, or a private in-memory database when `path` is nil.
    init(path: String?) throws(StoreError) {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let result = sqlite3_open_v2(path ?? ":memory:", &db, flags, nil)
        guard result == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open database"
            sqlite3_close_v2(db)
            throw StoreError(code: result, message: "\(message) (\(path ?? ":memory:"))")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        try execute("PRAGMA foreign_keys = ON")
        if path != nil {
            // Durable: a write acknowledged with 2xx survives kill -9 and power loss.
            try execute("PRAGMA journal_mode = WAL")
            try execute("PRAGMA synchronous = FULL")
            sqlite3_busy_timeout(db, 5000)
        }
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement.handle) }
        sqlite3_close_v2(handle)
    }

    func error(_ code: Int32, file: String = #fileID, line: Int = #line) -> StoreError {
        StoreError(code: code, message: String(cString: sqlite3_errmsg(handle)), file: file, line: line)
    }

    /// Runs one or more statements without results.
    func execute(_ sql: String) throws(StoreError) {
        var message: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(handle, sql, nil, nil, &message)
        if result != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(message)
            throw StoreError(code: result, message: text)
        }
    }

    /// A cached prepared statement, reset and cleared of bindings.
    func prepare(_ sql: String) throws(StoreError) -> Statement {
        if let cached = statements[sql] {
            sqlite3_reset(cached.handle)
            sqlite3_clear_bindings(cached.handle)
            return cached
        }
        var pointer: OpaquePointer?
        let result = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &pointer, nil)
        guard result == SQLITE_OK, let pointer else { throw error(result) }
        let statement = Statement(handle: pointer, connection: self)
        if statements.count > 512 {
            for old in statements.values { sqlite3_finalize(old.handle) }
            statements.removeAll()
        }
        statements[sql] = statement
        return statement
    }

    /// Runs `body` inside a savepoint: everything or nothing.
    func transaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try execute("SAVEPOINT tx")
        do {
            let value = try body()
            try execute("RELEASE tx")
            return value
        } catch {
            try? execute("ROLLBACK TO tx")
            try? execute("RELEASE tx")
            throw error
        }
    }

    /// Replaces this database's content with `source`'s (SQLite online backup).
    func restore(from source: SQLiteConnection) throws(StoreError) {
        for statement in statements.values { sqlite3_finalize(statement.handle) }
        statements.removeAll()
        guard let backup = sqlite3_backup_init(handle, "main", source.handle, "main") else { throw error(sqlite3_errcode(handle)) }
        let step = sqlite3_backup_step(backup, -1)
        let finish = sqlite3_backup_finish(backup)
        guard step == SQLITE_DONE, finish == SQLITE_OK else { throw error(step == SQLITE_DONE ? finish : step) }
    }

    /// Resets every cached statement, so none holds a read transaction open (a checkpoint can
    /// then move the whole log into the database file).
    func resetStatements() {
        for statement in statements.values { sqlite3_reset(statement.handle) }
    }

    var changes: Int { Int(sqlite3_changes(handle)) }
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
}

/// A prepared statement. Bind with `bind`, iterate with `step`, read columns by index.
struct Statement {
    let handle: OpaquePointer
    unowned let connection: SQLiteConnection

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    func bind(_ values: [SQLValue]) throws(StoreError) {
        for (offset, value) in values.enumerated() { try bind(value, at: Int32(offset + 1)) }
    }

    func bind(_ value: SQLValue, at index: Int32) throws(StoreError) {
        let result: Int32
        switch value {
        case .null: result = sqlite3_bind_null(handle, index)
        case .int(let number): result = sqlite3_bind_int64(handle, index, number)
        case .double(let number): result = sqlite3_bind_double(handle, index, number)
        case .text(let text): result = sqlite3_bind_text(handle, index, text, -1, Self.transient)
        case .blob(let bytes):
            result = bytes.withUnsafeBytes { buffer in
                sqlite3_bind_blob(handle, index, buffer.baseAddress, Int32(buffer.count), Self.transient)
            }
        }
        if result != SQLITE_OK { throw connection.error(result) }
    }

    /// Advances; true while a row is available.
    func step() throws(StoreError) -> Bool {
        let result = sqlite3_step(handle)
        switch result {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw connection.error(result)
        }
    }

    /// Binds and runs a statement that returns no rows.
    func run(_ values: [SQLValue] = []) throws(StoreError) {
        try bind(values)
        while try step() {}
        sqlite3_reset(handle)
    }

    func reset() { sqlite3_reset(handle) }

    func int(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }
    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    func text(_ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(handle, column) else { return "" }
        return String(cString: pointer)
    }

    func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let pointer = sqlite3_column_blob(handle, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}

/// A value bound to a statement parameter.
enum SQLValue: Sendable, Equatable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])
}
