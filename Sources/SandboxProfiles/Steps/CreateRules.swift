import FHIRCore
import FHIRInteractions

/// A vendor's create rules per resource type, as data (`writes.createRules`): elements that
/// must be present, allowed codes and values, how many items, reference targets, dateTimes that
/// need a time, required substrings, and elements required when another has a code. Paths are
/// dotted element names (`period.start`, `content.attachment.contentType`) through arrays. A
/// create that breaks one is a 422 naming the element. A pipeline step.
public struct CreateRules: FHIRRequestStep {
    public struct Rule: Sendable, Equatable {
        public var required: [String] = []
        /// Each value (a code, a string, or a contentType before any `;`) must be one of these.
        public var values: [String: [String]] = [:]
        /// Each CodeableConcept/Coding must carry one of these codes.
        public var codes: [String: [String]] = [:]
        /// Exactly this many items.
        public var count: [String: Int] = [:]
        /// References to these types only.
        public var references: [String: [String]] = [:]
        /// dateTimes with a time component.
        public var withTime: [String] = []
        /// Strings that must contain this text (e.g. a charset in the contentType).
        public var contains: [String: String] = [:]
        /// `path` is required when `when` has the code `code`.
        public var requiredWhen: [Conditional] = []

        public struct Conditional: Sendable, Equatable {
            public var path: String
            public var when: String
            public var code: String

            public init(path: String, when: String, code: String) {
                self.path = path
                self.when = when
                self.code = code
            }
        }

        public init() {}
    }

    public let rules: [String: Rule]

    public init(rules: [String: Rule]) { self.rules = rules }

    /// A create in a batch or transaction is held to the same rules.
    public var appliesToEntries: Bool { true }

    public func check(_ request: FHIRRequest) -> FHIRResponse? {
        guard request.method == "POST", request.segments.count == 1, let rule = rules[request.segments[0]],
            let body = request.body, let resource = (try? JSONParser.parse(body))?.objectValue,
            resource["resourceType"]?.stringValue == request.segments[0]
        else { return nil }
        return Self.violation(of: rule, in: resource, type: request.segments[0]).map(FHIRResponse.error)
    }

    /// Every value at a dotted path (arrays flattened).
    static func values(_ path: String, in resource: JSONObject) -> [JSON] {
        var current: [JSON] = [.object(resource)]
        for name in path.split(separator: ".") {
            current = current.flatMap { value -> [JSON] in
                guard let child = value[String(name)] else { return [] }
                if case .array(let items) = child { return items }
                return [child]
            }
        }
        return current.filter { if case .null = $0 { return false } else { return true } }
    }

    static func codes(of value: JSON) -> [String] {
        if let text = value.stringValue { return [text] }
        if let code = value["code"]?.stringValue { return [code] }
        return (value["coding"]?.arrayValue ?? []).compactMap { $0["code"]?.stringValue }
    }

    static func violation(of rule: Rule, in resource: JSONObject, type: String) -> FHIRError? {
        func fail(_ path: String, _ message: String) -> FHIRError {
            FHIRError(.businessRule, "\(type).\(path) \(message)", expression: ["\(type).\(path)"])
        }
        for path in rule.required where values(path, in: resource).isEmpty { return fail(path, "is required") }
        for conditional in rule.requiredWhen
        where values(conditional.when, in: resource).contains(where: { codes(of: $0).contains(conditional.code) })
            && values(conditional.path, in: resource).isEmpty
        {
            return fail(conditional.path, "is required when \(conditional.when) is \(conditional.code)")
        }
        for (path, expected) in rule.count.sorted(by: { $0.key < $1.key }) where values(path, in: resource).count != expected {
            return fail(path, "must have exactly \(expected) \(expected == 1 ? "entry" : "entries")")
        }
        for (path, allowed) in rule.values.sorted(by: { $0.key < $1.key }) {
            for value in values(path, in: resource) {
                let text = (value.stringValue ?? "").split(separator: ";").first.map { String($0.filter { $0 != " " }) } ?? ""
                if !allowed.contains(text) { return fail(path, "must be one of \(allowed.joined(separator: ", ")), not '\(text)'") }
            }
        }
        for (path, allowed) in rule.codes.sorted(by: { $0.key < $1.key }) {
            for value in values(path, in: resource) where !codes(of: value).contains(where: allowed.contains) {
                return fail(path, "must have one of the codes \(allowed.joined(separator: ", "))")
            }
        }
        for (path, types) in rule.references.sorted(by: { $0.key < $1.key }) {
            for value in values(path, in: resource) {
                let type = value["reference"]?.stringValue.flatMap(ReferenceSyntax.parse)?.type
                if !types.contains(type ?? "") { return fail(path, "must reference a \(types.joined(separator: " or "))") }
            }
        }
        for path in rule.withTime {
            for value in values(path, in: resource) where !(value.stringValue ?? "").contains("T") {
                return fail(path, "must include a time")
            }
        }
        for (path, text) in rule.contains.sorted(by: { $0.key < $1.key }) {
            for value in values(path, in: resource) where !(value.stringValue ?? "").contains(text) {
                return fail(path, "must contain '\(text)'")
            }
        }
        return nil
    }
}
