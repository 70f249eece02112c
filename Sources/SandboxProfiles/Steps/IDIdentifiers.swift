import FHIRCore
import FHIRInteractions

/// Identifiers whose value is the resource's own vendor id without a prefix (athena's
/// `urn:athenahealth:athenanet:patient:195900|60178` on `a-195900.E-60178`, vendor-quirks §3.3,
/// §3.7): added on the way out, and a search by `identifier=system|value` finds the resource by
/// that id. Runs before ids are rewritten: it sees the vendor's ids both ways.
public struct IDIdentifiers: FHIRRequestStep {
    public struct Rule: Sendable, Equatable {
        public var type: String
        public var system: String
        /// The vendor id is `prefix` + the identifier's value.
        public var prefix: String

        public init(type: String, system: String, prefix: String) {
            self.type = type
            self.system = system
            self.prefix = prefix
        }
    }

    public let rules: [Rule]

    public init(rules: [Rule]) { self.rules = rules }

    /// `identifier=system|v1,v2` (every value in the rule's system) becomes `_id=prefix+v1,...`.
    public func rewrite(_ request: inout FHIRRequest) {
        guard request.method == "GET" || request.segments.last == "_search", let type = request.segments.first,
            let rule = rules.first(where: { $0.type == type })
        else { return }
        request.query = request.query.map { parameter in
            guard parameter.name == "identifier" else { return parameter }
            let values = parameter.value.split(separator: ",").map { token -> String? in
                guard token.hasPrefix(rule.system + "|") else { return nil }
                return rule.prefix + token.dropFirst(rule.system.count + 1)
            }
            guard !values.isEmpty, !values.contains(nil) else { return parameter }
            return (name: "_id", value: values.compactMap { $0 }.joined(separator: ","))
        }
    }

    public func check(_ request: FHIRRequest) -> FHIRResponse? { nil }

    public func finish(_ response: inout FHIRResponse, for request: FHIRRequest) {
        guard case .object(var body)? = response.jsonBody() else { return }
        var changed = false
        for rule in rules {
            body = ResourceWalk.map(body, type: rule.type) { resource in
                guard let id = resource["id"]?.stringValue, id.hasPrefix(rule.prefix) else { return resource }
                var identifiers = resource["identifier"]?.arrayValue ?? []
                guard !identifiers.contains(where: { $0["system"]?.stringValue == rule.system }) else { return resource }
                identifiers.insert(
                    .object(JSONObject(["system": .string(rule.system), "value": .string(String(id.dropFirst(rule.prefix.count)))])),
                    at: 0)
                var object = resource
                object.set("identifier", .array(identifiers), after: "meta")
                changed = true
                return object
            }
        }
        if changed { response.setJSONBody(.object(body)) }
    }
}
