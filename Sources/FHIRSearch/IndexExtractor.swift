import FHIRCore

/// Computes the index rows of a resource from the registry's paths, reading each value by the
/// parameter's type and the element's shape (HumanName, Address, CodeableConcept, Identifier,
/// ContactPoint, Period, Reference, Quantity, primitives).
public struct IndexExtractor: Sendable {
    /// One step of a parameter path: an element name and an optional `[key=value]` filter.
    struct Step: Sendable {
        let name: String
        let filter: (key: String, value: String)?
    }

    public let registry: SearchRegistry
    public let zone: TimeZoneRule
    /// Each type's parameters with their paths parsed once.
    private let compiled: [String: [(SearchParameter, [[Step]])]]

    public init(registry: SearchRegistry, zone: TimeZoneRule) {
        self.registry = registry
        self.zone = zone
        var compiled: [String: [(SearchParameter, [[Step]])]] = [:]
        for type in registry.resourceTypes {
            compiled[type] = registry.parameters(of: type).map { ($0, $0.paths.map(Self.compile)) }
        }
        self.compiled = compiled
    }

    public func entries(for resource: JSON, type: String) -> [IndexEntry] {
        var entries: [IndexEntry] = []
        for (parameter, paths) in compiled[type] ?? [] {
            for path in paths {
                for element in Self.select(path, in: resource) {
                    values(of: element, for: parameter) { entries.append(IndexEntry(parameter.name, $0)) }
                }
            }
        }
        return entries
    }

    static func compile(_ path: String) -> [Step] {
        path.split(separator: ".").map { segment in
            if let open = segment.firstIndex(of: "["), segment.hasSuffix("]") {
                let condition = segment[segment.index(after: open)..<segment.index(before: segment.endIndex)]
                let parts = condition.split(separator: "=", maxSplits: 1)
                return Step(name: String(segment[..<open]), filter: parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil)
            }
            return Step(name: String(segment), filter: nil)
        }
    }

    /// The elements a path selects; arrays are flattened at every step.
    public static func select(_ path: String, in resource: JSON) -> [JSON] { select(compile(path), in: resource) }

    static func select(_ steps: [Step], in resource: JSON) -> [JSON] {
        var current: [JSON] = [resource]
        for step in steps {
            var next: [JSON] = []
            for value in current {
                guard let child = value[step.name] else { continue }
                for item in child.asList {
                    if let filter = step.filter, item[filter.key]?.stringValue != filter.value { continue }
                    next.append(item)
                }
            }
            current = next
            if current.isEmpty { break }
        }
        return current
    }

    private func values(of element: JSON, for parameter: SearchParameter, emit: (IndexValue) -> Void) {
        switch parameter.type {
        case .string: strings(element) { emit(.string(normalized: StringFolding.fold($0), exact: $0)) }
        case .token: tokens(element, emit: emit)
        case .date:
            if let range = dateRange(element) { emit(.date(lo: range.lo, hi: range.hi)) }
        case .reference:
            guard let text = element["reference"]?.stringValue, let parsed = ReferenceSyntax.parse(text) else { return }
            if parameter.targets.isEmpty || parameter.targets.contains(parsed.type) {
                emit(.reference(type: parsed.type, id: parsed.id))
            }
        case .number:
            if let text = element.numberText, let value = Double(text) { emit(.number(value)) }
        case .quantity:
            guard let text = element["value"]?.numberText, let value = Double(text) else { return }
            let system = element["system"]?.stringValue ?? ""
            let code = element["code"]?.stringValue ?? element["unit"]?.stringValue ?? ""
            emit(.quantity(value: value, system: system, code: code))
        case .uri:
            if let text = element.stringValue { emit(.uri(text)) }
        }
    }

    private func strings(_ element: JSON, emit: (String) -> Void) {
        switch element {
        case .string(let text): emit(text)
        case .object(let object):
            // HumanName and Address: every textual part.
            for key in ["text", "family", "given", "prefix", "suffix", "line", "city", "district", "state", "postalCode", "country"] {
                for part in object[key]?.asList ?? [] {
                    if let text = part.stringValue { emit(text) }
                }
            }
        default: break
        }
    }

    static let contactSystems: Set<String> = ["phone", "fax", "email", "pager", "url", "sms", "other"]

    private func tokens(_ element: JSON, emit: (IndexValue) -> Void) {
        switch element {
        case .string(let code): emit(.token(system: "", code: code))
        case .bool(let flag): emit(.token(system: "", code: flag ? "true" : "false"))
        case .object(let object):
            if let codings = object["coding"]?.arrayValue {
                // CodeableConcept
                for coding in codings {
                    if let code = coding["code"]?.stringValue {
                        emit(.token(system: coding["system"]?.stringValue ?? "", code: code))
                    }
                }
            } else if let code = object["code"]?.stringValue {
                // Coding
                emit(.token(system: object["system"]?.stringValue ?? "", code: code))
            } else if let value = object["value"]?.stringValue {
                let system = object["system"]?.stringValue ?? ""
                emit(.token(system: system, code: value))
                if Self.contactSystems.contains(system) {
                    // ContactPoint: also index the digits alone, so 5555550100 finds (555) 555-0100.
                    let digits = String(value.unicodeScalars.filter { ("0"..."9").contains($0) }.map(Character.init))
                    if !digits.isEmpty && digits != value { emit(.token(system: system, code: digits)) }
                }
            }
        default: break
        }
    }

    private func dateRange(_ element: JSON) -> (lo: Int64, hi: Int64)? {
        switch element {
        case .string(let text):
            return FHIRDateTime.parse(text, form: .dateTime)?.range(in: zone)
        case .object(let object):
            // Period: an absent end is open-ended.
            let start = object["start"]?.stringValue.flatMap { FHIRDateTime.parse($0, form: .dateTime) }
            let end = object["end"]?.stringValue.flatMap { FHIRDateTime.parse($0, form: .dateTime) }
            if start == nil && end == nil { return nil }
            return (start?.range(in: zone).lo ?? Int64.min, end?.range(in: zone).hi ?? Int64.max)
        default: return nil
        }
    }
}
