import FHIRCore
import FHIRSearch
import FHIRStore

/// An identifier the server derives from a resource's id instead of storing it (a vendor's
/// contact serial number on every Appointment): the profile shows it on the way out, and a
/// search by `identifier=system|value` (or `label|value`) finds the resources whose derived
/// value it is.
public struct DerivedIdentifier: Sendable, Equatable {
    public var system: String
    /// `type.text` of the identifier, also accepted in place of the system in searches.
    public var label: String

    public init(system: String, label: String) {
        self.system = system
        self.label = label
    }

    /// A 10-digit number for an id (FNV-1a), stable across calls and restarts.
    public static func value(for id: String) -> String {
        var hash: UInt64 = 1_469_598_103_934_665_603
        for byte in id.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        return String(1_000_000_000 + hash % 9_000_000_000)
    }

    /// The value a token names, when it names this identifier (`system|value` or `label|value`).
    func value(in token: Substring) -> String? {
        guard let bar = token.firstIndex(of: "|") else { return nil }
        let system = token[..<bar]
        guard system == self.system || system.lowercased() == label.lowercased() else { return nil }
        return String(token[token.index(after: bar)...])
    }
}

/// An `_id` no resource has: what a derived identifier that matches nothing searches for.
let unmatchedID = "no-resource-has-this-identifier"

extension FHIRService {
    /// `identifier` parameters that all name the type's derived identifier, as the `_id`s whose
    /// derived value they name (every other parameter unchanged).
    func resolvingDerivedIdentifiers(
        _ type: String, _ parameters: [(name: String, value: String)]
    ) throws(FHIRError) -> [(name: String, value: String)] {
        guard let derived = settings.derivedIdentifiers[type] else { return parameters }
        let wanted = parameters.map { parameter -> [String]? in
            guard parameter.name == "identifier" else { return nil }
            let values = parameter.value.split(separator: ",").map { derived.value(in: $0) }
            return values.contains(nil) ? nil : values.compactMap { $0 }
        }
        guard wanted.contains(where: { $0 != nil }) else { return parameters }
        let all = try searchParser().parse(type: type, parameters: [], strict: false, now: clock.now())
        let ids = try store.read { reader throws(FHIRError) in try reader.search(all).map(\.id) }
        var byValue: [String: [String]] = [:]
        for id in ids { byValue[DerivedIdentifier.value(for: id), default: []].append(id) }
        return zip(parameters, wanted).map { parameter, values in
            guard let values else { return parameter }
            let matching = values.flatMap { byValue[$0] ?? [] }
            return ("_id", matching.isEmpty ? unmatchedID : matching.joined(separator: ","))
        }
    }
}
