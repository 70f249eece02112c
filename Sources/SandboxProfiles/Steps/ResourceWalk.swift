import FHIRCore

/// The resources of a response body: the body itself, or each entry's resource of a Bundle.
enum ResourceWalk {
    /// `body` with `transform` applied to each resource of `type` in it (the body, or a Bundle's
    /// entries).
    static func map(_ body: JSONObject, type: String, _ transform: (JSONObject) -> JSONObject) -> JSONObject {
        switch body["resourceType"]?.stringValue {
        case type: return transform(body)
        case "Bundle":
            guard let entries = body["entry"]?.arrayValue else { return body }
            var object = body
            object["entry"] = .array(
                entries.map { entry in
                    guard case .object(var item) = entry, case .object(let inner)? = item["resource"],
                        inner["resourceType"]?.stringValue == type
                    else { return entry }
                    item["resource"] = .object(transform(inner))
                    return .object(item)
                })
            return object
        default: return body
        }
    }
}
