import FHIRCore
import FHIRSearch

/// Vendor rules a profile states as data and the FHIR layer applies: which parameter
/// combinations a search needs, how many matches it serves, how `Bundle.total` and empty
/// results look, and the vendor's error dialect.
public struct ProfileRules: Sendable, Equatable {
    public enum TotalMode: String, Sendable, CaseIterable {
        /// The number of matches (R4).
        case accurate
        /// The number of entries on the page when `_count` is given, else accurate.
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

    /// How a date parameter must be given.
    public enum RangeForm: String, Sendable, CaseIterable {
        /// Twice, as a `ge` + `lt` pair.
        case pair
        /// As a pair, or once with a prefix and a time component.
        case pairOrPrefixedInstant = "pair-or-prefixed-instant"
    }

    /// Per resource type.
    public struct SearchRule: Sendable, Equatable {
        /// At least one of these parameter sets must be present (all of its names).
        public var requireOneOf: [[String]] = []
        /// Exactly one of these parameters must be present.
        public var exactlyOneOf: [String] = []
        /// When the key is present, each listed parameter must be too.
        public var requires: [String: [String]] = [:]
        /// At most one occurrence each (a comma list of values is fine).
        public var once: [String] = []
        /// At most one occurrence each, with a single value (no comma list).
        public var oneValue: [String] = []
        /// Date parameters that must come as a range.
        public var ranges: [String: RangeForm] = [:]
        /// Date parameters that take a date without a time component.
        public var dateOnly: [String] = []
        /// Parameters added to every search of the type (e.g. a Slot search that only ever shows `status=free`).
        public var implied: [(name: String, value: String)] = []
        /// Parameters added when `trigger` is present (e.g. `date` excluding proposed appointments).
        public var impliedWith: [(trigger: String, name: String, value: String)] = []
        /// More matches than this is an error (`tooManyResults`).
        public var maxMatches: Int?
        /// The order of results when the search has no `_sort` (a `_sort` value, e.g. `date`).
        public var sort: String?
        /// A demographic search (no `_id` or `identifier`) answered as a weighted match scoring at
        /// least this (`Patient/$match` points: family 35, given 25, birth date 30, phone 20).
        public var weightedMatch: Int?
        /// A vendor's own parameters as standard ones: name → the parameter it stands for and,
        /// for a reference, the type a bare id names (`-location=32216049` →
        /// `schedule.actor=Location/32216049`).
        public var aliases: [String: Alias] = [:]

        public struct Alias: Sendable, Equatable {
            public var parameter: String
            public var type: String?

            public init(parameter: String, type: String? = nil) {
                self.parameter = parameter
                self.type = type
            }
        }

        public init() {}

        public static func == (lhs: SearchRule, rhs: SearchRule) -> Bool {
            lhs.requireOneOf == rhs.requireOneOf && lhs.exactlyOneOf == rhs.exactlyOneOf && lhs.requires == rhs.requires
                && lhs.once == rhs.once && lhs.oneValue == rhs.oneValue && lhs.ranges == rhs.ranges && lhs.dateOnly == rhs.dateOnly
                && lhs.implied.map { "\($0.name)=\($0.value)" } == rhs.implied.map { "\($0.name)=\($0.value)" }
                && lhs.impliedWith.map { "\($0.trigger):\($0.name)=\($0.value)" }
                    == rhs.impliedWith.map { "\($0.trigger):\($0.name)=\($0.value)" }
                && lhs.maxMatches == rhs.maxMatches && lhs.sort == rhs.sort && lhs.aliases == rhs.aliases
                && lhs.weightedMatch == rhs.weightedMatch
        }
    }

    public var search: [String: SearchRule] = [:]
    /// Per type, the only interactions served (CapabilityStatement codes); others are `methodNotAllowed`.
    public var interactions: [String: [String]] = [:]
    /// The only operations served (`Type/$name`); nil: every registered one.
    public var operations: [String]?
    /// The only whole-system interactions served and listed (`transaction`, `batch`,
    /// `history-system`); nil: all three.
    public var systemInteractions: [String]?
    public var total: TotalMode = .accurate
    /// A page link whose result set is gone: run the search again, or an error (`pageExpired`).
    public var expiredPages: ExpiredPages = .rerun
    /// How a search without a required parameter combination is refused, as a template whose
    /// `{combinations}` becomes `[[_id],[family,birthdate]]` (nil: the engine's wording).
    public var criteriaMessage: String?
    /// Most `_include`s one search may carry (nil: no limit).
    public var maxIncludes: Int?
    /// Whether an `_include` of a type the token may not read is refused (403), rather than the
    /// included resources being left out quietly.
    public var includeNeedsScope = false
    /// Other names for `_count` on every type (a vendor's own page-size parameter).
    public var countAliases: [String] = []

    public enum ExpiredPages: String, Sendable, CaseIterable {
        case rerun, error
    }
    public var emptyResult: EmptyResult = .bundle
    public var dialect = ErrorDialect()

    public init() {}

    /// The search's parameters with the type's aliases replaced by the parameters they stand
    /// for (values of a reference alias: comma lists of `Type/id` or bare ids of its type).
    func resolvingAliases(_ type: String, _ parameters: [(name: String, value: String)]) -> [(name: String, value: String)] {
        let parameters = countAliases.isEmpty ? parameters : parameters.map { countAliases.contains($0.name) ? ("_count", $0.value) : $0 }
        guard let aliases = search[type]?.aliases, !aliases.isEmpty else { return parameters }
        return parameters.map { parameter in
            guard let alias = aliases[parameter.name] else { return parameter }
            guard let target = alias.type else { return (alias.parameter, parameter.value) }
            let values = parameter.value.split(separator: ",").map { $0.contains("/") ? String($0) : "\(target)/\($0)" }
            return (alias.parameter, values.joined(separator: ","))
        }
    }

    /// Parameters the type's rule adds to a search with these parameters.
    func implied(_ type: String, given parameters: [(name: String, value: String)]) -> [(name: String, value: String)] {
        guard let rule = search[type] else { return [] }
        let names = Set(parameters.map { String($0.name.prefix { $0 != ":" }) })
        var added: [(name: String, value: String)] = []
        for parameter in rule.implied + rule.impliedWith.filter({ names.contains($0.trigger) }).map({ ($0.name, $0.value) })
        where !added.contains(where: { $0 == parameter }) {
            added.append(parameter)
        }
        return added
    }

    /// Checks a search's parameters against the type's rule.
    func checkCriteria(_ query: SearchQuery) throws(FHIRError) {
        guard let rule = search[query.type] else { return }
        let type = query.type
        // Parameter names as written (chains keep their full name: schedule.actor).
        let given = query.applied.map { (name: String($0.name.prefix { $0 != ":" }), value: $0.value) }
        let present = Set(given.map(\.name))
        func missing(_ message: String, _ expression: [String] = []) -> FHIRError {
            FHIRError(.searchCriteriaMissing, message, expression: expression)
        }
        if !rule.requireOneOf.isEmpty, !rule.requireOneOf.contains(where: { Set($0).isSubset(of: present) }) {
            if let template = criteriaMessage {
                let combinations = "[" + rule.requireOneOf.map { "[" + $0.joined(separator: ",") + "]" }.joined(separator: ",") + "]"
                throw missing(template.replacing("{combinations}", with: combinations))
            }
            let sets = rule.requireOneOf.map { $0.joined(separator: " + ") }.joined(separator: "; ")
            throw missing("\(type) searches need one of: \(sets)")
        }
        if !rule.exactlyOneOf.isEmpty {
            let used = rule.exactlyOneOf.filter(present.contains)
            guard used.count == 1 else {
                throw missing(
                    "\(type) searches need exactly one of \(rule.exactlyOneOf.joined(separator: ", "))"
                        + (used.isEmpty ? "" : " (got \(used.joined(separator: ", ")))"), used)
            }
        }
        for (trigger, needed) in rule.requires.sorted(by: { $0.key < $1.key }) where present.contains(trigger) {
            for name in needed where !present.contains(name) {
                throw missing("\(type) searches with \(trigger) also need \(name)", [name])
            }
        }
        for name in Set(rule.once + rule.oneValue).sorted() where given.filter({ $0.name == name }).count > 1 {
            throw FHIRError(
                .invalidParameter,
                "\(name) may appear only once in a \(type) search\(rule.once.contains(name) ? "; use a comma list" : "")",
                expression: [name])
        }
        for name in rule.oneValue where given.contains(where: { $0.name == name && $0.value.contains(",") }) {
            throw FHIRError(.invalidParameter, "\(name) takes a single value in a \(type) search", expression: [name])
        }
        for name in rule.dateOnly where given.contains(where: { $0.name == name && $0.value.contains("T") }) {
            throw FHIRError(.invalidParameter, "\(name) takes a date without a time component", expression: [name])
        }
        for (name, form) in rule.ranges.sorted(by: { $0.key < $1.key }) where present.contains(name) {
            let values = given.filter { $0.name == name }.map(\.value)
            let prefixes = values.map { String($0.prefix(2)) }.sorted()
            let isPair = prefixes == ["ge", "lt"]
            let isPrefixedInstant =
                values.count == 1 && ["ge", "gt", "le", "lt", "eq"].contains(prefixes.first ?? "") && values[0].contains("T")
            guard isPair || (form == .pairOrPrefixedInstant && isPrefixedInstant) else {
                throw missing(
                    "\(name) must be given twice, as a ge + lt pair"
                        + (form == .pairOrPrefixedInstant ? ", or once with a prefix and a time" : ""),
                    [name])
            }
        }
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
    /// What the error response carries.
    public enum Body: String, Sendable, CaseIterable {
        /// An OperationOutcome (R4).
        case outcome
        /// `text` as a `text/plain` body (a vendor's plain-text search refusal).
        case text
        /// Nothing (a bare status).
        case empty
        /// A web server's HTML error page titled `text` (a vendor web server's 404 for an unknown type).
        case html
    }

    public struct Entry: Sendable, Equatable {
        public var code: String?
        public var severity: String?
        /// The OperationOutcome `issue.code` the vendor uses for this kind (e.g. `forbidden`).
        public var issueType: String?
        public var text: String?
        public var status: Int?
        public var body: Body = .outcome

        public init(code: String?, severity: String? = nil, text: String? = nil, status: Int? = nil, body: Body = .outcome) {
            self.code = code
            self.severity = severity
            self.text = text
            self.status = status
            self.body = body
        }
    }

    static func escape(_ text: String) -> String {
        text.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;")
    }

    /// Kinds that are not `FHIRError.Code`s: notes in search and operation outcomes.
    public static let outcomeKinds = [
        "unknownParameterIgnored", "noMatches", "optionalParameterInvalid", "noAvailability", "operationSucceeded", "mergedRead",
    ]

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
        if let code = entry.code { decorated.details = .init(system: system, code: code, text: entry.text) }
        if let severity = entry.severity { decorated.severity = severity }
        if let issueType = entry.issueType { decorated.code = issueType }
        return decorated
    }

    /// The note for `kind` in the vendor's words, or nil when the vendor does not give one
    /// (`body: empty`).
    public func note(_ issue: FHIRError.Issue, kind: String) -> FHIRError.Issue? {
        entries[kind]?.body == .empty ? nil : decorate(issue, kind: kind)
    }

    /// The edge's one error exit: a response that carries an error comes back in this
    /// dialect (status and body); headers other than the body's type are kept. Other
    /// responses pass unchanged.
    public func exit(_ response: FHIRResponse) -> FHIRResponse {
        guard let error = response.error else { return response }
        var shaped = self.response(error)
        shaped.headers += response.headers.filter { !["content-type", "content-length"].contains($0.name.lowercased()) }
        shaped.error = nil  // rendered: a second exit leaves it as it is
        return shaped
    }

    /// The response for an error: the vendor's status and issue details, when it has them.
    public func response(_ error: FHIRError) -> FHIRResponse {
        guard let entry = entries[error.code.name] else { return .error(error) }
        let status = entry.status ?? error.code.status
        switch entry.body {
        case .outcome:
            return .json(status, OperationOutcome.make(error.issues.map { decorate($0, kind: error.code.name) }).bytes)
        case .text:
            return FHIRResponse(
                status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array((entry.text ?? error.message).utf8))
        case .empty:
            return FHIRResponse(status: status)
        case .html:
            let title = Self.escape(entry.text ?? "\(status) - Error")
            let page =
                "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\n"
                + "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>\(title)</title></head>"
                + "<body><div id=\"header\"><h1>Server Error</h1></div><div id=\"content\"><h2>\(title)</h2></div></body></html>\n"
            return FHIRResponse(status: status, headers: [("Content-Type", "text/html")], body: Array(page.utf8))
        }
    }
}
