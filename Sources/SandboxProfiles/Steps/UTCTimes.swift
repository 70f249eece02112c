import FHIRCore
import FHIRInteractions

/// Appointment times in UTC with a `Z` suffix on the way out (`content.utcTimes`, Cerner
/// §2.3): `start`, `end` and `requestedPeriod`, whatever offset they were stored with (the seed
/// keeps the clinic's local offset, shared by every profile's tenant). Slots are rendered in UTC
/// by the slot renderer itself. Bundles are walked entry by entry.
public struct UTCTimes: FHIRRequestStep {
    public init() {}

    public func check(_ request: FHIRRequest) -> FHIRResponse? { nil }

    public func finish(_ response: inout FHIRResponse, for request: FHIRRequest) {
        guard case .object(let object)? = response.jsonBody(),
            ["Appointment", "Bundle"].contains(object["resourceType"]?.stringValue ?? "")
        else { return }
        let rendered = Self.render(object)
        if rendered != object { response.setJSONBody(.object(rendered)) }
    }

    static func render(_ body: JSONObject) -> JSONObject {
        ResourceWalk.map(body, type: "Appointment") { appointment in
            var object = appointment
            for key in ["start", "end"] { object[key] = object[key].map(utc) }
            if let periods = object["requestedPeriod"]?.arrayValue {
                object["requestedPeriod"] = .array(
                    periods.map { period in
                        guard case .object(var value) = period else { return period }
                        for key in ["start", "end"] { value[key] = value[key].map(utc) }
                        return .object(value)
                    })
            }
            return object
        }
    }

    /// An instant (with an offset) as UTC `Z`; anything else (a date, no offset) as it is.
    static func utc(_ value: JSON) -> JSON {
        guard let text = value.stringValue, !text.hasSuffix("Z"), let instant = FHIRDateTime.parse(text, form: .instant) else {
            return value
        }
        return .string(InstantFormat.iso(instant.startMilliseconds(in: .utc), offsetSeconds: 0))
    }
}
