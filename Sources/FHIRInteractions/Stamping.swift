import FHIRCore
import FHIRStore

/// Server-side fields every stored version carries.
extension FHIRService {
    /// Sets `id`, `meta.versionId` and `meta.lastUpdated`, keeping other `meta` content.
    static func stamp(_ resource: JSONObject, id: String, version: Int, lastUpdated: Int64) -> JSONObject {
        var object = resource
        object.set("id", .string(id), after: "resourceType")
        var meta = object["meta"]?.objectValue ?? JSONObject()
        meta["versionId"] = .string(String(version))
        meta["lastUpdated"] = .string(InstantFormat.iso(lastUpdated))
        var ordered = JSONObject()
        ordered["versionId"] = meta["versionId"]
        ordered["lastUpdated"] = meta["lastUpdated"]
        for member in meta where member.key != "versionId" && member.key != "lastUpdated" {
            ordered[member.key] = member.value
        }
        object.set("meta", .object(ordered), after: "id")
        return object
    }

    /// `ETag`, `Last-Modified` and `Location` headers for a stored version.
    static func versionHeaders(_ stored: StoredResource, baseURL: String, location: Bool) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = [
            ("ETag", "W/\"\(stored.version)\""),
            ("Last-Modified", InstantFormat.http(stored.lastUpdated)),
        ]
        if location {
            headers.append(("Location", "\(baseURL)/\(stored.type)/\(stored.id)/_history/\(stored.version)"))
        }
        return headers
    }

    /// The response to a successful write, honouring `Prefer: return=`.
    static func writeResponse(
        status: Int, stored: StoredResource, prefer: Prefer, baseURL: String, location: Bool
    ) -> FHIRResponse {
        let headers = versionHeaders(stored, baseURL: baseURL, location: location)
        switch prefer.returnPreference {
        case .minimal:
            return FHIRResponse(status: status, headers: headers)
        case .operationOutcome:
            let message = status == 201 ? "created \(stored.type)/\(stored.id)" : "updated \(stored.type)/\(stored.id)"
            return .json(status, OperationOutcome.information(message).bytes, headers: headers)
        case .representation, nil:
            return .json(status, stored.body ?? [], headers: headers)
        }
    }
}
