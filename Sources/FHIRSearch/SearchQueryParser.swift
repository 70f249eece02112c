import FHIRCore
import Foundation

/// Parses search parameters into a `SearchQuery`.
///
/// Unknown parameters are ignored with a warning, or rejected with 400 when `strict`
/// (`Prefer: handling=strict`). A bad value for a known parameter is always a 400.
public struct SearchQueryParser: Sendable {
    public let registry: SearchRegistry
    public let zone: TimeZoneRule
    public let maxCount: Int
    /// Most comma-separated (OR) values one parameter may carry; more would build a query
    /// SQLite refuses ("Expression tree is too large").
    public static let maxValuesPerParameter = 200
    /// Most parameters (AND clauses, includes, sorts) one search may carry.
    public static let maxParameters = 64
    /// Parameters the transport layer consumes (`_format`, `_pretty`): neither applied nor unknown.
    public static let transportParameters: Set<String> = ["_format", "_pretty"]

    public init(registry: SearchRegistry, zone: TimeZoneRule, maxCount: Int = 1000) {
        self.registry = registry
        self.zone = zone
        self.maxCount = maxCount
    }

    public func parse(type: String, parameters: [(name: String, value: String)], strict: Bool, now: Int64) throws(FHIRError)
        -> SearchQuery
    {
        var query = SearchQuery(type: type)
        let counted = parameters.filter { !Self.transportParameters.contains($0.name) && !$0.value.isEmpty }
        guard counted.count <= Self.maxParameters else {
            throw FHIRError(
                .invalidParameter,
                "a search may have at most \(Self.maxParameters) parameters (this one has \(counted.count)); narrow it or split it",
                expression: [counted[Self.maxParameters].name])
        }
        for (name, value) in counted {
            if name.hasPrefix("_sort") || name.hasPrefix("_include") || name.hasPrefix("_revinclude"),
                value.split(separator: ",").count > Self.maxValuesPerParameter
            {
                throw invalid("'\(name)' has more than \(Self.maxValuesPerParameter) comma-separated values", name)
            }
            switch name {
            case "_count":
                guard let count = Int(value), count >= 0 else {
                    throw invalid("_count must be a non-negative integer, not '\(value)'", name)
                }
                query.count = min(count, maxCount)
            case "_sort": query.sort += try parseSort(value, type: type)
            case "_include", "_include:iterate":
                query.includes += try value.split(separator: ",").map { raw throws(FHIRError) in
                    try parseInclude(String(raw), name: name, reverse: false, type: type)
                }
            case "_revinclude", "_revinclude:iterate":
                query.revIncludes += try value.split(separator: ",").map { raw throws(FHIRError) in
                    try parseInclude(String(raw), name: name, reverse: true, type: type)
                }
            case "_summary":
                switch value {
                case "count": query.summaryCount = true
                case "false": break
                default: throw invalid("_summary=\(value) is not supported (use count or false)", name)
                }
            case "_total":
                guard let mode = TotalMode(rawValue: value) else {
                    throw invalid("_total must be none, estimate or accurate, not '\(value)'", name)
                }
                query.total = mode
            default:
                guard
                    let clause = try parseClause(name: name, value: value, type: type, now: now, strict: strict, warnings: &query.warnings)
                else { continue }
                query.clauses.append(clause)
            }
            query.applied.append((name, value))
        }
        return query
    }

    private func invalid(_ message: String, _ parameter: String) -> FHIRError {
        FHIRError(.invalidParameter, message, expression: [parameter])
    }

    private func unknown(
        _ message: String, _ name: String, strict: Bool, warnings: inout [FHIRError.Issue]
    ) throws(FHIRError) -> SearchClause? {
        if strict { throw FHIRError(.unknownParameter, message, expression: [name]) }
        warnings.append(.init(severity: "warning", code: "not-supported", message: message + "; it was ignored", expression: [name]))
        return nil
    }

    private func parseClause(
        name: String, value: String, type: String, now: Int64, strict: Bool, warnings: inout [FHIRError.Issue], chained: Bool = false
    ) throws(FHIRError) -> SearchClause? {
        // Chain: `schedule.actor` or `schedule:Schedule.actor`.
        if let dot = name.firstIndex(of: ".") {
            let head = String(name[..<dot])
            let rest = String(name[name.index(after: dot)...])
            let (baseName, modifier) = Self.splitModifier(head)
            guard let parameter = registry.parameter(baseName, of: type) else {
                return try unknown("unknown search parameter '\(baseName)' for \(type)", name, strict: strict, warnings: &warnings)
            }
            guard parameter.type == .reference else {
                throw invalid("'\(baseName)' is not a reference parameter and cannot be chained", name)
            }
            if rest.contains(".") { throw invalid("chains deeper than one level are not supported", name) }
            let targetType: String
            if let modifier {
                targetType = modifier
            } else if parameter.targets.count == 1 {
                targetType = parameter.targets[0]
            } else {
                let candidates = (parameter.targets.isEmpty ? registry.resourceTypes : parameter.targets).filter {
                    registry.chainedParameter(Self.splitModifier(rest).name, of: $0) != nil
                }
                guard candidates.count == 1 else {
                    throw invalid(
                        "'\(baseName)' may refer to several types; name one, e.g. \(baseName):\(candidates.first ?? "Patient").\(rest)",
                        name)
                }
                targetType = candidates[0]
            }
            guard registry.supports(targetType) else { throw invalid("cannot chain into unsupported type \(targetType)", name) }
            guard
                let inner = try parseClause(
                    name: rest, value: value, type: targetType, now: now, strict: true, warnings: &warnings, chained: true)
            else { return nil }
            return SearchClause(parameter: parameter, chain: [ChainedClause(targetType: targetType, clause: inner)])
        }
        let (baseName, modifier) = Self.splitModifier(name)
        guard let parameter = chained ? registry.chainedParameter(baseName, of: type) : registry.parameter(baseName, of: type) else {
            return try unknown("unknown search parameter '\(baseName)' for \(type)", name, strict: strict, warnings: &warnings)
        }
        var typeModifier: String?
        if let modifier, !parameter.modifiers.contains(modifier) {
            if parameter.type == .reference, registry.supports(modifier) || parameter.targets.contains(modifier) {
                typeModifier = modifier
            } else {
                throw invalid("modifier ':\(modifier)' is not supported for \(parameter.type.rawValue) parameter '\(baseName)'", name)
            }
        }
        if modifier == "missing" {
            guard value == "true" || value == "false" else { throw invalid(":missing must be true or false", name) }
            return SearchClause(parameter: parameter, modifier: "missing", missing: value == "true")
        }
        var values: [SearchValue] = []
        let raws = Self.splitValues(value)
        guard raws.count <= Self.maxValuesPerParameter else {
            throw invalid(
                "'\(name)' has \(raws.count) comma-separated values; at most \(Self.maxValuesPerParameter) are accepted (split the search)",
                name)
        }
        for raw in raws {
            values.append(try parseValue(raw, parameter: parameter, typeModifier: typeModifier, name: name, now: now))
        }
        return SearchClause(parameter: parameter, modifier: typeModifier == nil ? modifier : nil, values: values)
    }

    private func parseValue(
        _ raw: String, parameter: SearchParameter, typeModifier: String?, name: String, now: Int64
    ) throws(FHIRError) -> SearchValue {
        switch parameter.type {
        case .string:
            return .string(raw)
        case .uri:
            return .uri(raw)
        case .token:
            if let bar = Self.unescapedBar(raw) {
                let system = String(raw[..<bar])
                let code = String(raw[raw.index(after: bar)...])
                return .token(system: system, code: code.isEmpty ? nil : Self.unescape(code))
            }
            return .token(system: nil, code: Self.unescape(raw))
        case .reference:
            if let parsed = ReferenceSyntax.parse(raw) {
                if let typeModifier, typeModifier != parsed.type {
                    throw invalid("reference '\(raw)' does not match the type modifier :\(typeModifier)", name)
                }
                return .reference(type: parsed.type, id: parsed.id)
            }
            guard PrimitiveCheck.isValidID(raw) else {
                throw invalid("'\(raw)' is not a valid reference (Type/id or an id)", name)
            }
            let type = typeModifier ?? (parameter.targets.count == 1 ? parameter.targets[0] : nil)
            return .reference(type: type, id: raw)
        case .date:
            let (comparator, rest) = Self.splitPrefix(raw)
            guard let date = FHIRDateTime.parse(rest, form: .search) else {
                throw invalid("'\(raw)' is not a valid date for '\(name)' (expected [prefix]YYYY[-MM[-DD[Thh:mm[:ss][zone]]]])", name)
            }
            var (lo, hi) = date.range(in: zone)
            if comparator == .ap {
                let widen = max(Int64(Double(abs(now - lo)) * 0.1), 86_400_000)
                lo -= widen
                hi += widen
            }
            return .date(comparator, lo: lo, hi: hi)
        case .number, .quantity:
            let parts = raw.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            let (comparator, numberText) = Self.splitPrefix(parts[0])
            guard let value = Double(numberText), case .number = (try? JSONParser.parse(numberText)) ?? .null else {
                throw invalid("'\(raw)' is not a valid \(parameter.type.rawValue) for '\(name)'", name)
            }
            // Implicit precision: 100 means [99.5, 100.5), 100.0 means [99.95, 100.05).
            let decimals = numberText.split(separator: ".").dropFirst().first?.count ?? 0
            var half = 0.5
            for _ in 0..<decimals { half /= 10 }
            if comparator == .ap { half = max(half, abs(value) * 0.1) }
            if parameter.type == .number {
                return .number(comparator, value: value, lo: value - half, hi: value + half)
            }
            let system = parts.count > 1 && !parts[1].isEmpty ? parts[1] : nil
            let code = parts.count > 2 && !parts[2].isEmpty ? parts[2] : nil
            return .quantity(comparator, value: value, lo: value - half, hi: value + half, system: system, code: code)
        }
    }

    /// The sort keys of a `_sort` value (for an order a profile imposes when the client sets none).
    public func sortKeys(_ value: String, type: String) throws(FHIRError) -> [SortKey] { try parseSort(value, type: type) }

    private func parseSort(_ value: String, type: String) throws(FHIRError) -> [SortKey] {
        var keys: [SortKey] = []
        for raw in value.split(separator: ",") {
            let descending = raw.hasPrefix("-")
            let name = descending ? String(raw.dropFirst()) : String(raw)
            guard let parameter = registry.parameter(name, of: type) else {
                throw invalid("cannot sort \(type) by unknown parameter '\(name)'", "_sort")
            }
            guard parameter.type != .reference else {
                throw invalid("cannot sort by reference parameter '\(name)'", "_sort")
            }
            keys.append(SortKey(parameter: parameter, descending: descending))
        }
        return keys
    }

    private func parseInclude(_ raw: String, name: String, reverse: Bool, type: String) throws(FHIRError) -> IncludeSpec {
        let parts = raw.split(separator: ":").map(String.init)
        guard parts.count == 2 || parts.count == 3 else {
            throw invalid("\(name) must be Type:parameter[:TargetType], not '\(raw)'", name)
        }
        let source = parts[0]
        if !reverse && source != type {
            throw invalid("_include source type must be \(type), not '\(source)'", name)
        }
        guard let parameter = registry.parameter(parts[1], of: source), parameter.type == .reference else {
            throw invalid("'\(parts[1])' is not a reference parameter of \(source)", name)
        }
        let target = parts.count == 3 ? parts[2] : nil
        if let target, !registry.supports(target) { throw invalid("unknown target type '\(target)'", name) }
        if reverse, !parameter.targets.isEmpty, !parameter.targets.contains(type) {
            throw invalid("\(source):\(parts[1]) cannot refer to \(type)", name)
        }
        return IncludeSpec(sourceType: source, parameter: parameter, targetType: target)
    }

    static func splitModifier(_ name: String) -> (name: String, modifier: String?) {
        guard let colon = name.firstIndex(of: ":") else { return (name, nil) }
        return (String(name[..<colon]), String(name[name.index(after: colon)...]))
    }

    static func splitPrefix(_ raw: String) -> (SearchComparator, String) {
        if raw.count > 2, let comparator = SearchComparator(rawValue: String(raw.prefix(2))),
            raw.dropFirst(2).first.map({ $0.isNumber || $0 == "-" }) == true
        {
            return (comparator, String(raw.dropFirst(2)))
        }
        return (.eq, raw)
    }

    /// Splits on commas not escaped with a backslash.
    static func splitValues(_ value: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var escaped = false
        for character in value {
            if escaped {
                if character != "," { current.append("\\") }
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "," {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        if escaped { current.append("\\") }
        parts.append(current)
        return parts.filter { !$0.isEmpty }
    }

    static func unescapedBar(_ value: String) -> String.Index? {
        var previous: Character?
        for index in value.indices {
            if value[index] == "|" && previous != "\\" { return index }
            previous = value[index]
        }
        return nil
    }

    static func unescape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\|", with: "|").replacingOccurrences(of: "\\$", with: "$")
    }
}
