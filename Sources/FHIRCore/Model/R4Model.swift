/// The R4 element tables the structural validator walks, loaded once from the generated data.
public struct R4Model: Sendable {
    /// One element of a complex type.
    public struct Element: Sendable {
        /// A primitive name (`code`, `dateTime`), a complex type (`HumanName`,
        /// `Appointment_Participant`), `Resource` (any served resource) or `xhtml`.
        public let type: String
        public let isArray: Bool
        /// Allowed codes when the element has a required binding.
        public let codes: Set<String>?
    }

    public struct ComplexType: Sendable {
        public let name: String
        public let elements: [String: Element]
        /// Elements with minimum cardinality 1; `name[x]` means any choice of that element.
        public let required: [String]
        /// The choice elements: each variant's name → the element's stem (`deceasedBoolean` →
        /// `deceased`); at most one variant of a stem may be present.
        public let choices: [String: String]
    }

    /// The resource types whose instances the sandbox accepts and validates.
    public let resourceTypes: Set<String>
    public let types: [String: ComplexType]

    /// The shared model, parsed once.
    public static let shared: R4Model = {
        guard let root = try? JSONParser.parse(json), let model = R4Model(root) else {
            preconditionFailure("the generated R4 model does not parse; rerun scripts/gen-r4-model.py")
        }
        return model
    }()

    private init?(_ root: JSON) {
        guard let enumLists = root["enums"]?.arrayValue, let typeTable = root["types"]?.objectValue,
            let resources = root["resources"]?.arrayValue
        else { return nil }
        let enums = enumLists.map { Set(($0.arrayValue ?? []).compactMap(\.stringValue)) }
        var types: [String: ComplexType] = [:]
        for member in typeTable {
            var elements: [String: Element] = [:]
            for element in member.value["e"]?.objectValue ?? JSONObject() {
                guard let spec = element.value.arrayValue, spec.count >= 2, let type = spec[0].stringValue else {
                    return nil
                }
                let codes = spec.count > 2 ? Int(spec[2].numberText ?? "").map { enums[$0] } : nil
                elements[element.key] = Element(type: type, isArray: spec[1].numberText == "1", codes: codes)
            }
            let required = (member.value["r"]?.arrayValue ?? []).compactMap(\.stringValue)
            var choices: [String: String] = [:]
            for group in member.value["c"]?.objectValue ?? JSONObject() {
                for name in (group.value.arrayValue ?? []).compactMap(\.stringValue) { choices[name] = group.key }
            }
            types[member.key] = ComplexType(name: member.key, elements: elements, required: required, choices: choices)
        }
        self.types = types
        self.resourceTypes = Set(resources.compactMap(\.stringValue))
    }
}
