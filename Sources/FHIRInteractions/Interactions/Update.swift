import FHIRCore
import FHIRStore

extension FHIRService {
    /// `PUT [base]/[type]/[id]`: update, or create with the client's id; `If-Match` makes it
    /// version-aware (412 when stale).
    func update(_ request: FHIRRequest, type: String, id: String) throws(FHIRError) -> FHIRResponse {
        let resource = try resource(from: request.body, type: type, contentType: request.headers.contentType)
        let ifMatch = request.headers.ifMatch
        let result = try store.write { tx throws(FHIRError) in
            try updateCore(tx, type: type, id: id, resource: resource, ifMatch: ifMatch)
        }
        return Self.writeResponse(
            status: result.status, stored: result.stored, prefer: request.headers.prefer, baseURL: request.baseURL,
            location: result.status == 201)
    }

    func updateCore(
        _ tx: StoreTransaction, type: String, id: String, resource: JSONObject, ifMatch: String?
    ) throws(FHIRError) -> WriteResult {
        guard let bodyID = resource["id"]?.stringValue else {
            throw FHIRError(.malformedRequest, "the resource in an update must carry its id (\(id))", expression: ["\(type).id"])
        }
        guard bodyID == id else {
            throw FHIRError(.malformedRequest, "the body's id '\(bodyID)' does not match the URL's id '\(id)'", expression: ["\(type).id"])
        }
        if let provider = providers[type] {
            let expected = try ifMatch.map { text throws(FHIRError) in try IfMatch.parse(text, type: type, labels: settings.versions) }
            let written = try provider.put(resource, id: id, ifMatch: expected, tx: tx, now: clock.now())
            return WriteResult(status: written.created ? 201 : 200, stored: written.stored)
        }
        let current = try tx.current(type, id)
        try checkIfMatch(ifMatch, current: current, type: type, id: id)
        let exists = current.map { !$0.deleted } ?? false
        let stored = try hookedResource(resource, type: type, id: id, current: exists ? current : nil, tx: tx)
        return try storeVersion(
            tx, type: type, id: id, resource: stored, version: (current?.version ?? 0) + 1, method: "PUT",
            status: exists ? 200 : 201)
    }

    /// The resource after the type's write hook, if it has one.
    func hookedResource(
        _ resource: JSONObject, type: String, id: String, current: StoredResource?, tx: StoreTransaction
    ) throws(FHIRError) -> JSONObject {
        guard let hook = hooks[type] else { return resource }
        let old = current?.body.flatMap { try? JSONParser.parse($0) }?.objectValue
        return try hook.willStore(resource, old: old, id: id, tx: tx, now: clock.now())
    }

    /// 412 unless `ifMatch` (when given) names the current, live version.
    func checkIfMatch(_ ifMatch: String?, current: StoredResource?, type: String, id: String) throws(FHIRError) {
        guard let ifMatch else { return }
        let expected = try IfMatch.parse(ifMatch, type: type, labels: settings.versions)
        guard let current, !current.deleted else { throw expected.missing(type: type, id: id) }
        try expected.check(current: current.version, type: type, id: id)
    }
}
