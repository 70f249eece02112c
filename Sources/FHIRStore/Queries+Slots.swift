/// SQL for the slot table.
extension Queries {
    static func insertSlots(_ db: SQLiteConnection, _ rows: [SlotRow]) throws(StoreError) {
        let statement = try db.prepare(
            "INSERT OR IGNORE INTO slot (id, schedule, start, end, status, types, version, last_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        for row in rows {
            try statement.run([
                .text(row.id), .text(row.schedule), .int(row.start), .int(row.end), .text(row.status),
                .text(row.typeList), .int(Int64(row.version)), .int(row.lastUpdated),
            ])
        }
    }

    /// Writes one slot row, replacing the row with its id (a written slot over a generated one).
    static func putSlot(_ db: SQLiteConnection, _ row: SlotRow) throws(StoreError) {
        try db.prepare(
            "INSERT OR REPLACE INTO slot (id, schedule, start, end, status, types, version, last_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        )
        .run([
            .text(row.id), .text(row.schedule), .int(row.start), .int(row.end), .text(row.status), .text(row.typeList),
            .int(Int64(row.version)), .int(row.lastUpdated),
        ])
    }

    static func deleteSlot(_ db: SQLiteConnection, id: String) throws(StoreError) {
        try db.prepare("DELETE FROM slot WHERE id = ?").run([.text(id)])
    }

    static func slotRow(_ statement: Statement) -> SlotRow {
        SlotRow(
            id: statement.text(0), schedule: statement.text(1), start: statement.int(2), end: statement.int(3), status: statement.text(4),
            typeList: statement.text(5), version: Int(statement.int(6)), lastUpdated: statement.int(7))
    }

    static let slotColumns = "id, schedule, start, end, status, types, version, last_updated"

    static func slots(_ db: SQLiteConnection, ids: [String]) throws(StoreError) -> [SlotRow] {
        let statement = try db.prepare("SELECT \(slotColumns) FROM slot WHERE id = ?")
        var rows: [SlotRow] = []
        for id in ids {
            try statement.bind(.text(id), at: 1)
            if try statement.step() { rows.append(slotRow(statement)) }
            statement.reset()
        }
        return rows
    }

    /// Matching slots ordered by start then id.
    static func slots(_ db: SQLiteConnection, _ filter: SlotFilter) throws(StoreError) -> [SlotRow] {
        var conditions: [String] = []
        var bindings: [SQLValue] = []
        func list(_ column: String, _ values: some Collection<String>) {
            guard !values.isEmpty else {
                conditions.append("0")  // an empty set matches nothing
                return
            }
            conditions.append("\(column) IN (\(Array(repeating: "?", count: values.count).joined(separator: ",")))")
            bindings += values.map { .text($0) }
        }
        if let ids = filter.ids { list("id", ids) }
        if let schedules = filter.schedules { list("schedule", schedules.sorted()) }
        for (column, lists) in [("start", filter.times), ("last_updated", filter.updated)] {
            for alternatives in lists {
                let parts = alternatives.map { condition -> String in
                    switch condition {
                    case .range(let from, let before):
                        var terms: [String] = []
                        if let from {
                            terms.append("\(column) >= ?")
                            bindings.append(.int(from))
                        }
                        if let before {
                            terms.append("\(column) < ?")
                            bindings.append(.int(before))
                        }
                        return terms.isEmpty ? "1" : "(" + terms.joined(separator: " AND ") + ")"
                    }
                }
                conditions.append("(" + (parts.isEmpty ? "0" : parts.joined(separator: " OR ")) + ")")
            }
        }
        if let statuses = filter.statuses { list("status", statuses.sorted()) }
        if let freeFrom = filter.freeFrom {
            conditions.append("(status <> 'free' OR start >= ?)")
            bindings.append(.int(freeFrom))
        }
        if let types = filter.types, types.isEmpty {
            conditions.append("0")
        } else if let types = filter.types {
            conditions.append("(" + types.sorted().map { _ in "(',' || types || ',') LIKE ?" }.joined(separator: " OR ") + ")")
            bindings += types.sorted().map { .text("%,\($0),%") }
        }
        if let excluded = filter.excludedTypes {
            for type in excluded.sorted() {
                conditions.append("(',' || types || ',') NOT LIKE ?")
                bindings.append(.text("%,\(type),%"))
            }
        }
        let filterSQL = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let statement = try db.prepare("SELECT \(slotColumns) FROM slot \(filterSQL) ORDER BY start, id")
        try statement.bind(bindings)
        var rows: [SlotRow] = []
        while try statement.step() { rows.append(slotRow(statement)) }
        return rows
    }

    /// Moves `ids` from one of `expected` statuses to `status`, all or none; returns false (and
    /// changes nothing) when any of them is not in an expected status.
    static func setSlotStatus(
        _ db: SQLiteConnection, ids: [String], expected: Set<String>, status: String, at instant: Int64
    ) throws(StoreError) -> Bool {
        guard !ids.isEmpty else { return true }
        let placeholders = Array(repeating: "?", count: ids.count).joined(separator: ",")
        let expectedList = Array(repeating: "?", count: expected.count).joined(separator: ",")
        try db.prepare(
            """
            UPDATE slot SET status = ?, version = version + 1, last_updated = ?
            WHERE id IN (\(placeholders)) AND status IN (\(expectedList))
            """
        ).run([.text(status), .int(instant)] + ids.map { .text($0) } + expected.sorted().map { .text($0) })
        return db.changes == Set(ids).count
    }

    static func lastSlotStart(_ db: SQLiteConnection) throws(StoreError) -> Int64? {
        let statement = try db.prepare("SELECT max(start) FROM slot")
        guard try statement.step(), !statement.isNull(0) else { return nil }
        return statement.int(0)
    }
}
