import FHIRCore
import FHIRStore

extension FHIRService {
    /// `PATCH [base]/[type]/[id]` with a JSON Patch document (RFC 6902).
    func patch(_ request: FHIRRequest, type: String, id: String) throws(FHIRError) -> FHIRResponse {
        let media = request.headers.contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: " ").lowercased() }
        guard media == "application/json-patch+json" else {
            throw FHIRError(
                .unsupportedMediaType, "PATCH takes a JSON Patch document with Content-Type application/json-patch+json")
        }
        guard let body = request.body, !body.isEmpty else { throw FHIRError(.malformedRequest, "the JSON Patch document is empty") }
        let document: JSON
        do {
            document = try JSONParser.parse(body)
        } catch {
            throw FHIRError(.invalidJSON, "the body is not valid JSON: \(error.description)")
        }
        let operations = try JSONPatch.operations(document)
        let ifMatch = request.headers.ifMatch
        if let provider = providers[type] {
            let expected = try ifMatch.map { text throws(FHIRError) in try IfMatch.parse(text, type: type, labels: settings.versions) }
            let stored = try store.write { tx throws(FHIRError) in
                try provider.patch(id, operations: operations, ifMatch: expected, tx: tx, now: clock.now())
            }
            return Self.writeResponse(
                status: 200, stored: stored, prefer: request.headers.prefer, baseURL: request.baseURL, location: false)
        }
        let result = try store.write { tx throws(FHIRError) in
            try patchCore(tx, type: type, id: id, operations: operations, ifMatch: ifMatch)
        }
        return Self.writeResponse(
            status: 200, stored: result.stored, prefer: request.headers.prefer, baseURL: request.baseURL, location: false)
    }

    func patchCore(
        _ tx: StoreTransaction, type: String, id: String, operations: [JSONPatch.Operation], ifMatch: String?
    ) throws(FHIRError) -> WriteResult {
        guard let current = try tx.current(type, id) else { throw FHIRError(.notFound, "\(type)/\(id) does not exist") }
        if current.deleted { throw FHIRError(.gone, "\(type)/\(id) was deleted") }
        try checkIfMatch(ifMatch, current: current, type: type, id: id)
        guard let body = current.body, let original = try? JSONParser.parse(body) else {
            throw FHIRError(.internalError, "stored \(type)/\(id) is unreadable")
        }
        let patched = try JSONPatch.apply(operations, to: original)
        guard case .object(let object) = patched, object["resourceType"]?.stringValue == type, object["id"]?.stringValue == id else {
            throw FHIRError(.invalidResource, "a patch may not change resourceType or id")
        }
        try validate(patched)
        let stored = try hookedResource(object, type: type, id: id, current: current, tx: tx)
        return try storeVersion(tx, type: type, id: id, resource: stored, version: current.version + 1, method: "PATCH", status: 200)
    }
}
