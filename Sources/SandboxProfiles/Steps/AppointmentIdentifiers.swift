import FHIRCore
import FHIRInteractions

/// An identifier every Appointment shows (`render.Appointment.identifier`: Epic's CSN, the
/// contact serial number, §1.3): a stable number derived from the stored id, in the vendor's
/// system with a type label, added on the way out. Bundles are walked entry by entry.
public struct AppointmentIdentifiers: FHIRRequestStep {
    public struct Rule: Sendable, Equatable {
        public var system: String
        /// `type.text` of the identifier (e.g. `CSN`).
        public var label: String

        public init(system: String, label: String) {
            self.system = system
            self.label = label
        }
    }

    public let rule: Rule

    public init(rule: Rule) { self.rule = rule }

    public func check(_ request: FHIRRequest) -> FHIRResponse? { nil }

    public func finish(_ response: inout FHIRResponse, for request: FHIRRequest) {
        guard case .object(let object)? = response.jsonBody(),
            ["Appointment", "Bundle"].contains(object["resourceType"]?.stringValue ?? "")
        else { return }
        response.setJSONBody(.object(render(object)))
    }

    func render(_ body: JSONObject) -> JSONObject {
        ResourceWalk.map(body, type: "Appointment") { appointment in
            guard let id = appointment["id"]?.stringValue else { return appointment }
            var identifiers = appointment["identifier"]?.arrayValue ?? []
            guard !identifiers.contains(where: { $0["system"]?.stringValue == rule.system }) else { return appointment }
            identifiers.insert(
                .object(
                    JSONObject([
                        "use": .string("usual"), "type": .object(JSONObject(["text": .string(rule.label)])),
                        "system": .string(rule.system), "value": .string(Self.number(id)),
                    ])), at: 0)
            var object = appointment
            object.set("identifier", .array(identifiers), after: "meta")
            return object
        }
    }

    /// A 10-digit number for a stored id (FNV-1a), stable across calls and profiles' restarts.
    static func number(_ id: String) -> String {
        var hash: UInt64 = 1_469_598_103_934_665_603
        for byte in id.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        return String(1_000_000_000 + hash % 9_000_000_000)
    }
}
