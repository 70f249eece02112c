/// The R4 search parameter types the sandbox implements.
public enum SearchParameterType: String, Sendable, CaseIterable {
    case string, token, date, reference, number, quantity, uri
}

/// One search parameter, as data: its name, type, the element paths it indexes and, for
/// references, the resource types it may point to.
///
/// Paths are dotted element names relative to the resource. A segment may carry a filter,
/// `telecom[system=phone]`, which keeps only elements whose member equals the value.
public struct SearchParameter: Sendable, Equatable {
    public let name: String
    public let type: SearchParameterType
    public let paths: [String]
    /// Reference targets; empty means any type.
    public let targets: [String]
    public let documentation: String
    /// A date parameter whose plain (`eq`) search means "the resource's period contains the
    /// value" (R4's Schedule `date`: "a period that contains this date"), not R4's general "the
    /// value contains the resource's range".
    public private(set) var periodContainsValue = false

    public init(_ name: String, _ type: SearchParameterType, _ paths: [String], targets: [String] = [], _ doc: String = "") {
        self.name = name
        self.type = type
        self.paths = paths
        self.targets = targets
        self.documentation = doc
    }

    /// This date parameter with `periodContainsValue`.
    public func containingValue() -> SearchParameter {
        var copy = self
        copy.periodContainsValue = true
        return copy
    }

    /// Modifiers accepted for this parameter's type.
    public var modifiers: Set<String> {
        switch type {
        case .string: return ["exact", "contains", "missing"]
        case .token: return ["not", "missing"]
        case .reference: return ["missing"]
        case .date, .number, .quantity, .uri: return ["missing"]
        }
    }
}

/// The parameters of every resource type, keyed by type then name.
public struct SearchRegistry: Sendable {
    private let table: [String: [String: SearchParameter]]
    private let sorted: [String: [SearchParameter]]
    /// The parameters a chain may use on a served type (`Slot?schedule.actor=`): those before
    /// `restricting`, which limits what a search *of* that type takes, not the chains into it.
    private let chainable: [String: [String: SearchParameter]]

    public init(_ table: [String: [SearchParameter]]) {
        let byName = table.mapValues { Dictionary($0.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }) }
        self.init(byName: byName, chainable: byName)
    }

    private init(byName: [String: [String: SearchParameter]], chainable: [String: [String: SearchParameter]]) {
        table = byName
        sorted = byName.mapValues { $0.values.sorted { $0.name < $1.name } }
        self.chainable = chainable
    }

    /// A parameter a chain into `type` may use (`actor` in `schedule.actor`).
    public func chainedParameter(_ name: String, of type: String) -> SearchParameter? {
        table[type] == nil ? nil : chainable[type]?[name]
    }

    public var resourceTypes: [String] { table.keys.sorted() }

    public func parameter(_ name: String, of type: String) -> SearchParameter? { table[type]?[name] }

    /// A type's parameters, sorted by name.
    public func parameters(of type: String) -> [SearchParameter] { sorted[type] ?? [] }

    public func supports(_ type: String) -> Bool { table[type] != nil }

    /// The registry without these types (a profile that does not serve them).
    public func removing(_ types: Set<String>) -> SearchRegistry {
        SearchRegistry(byName: table.filter { !types.contains($0.key) }, chainable: chainable.filter { !types.contains($0.key) })
    }

    /// This registry with searches of `type` limited to the named parameters (chains into it
    /// keep the type's parameters).
    public func restricting(_ type: String, to names: Set<String>) -> SearchRegistry {
        var copy = table
        copy[type] = copy[type]?.filter { names.contains($0.key) }
        return SearchRegistry(byName: copy, chainable: chainable)
    }
}
