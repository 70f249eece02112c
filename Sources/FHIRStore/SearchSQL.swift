import FHIRCore
import FHIRSearch

/// Compiles a `SearchQuery` into one SELECT over the current resources. Each clause becomes
/// `r.rid IN (SELECT rid FROM idx_... WHERE ...)`, so SQLite can drive from the index tables.
struct SearchSQL {
    private(set) var bindings: [SQLValue] = []
    /// Clauses on `r.rid` as correlated `EXISTS` probes of the index tables' `(rid, param)`
    /// index: cheap for one resource (`match`), where `IN (SELECT …)` would read every value.
    private var correlated = false

    /// Whether the current version of `type/id` matches the query: one row or none.
    mutating func match(_ query: SearchQuery, id: String) -> String {
        correlated = true
        var sql = "SELECT 1 FROM resource r WHERE r.type = ? AND r.id = ? AND r.deleted = 0"
        bindings += [.text(query.type), .text(id)]
        for clause in query.clauses {
            sql += " AND " + condition(clause)
        }
        return sql + " LIMIT 1"
    }

    mutating func select(_ query: SearchQuery) -> String {
        var sql = "SELECT r.rid, r.id, r.version FROM resource r WHERE r.type = ? AND r.deleted = 0"
        bindings.append(.text(query.type))
        for clause in query.clauses {
            sql += " AND " + condition(clause)
        }
        var order: [String] = []
        for key in query.sort {
            order.append(sortExpression(key))
        }
        order.append("r.rid")
        return sql + " ORDER BY " + order.joined(separator: ", ")
    }

    private static func table(_ type: SearchParameterType) -> String {
        switch type {
        case .string: return "idx_string"
        case .token: return "idx_token"
        case .date: return "idx_date"
        case .reference: return "idx_reference"
        case .number, .quantity: return "idx_number"
        case .uri: return "idx_uri"
        }
    }

    /// A condition on `r.rid` for one clause (its values ORed).
    private mutating func condition(_ clause: SearchClause, column: String = "r.rid") -> String {
        let table = Self.table(clause.parameter.type)
        let probe = correlated && column == "r.rid"
        if let missing = clause.missing {
            bindings.append(.text(clause.parameter.name))
            if probe { return "\(missing ? "NOT " : "")EXISTS (SELECT 1 FROM \(table) WHERE rid = r.rid AND param = ?)" }
            return "\(column) \(missing ? "NOT IN" : "IN") (SELECT rid FROM \(table) WHERE param = ?)"
        }
        if let chained = clause.chain.first {
            bindings.append(.text(clause.parameter.name))
            bindings.append(.text(chained.targetType))
            let inner = condition(chained.clause, column: "t.rid")
            let head = probe ? "EXISTS (SELECT 1" : "\(column) IN (SELECT ref.rid"
            return """
                \(head) FROM idx_reference ref JOIN resource t
                ON t.type = ref.target_type AND t.id = ref.target_id
                WHERE \(probe ? "ref.rid = r.rid AND " : "")ref.param = ? AND t.type = ? AND t.deleted = 0 AND \(inner))
                """
        }
        let negate = clause.modifier == "not"
        bindings.append(.text(clause.parameter.name))
        let alternatives = clause.values.map { valueCondition($0, modifier: clause.modifier, parameter: clause.parameter) }
        let filter = alternatives.isEmpty ? "0" : alternatives.map { "(\($0))" }.joined(separator: " OR ")
        if probe { return "\(negate ? "NOT " : "")EXISTS (SELECT 1 FROM \(table) WHERE rid = r.rid AND param = ? AND (\(filter)))" }
        return "\(column) \(negate ? "NOT IN" : "IN") (SELECT rid FROM \(table) WHERE param = ? AND (\(filter)))"
    }

    private mutating func valueCondition(_ value: SearchValue, modifier: String?, parameter: SearchParameter) -> String {
        switch value {
        case .string(let text):
            switch modifier {
            case "exact":
                bindings.append(.text(text))
                return "exact = ?"
            case "contains":
                bindings.append(.text(StringFolding.fold(text)))
                return "instr(norm, ?) > 0"
            default:
                let folded = StringFolding.fold(text)
                bindings.append(.text(folded))
                bindings.append(.text(folded + "\u{10FFFF}"))
                return "norm >= ? AND norm < ?"
            }
        case .token(let system, let code):
            var parts: [String] = []
            if let code {
                parts.append("code = ?")
                bindings.append(.text(code))
            }
            if let system {
                parts.append("system = ?")
                bindings.append(.text(system))
            }
            return parts.isEmpty ? "1" : parts.joined(separator: " AND ")
        case .uri(let text):
            bindings.append(.text(text))
            return "value = ?"
        case .reference(let type, let id):
            bindings.append(.text(id))
            if let type {
                bindings.append(.text(type))
                return "target_id = ? AND target_type = ?"
            }
            return "target_id = ?"
        case .date(.eq, let lo, let hi) where parameter.periodContainsValue:
            // The resource's period contains the value (open ends are stored as far bounds).
            bindings += [.int(lo), .int(hi)]
            return "(lo <= ? AND hi >= ?)"
        case .date(let comparator, let lo, let hi):
            return dateCondition(comparator, lo, hi)
        case .number(let comparator, let value, let lo, let hi):
            return numberCondition(comparator, value, lo, hi)
        case .quantity(let comparator, let value, let lo, let hi, let system, let code):
            var condition = numberCondition(comparator, value, lo, hi)
            if let system {
                condition += " AND system = ?"
                bindings.append(.text(system))
            }
            if let code {
                condition += " AND code = ?"
                bindings.append(.text(code))
            }
            return condition
        }
    }

    /// R4 date semantics on half-open ranges: resource [lo, hi) against the value [plo, phi).
    private mutating func dateCondition(_ comparator: SearchComparator, _ plo: Int64, _ phi: Int64) -> String {
        let contained = "(lo >= ? AND hi <= ?)"
        switch comparator {
        case .eq:
            bindings += [.int(plo), .int(phi)]
            return contained
        case .ne:
            bindings += [.int(plo), .int(phi)]
            return "NOT \(contained)"
        case .gt:
            bindings.append(.int(phi))
            return "hi > ?"
        case .lt:
            bindings.append(.int(plo))
            return "lo < ?"
        // ge and le also state a bound both alternatives imply (a range ends after it starts), so
        // SQLite can walk an index range instead of every value of the parameter.
        case .ge:
            bindings += [.int(plo), .int(phi), .int(plo), .int(phi)]
            return "hi > ? AND (hi > ? OR \(contained))"
        case .le:
            bindings += [.int(phi), .int(plo), .int(plo), .int(phi)]
            return "lo < ? AND (lo < ? OR \(contained))"
        case .sa:
            bindings.append(.int(phi))
            return "lo >= ?"
        case .eb:
            bindings.append(.int(plo))
            return "hi <= ?"
        case .ap:
            bindings += [.int(phi), .int(plo)]
            return "lo < ? AND hi > ?"
        }
    }

    private mutating func numberCondition(_ comparator: SearchComparator, _ value: Double, _ lo: Double, _ hi: Double) -> String {
        switch comparator {
        case .eq, .ap:
            bindings += [.double(lo), .double(hi)]
            return "value >= ? AND value < ?"
        case .ne:
            bindings += [.double(lo), .double(hi)]
            return "NOT (value >= ? AND value < ?)"
        case .gt, .sa:
            bindings.append(.double(value))
            return "value > ?"
        case .lt, .eb:
            bindings.append(.double(value))
            return "value < ?"
        case .ge:
            bindings.append(.double(value))
            return "value >= ?"
        case .le:
            bindings.append(.double(value))
            return "value <= ?"
        }
    }

    private mutating func sortExpression(_ key: SortKey) -> String {
        let direction = key.descending ? "DESC" : "ASC"
        let aggregate = key.descending ? "max" : "min"
        let table = Self.table(key.parameter.type)
        let column: String
        switch key.parameter.type {
        case .string: column = "norm"
        case .token: column = "code"
        case .date: column = key.descending ? "hi" : "lo"
        case .number, .quantity, .uri: column = "value"
        case .reference: column = "target_id"
        }
        bindings.append(.text(key.parameter.name))
        return "(SELECT \(aggregate)(\(column)) FROM \(table) WHERE rid = r.rid AND param = ?) \(direction)"
    }
}
