import FHIRCore

/// Date, number and quantity comparison prefixes (R4 search.html §3.1.1.4.6).
public enum SearchComparator: String, Sendable, CaseIterable {
    case eq, ne, gt, lt, ge, le, sa, eb, ap
}

/// One parsed value of a search parameter; several values of one clause are ORed.
public enum SearchValue: Sendable, Equatable {
    case string(String)
    /// `system` nil means any system, "" means no system; `code` nil means any code (`system|`).
    case token(system: String?, code: String?)
    case date(SearchComparator, lo: Int64, hi: Int64)
    /// `type` nil means any target type.
    case reference(type: String?, id: String)
    case number(SearchComparator, value: Double, lo: Double, hi: Double)
    case quantity(SearchComparator, value: Double, lo: Double, hi: Double, system: String?, code: String?)
    case uri(String)
}

/// One condition: a parameter, an optional modifier and its ORed values; or, for a chain, a
/// reference parameter whose targets must match a clause on their own type.
public struct SearchClause: Sendable {
    public let parameter: SearchParameter
    /// `exact`, `contains`, `not`, `missing` or nil.
    public let modifier: String?
    public let values: [SearchValue]
    /// For `:missing=true|false`.
    public let missing: Bool?
    /// A chained condition (`schedule.actor=...`): the target type and the clause on it.
    public let chain: [ChainedClause]

    public init(
        parameter: SearchParameter, modifier: String? = nil, values: [SearchValue] = [], missing: Bool? = nil,
        chain: [ChainedClause] = []
    ) {
        self.parameter = parameter
        self.modifier = modifier
        self.values = values
        self.missing = missing
        self.chain = chain
    }
}

public struct ChainedClause: Sendable {
    public let targetType: String
    public let clause: SearchClause
}

public struct SortKey: Sendable {
    public let parameter: SearchParameter
    public let descending: Bool
}

/// `_include` (`Source:param[:Target]`) or `_revinclude`.
public struct IncludeSpec: Sendable, Equatable {
    public let sourceType: String
    public let parameter: SearchParameter
    public let targetType: String?
}

public enum TotalMode: String, Sendable {
    case none, estimate, accurate
}

/// A search request, parsed and checked against the registry.
public struct SearchQuery: Sendable {
    public var type: String
    public var clauses: [SearchClause] = []
    /// Page size requested (`_count`), nil for the default.
    public var count: Int?
    public var sort: [SortKey] = []
    public var includes: [IncludeSpec] = []
    public var revIncludes: [IncludeSpec] = []
    /// `_summary=count`: only the total.
    public var summaryCount = false
    public var total: TotalMode = .accurate
    /// The parameters actually applied, in request order, for the `self` link.
    public var applied: [(name: String, value: String)] = []
    /// Warnings for ignored parameters (lenient handling).
    public var warnings: [FHIRError.Issue] = []

    public init(type: String) { self.type = type }
}
