import FHIRCore
import FHIRSearch

/// Vendor rules a profile states as data and the FHIR layer applies: which parameter
/// combinations a search needs, how many matches it serves, how `Bundle.total` and empty
/// results look, and the vendor's error dialect.
public struct ProfileRules: Sendable, Equatable {
    public enum TotalMode: String, Sendable, CaseIterable {
        /// The number of matches (R4).
        case accurate
        /// The number of entries on the page when `_count` is given (Epic), else accurate.
        case pageSizeWhenCount = "page-size-when-count"
        /// Never present.
        case none
    }

    public enum EmptyResult: String, Sendable, CaseIterable {
        /// An empty searchset.
        case bundle
        /// A searchset whose only entry is an OperationOutcome (`search.mode = outcome`).
        case outcome
    }

    /// Per resource type.
    public struct SearchRule: Sendable, Equatable {
        /// At least one of these parameter sets must be present (all of its names).
        public var requireOneOf: [[String]] = []
        /// More matches than this is an error (`tooManyResults`).
        public var maxMatches: Int?

        public init(requireOneOf: [[String]] = [], maxMatches: Int? = nil) {
            self.requireOneOf = requireOneOf
            self.maxMatches = maxMatches
        }
    }

    public var search: [String: SearchRule] = [:]
    public var total: TotalMode = .accurate
    public var emptyResult: EmptyResult = .bundle
    public var dialect = ErrorDialect()

    public init() {}

    /// Checks a search's parameters against the type's `requireOneOf`.
    func checkCriteria(_ query: SearchQuery) throws(FHIRError) {
        guard let rule = search[query.type], !rule.requireOneOf.isEmpty else { return }
        let present = Set(query.applied.map { name in String(name.name.prefix { $0 != ":" && $0 != "." }) })
        guard !rule.requireOneOf.contains(where: { Set($0).isSubset(of: present) }) else { return }
        let sets = rule.requireOneOf.map { $0.joined(separator: " + ") }.joined(separator: "; ")
        throw FHIRError(.searchCriteriaMissing, "\(query.type) searches need one of: \(sets)")
    }

    func checkCount(_ type: String, _ count: Int) throws(FHIRError) {
        guard let limit = search[type]?.maxMatches, count > limit else { return }
        throw FHIRError(.tooManyResults, "\(count) \(type) resources match; at most \(limit) are served: narrow the search")
    }
}

/// A vendor's error dialect: for each error kind (an `FHIRError.Code` name, or one of the
/// search outcomes `unknownParameterIgnored` and `noMatches`) the vendor's code in
/// `issue.details`, its severity, text and, for errors, the HTTP status.
public struct ErrorDialect: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var code: String
        public var severity: String?
        public var text: String?
        public var status: Int?

        public init(code: String, severity: String? = nil, text: String? = nil, status: Int? = nil) {
            self.code = code
            self.severity = severity
            self.text = text
            self.status = status
        }
    }

    /// Kinds that are not `FHIRError.Code`s: search outcomes.
    public static let outcomeKinds = ["unknownParameterIgnored", "noMatches"]

    /// `issue.details.coding.system` for the vendor codes.
    public var system: String?
    public var entries: [String: Entry] = [:]

    public init(system: String? = nil, entries: [String: Entry] = [:]) {
        self.system = system
        self.entries = entries
    }

    /// The issue in the vendor's words for `kind`.
    public func decorate(_ issue: FHIRError.Issue, kind: String) -> FHIRError.Issue {
        guard let entry = entries[kind] else { return issue }
        var decorated = issue
        decorated.details = .init(system: system, code: entry.code, text: entry.text)
        if let severity = entry.severity { decorated.severity = severity }
        return decorated
    }

    /// The response for an error: the vendor's status and issue details, when it has them.
    public func response(_ error: FHIRError) -> FHIRResponse {
        guard let entry = entries[error.code.name] else { return .error(error) }
        let issues = error.issues.map { decorate($0, kind: error.code.name) }
        return .json(entry.status ?? error.code.status, OperationOutcome.make(issues).bytes)
    }
}
