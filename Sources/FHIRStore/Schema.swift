/// The store's schema as append-only, named migrations (never edit a shipped one; add a new
/// one). Integrity lives in the schema: NOT NULL, CHECK, foreign keys with cascades.
enum Schema {
    static let migrations: [(name: String, sql: String)] = [
        (
            "v1-resources",
            """
            CREATE TABLE resource (
                rid INTEGER PRIMARY KEY,
                type TEXT NOT NULL,
                id TEXT NOT NULL,
                version INTEGER NOT NULL CHECK (version >= 1),
                last_updated INTEGER NOT NULL,
                deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
                body BLOB,
                UNIQUE (type, id)
            );
            CREATE TABLE resource_version (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                rid INTEGER NOT NULL REFERENCES resource(rid) ON DELETE CASCADE,
                version INTEGER NOT NULL,
                last_updated INTEGER NOT NULL,
                method TEXT NOT NULL CHECK (method IN ('POST', 'PUT', 'PATCH', 'DELETE')),
                body BLOB,
                UNIQUE (rid, version)
            );
            CREATE INDEX resource_version_time ON resource_version(last_updated);
            CREATE TABLE store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            """
        ),
        (
            "v1-search-indexes",
            """
            CREATE TABLE idx_string (
                rid INTEGER NOT NULL REFERENCES resource(rid) ON DELETE CASCADE,
                param TEXT NOT NULL, norm TEXT NOT NULL, exact TEXT NOT NULL);
            CREATE INDEX idx_string_value ON idx_string(param, norm);
            CREATE INDEX idx_string_rid ON idx_string(rid, param);
            CREATE TABLE idx_token (
                rid INTEGER NOT NULL REFERENCES resource(rid) ON DELETE CASCADE,
                param TEXT NOT NULL, system TEXT NOT NULL, code TEXT NOT NULL);
            CREATE INDEX idx_token_value ON idx_token(param, code, system);
            CREATE INDEX idx_token_rid ON idx_token(rid, param);
            CREATE TABLE idx_date (
                rid INTEGER NOT NULL REFERENCES resource(rid) ON DELETE CASCADE,
                param TEXT NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL);
            CREATE INDEX idx_date_value ON idx_date(param, lo);
            CREATE INDEX idx_date_rid ON idx_date(rid, param);
            CREATE TABLE idx_reference (
                rid INTEGER NOT NULL REFERENCES resource(rid) ON DELETE CASCADE,
                param TEXT NOT NULL, target_type TEXT NOT NULL, target_id TEXT NOT NULL);
            CREATE INDEX idx_reference_value ON idx_reference(param, target_id, target_type);
            CREATE INDEX idx_reference_target ON idx_reference(target_type, target_id);
            CREATE INDEX idx_reference_rid ON idx_reference(rid, param);
            CREATE TABLE idx_number (
                rid INTEGER NOT NULL REFERENCES resource(rid) ON DELETE CASCADE,
                param TEXT NOT NULL, value REAL NOT NULL, system TEXT NOT NULL DEFAULT '',
                code TEXT NOT NULL DEFAULT '');
            CREATE INDEX idx_number_value ON idx_number(param, value);
            CREATE INDEX idx_number_rid ON idx_number(rid, param);
            CREATE TABLE idx_uri (
                rid INTEGER NOT NULL REFERENCES resource(rid) ON DELETE CASCADE,
                param TEXT NOT NULL, value TEXT NOT NULL);
            CREATE INDEX idx_uri_value ON idx_uri(param, value);
            CREATE INDEX idx_uri_rid ON idx_uri(rid, param);
            """
        ),
        (
            "v2-slots",
            """
            CREATE TABLE slot (
                id TEXT PRIMARY KEY,
                schedule TEXT NOT NULL,
                start INTEGER NOT NULL,
                end INTEGER NOT NULL CHECK (end > start),
                status TEXT NOT NULL
                    CHECK (status IN ('busy', 'free', 'busy-unavailable', 'busy-tentative', 'entered-in-error')),
                types TEXT NOT NULL,
                version INTEGER NOT NULL CHECK (version >= 1),
                last_updated INTEGER NOT NULL
            );
            CREATE INDEX slot_start ON slot(start);
            CREATE INDEX slot_schedule_start ON slot(schedule, start);
            """
        ),
        (
            // `gt`/`ge`/`eb` compare a range's end: without this index they scanned every value
            // of the parameter (Patient?birthdate=ge… fell from 4.5 k to 85 req/s at 38 k patients).
            "v3-date-end",
            "CREATE INDEX idx_date_end ON idx_date(param, hi);"
        ),
    ]

    /// Applies the migrations this database has not seen, in order.
    static func migrate(_ db: SQLiteConnection) throws(StoreError) {
        try db.execute("CREATE TABLE IF NOT EXISTS migration (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)")
        var applied = Set<String>()
        let select = try db.prepare("SELECT name FROM migration")
        while try select.step() { applied.insert(select.text(0)) }
        for migration in migrations where !applied.contains(migration.name) {
            try db.transaction { () throws(StoreError) in
                try db.execute(migration.sql)
                try db.prepare("INSERT INTO migration (name, applied_at) VALUES (?, 0)").run([.text(migration.name)])
            }
        }
    }
}
