/// A JSON value that keeps what FHIR needs kept: the lexical form of numbers (`1.50` stays
/// `1.50`) and the order of object members.
public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number in its exact lexical form, as it arrived or as it should be written.
    case number(String)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    /// The member `key` of an object, or `nil` for anything else.
    public subscript(key: String) -> JSON? {
        get {
            guard case .object(let object) = self else { return nil }
            return object[key]
        }
        set {
            guard case .object(var object) = self else { return }
            object[key] = newValue
            self = .object(object)
        }
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    public var arrayValue: [JSON]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The number's lexical form.
    public var numberText: String? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The value as an array: an array itself, a single value as one element, `null` as none.
    public var asList: [JSON] {
        switch self {
        case .array(let values): return values
        case .null: return []
        default: return [self]
        }
    }

    /// The JSON type name used in error messages ("string", "number", ...).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// A number from an integer.
    public static func int(_ value: Int) -> JSON { .number(String(value)) }
}

/// An ordered JSON object. Lookups are linear: FHIR objects are small and order matters more.
public struct JSONObject: Sendable, Equatable, Sequence {
    public struct Member: Sendable, Equatable {
        public var key: String
        public var value: JSON
        public init(key: String, value: JSON) {
            self.key = key
            self.value = value
        }
    }

    public var members: [Member]

    public init() { members = [] }
    public init(_ members: [Member]) { self.members = members }
    public init(_ pairs: KeyValuePairs<String, JSON>) {
        members = pairs.map { Member(key: $0.key, value: $0.value) }
    }

    public var isEmpty: Bool { members.isEmpty }
    public var count: Int { members.count }
    public var keys: [String] { members.map(\.key) }

    /// Reads a member; setting `nil` removes it, setting a new key appends it.
    public subscript(key: String) -> JSON? {
        get {
            for member in members where member.key == key { return member.value }
            return nil
        }
        set {
            if let index = members.firstIndex(where: { $0.key == key }) {
                if let newValue {
                    members[index].value = newValue
                } else {
                    members.remove(at: index)
                }
            } else if let newValue {
                members.append(Member(key: key, value: newValue))
            }
        }
    }

    /// Sets `key`, placing a new member right after `after` when that member exists.
    public mutating func set(_ key: String, _ value: JSON, after: String) {
        if let index = members.firstIndex(where: { $0.key == key }) {
            members[index].value = value
        } else if let anchor = members.firstIndex(where: { $0.key == after }) {
            members.insert(Member(key: key, value: value), at: anchor + 1)
        } else {
            members.append(Member(key: key, value: value))
        }
    }

    public func makeIterator() -> IndexingIterator<[Member]> { members.makeIterator() }
}
