import FHIRCore
import FHIRInteractions

/// An identifier every Appointment shows (`render.Appointment.identifier`: Epic's CSN, the
/// contact serial number, §1.3): a stable number derived from the stored id, in the vendor's
/// system with a type label, added on the way out. Bundles are walked entry by entry.
public struct AppointmentIdentifiers: FHIRRequestStep {
    /// The identifier's system and `type.text` label; searches find it (`FHIRServiceSettings.derivedIdentifiers`).
    public typealias Rule = DerivedIdentifier

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
                        "system": .string(rule.system), "value": .string(DerivedIdentifier.value(for: id)),
                    ])), at: 0)
            var object = appointment
            object.set("identifier", .array(identifiers), after: "meta")
            return object
        }
    }
}
