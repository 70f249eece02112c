import FHIRCore
import FHIRInteractions

/// The FHIR release a mounted base speaks. The store holds R4; an STU3 base (Epic's scheduling
/// base) shows the same resources in STU3's shape at the edge.
public enum FHIRRelease: String, Sendable, CaseIterable {
    case r4 = "R4"
    case stu3 = "STU3"

    /// `CapabilityStatement.fhirVersion`.
    public var version: String {
        switch self {
        case .r4: return "4.0.1"
        case .stu3: return "3.0.2"
        }
    }
}

/// Renders R4 response bodies as STU3 for the elements the served types differ in: the
/// CapabilityStatement (`fhirVersion`, `acceptUnknown`, operation definitions as References),
/// Appointment (`reasonCode` → `reason`, `reasonReference` → `indication`, `basedOn` →
/// `incomingReferral`, one `serviceCategory`; R4-only elements dropped), and Slot and Schedule
/// (one `serviceCategory`). Bundles (no `timestamp` in STU3) are walked entry by entry.
public struct STU3Rendering: FHIRRequestStep {
    public init() {}

    public func check(_ request: FHIRRequest) -> FHIRResponse? { nil }

    public func finish(_ response: inout FHIRResponse, for request: FHIRRequest) {
        guard case .object(let object)? = response.jsonBody() else { return }
        response.setJSONBody(.object(Self.render(object)))
    }

    /// One resource (and the resources a Bundle holds) in STU3's shape.
    public static func render(_ resource: JSONObject) -> JSONObject {
        var object = resource
        switch resource["resourceType"]?.stringValue {
        case "Bundle":
            object["timestamp"] = nil
            if let entries = object["entry"]?.arrayValue {
                object["entry"] = .array(
                    entries.map { entry in
                        guard case .object(var item) = entry, let inner = item["resource"]?.objectValue else { return entry }
                        item["resource"] = .object(render(inner))
                        return .object(item)
                    })
            }
        case "CapabilityStatement":
            object["fhirVersion"] = .string(FHIRRelease.stu3.version)
            object.set("acceptUnknown", .string("no"), after: "fhirVersion")
            if case .array(var rests)? = object["rest"] {
                for index in rests.indices {
                    guard case .object(var rest) = rests[index], case .array(var types)? = rest["resource"] else { continue }
                    for typeIndex in types.indices {
                        guard case .object(var type) = types[typeIndex], let operations = type["operation"]?.arrayValue else { continue }
                        type["operation"] = .array(operations.map(referenceDefinition))
                        types[typeIndex] = .object(type)
                    }
                    rest["resource"] = .array(types)
                    rests[index] = .object(rest)
                }
                object["rest"] = .array(rests)
            }
        case "Appointment":
            rename(&object, "reasonCode", to: "reason")
            rename(&object, "reasonReference", to: "indication")
            rename(&object, "basedOn", to: "incomingReferral")
            object["cancelationReason"] = nil
            object["patientInstruction"] = nil
            singleServiceCategory(&object)
            if let participants = object["participant"]?.arrayValue {
                object["participant"] = .array(
                    participants.map { participant in
                        guard case .object(var item) = participant else { return participant }
                        item["period"] = nil
                        return .object(item)
                    })
            }
        case "Slot", "Schedule":
            singleServiceCategory(&object)
        default:
            break
        }
        return object
    }

    static func rename(_ object: inout JSONObject, _ name: String, to newName: String) {
        guard let value = object[name] else { return }
        object.set(newName, value, after: name)
        object[name] = nil
    }

    /// STU3 has `serviceCategory` 0..1; R4 0..*.
    static func singleServiceCategory(_ object: inout JSONObject) {
        guard let categories = object["serviceCategory"]?.arrayValue else { return }
        object["serviceCategory"] = categories.first
    }

    /// STU3's `CapabilityStatement.rest.resource.operation.definition` is a Reference.
    static func referenceDefinition(_ operation: JSON) -> JSON {
        guard case .object(var item) = operation, let url = item["definition"]?.stringValue else { return operation }
        item["definition"] = .object(JSONObject(["reference": .string(url)]))
        return .object(item)
    }
}
