import FHIRCore
import FHIRStore

extension FHIRService {
    /// `DELETE [base]/[type]/[id]`: records a deletion version; later reads give 410.
    /// Deleting something already deleted succeeds without a new version.
    func delete(_ request: FHIRRequest, type: String, id: String) throws(FHIRError) -> FHIRResponse {
        let ifMatch = request.headers.ifMatch
        let result = try store.write { tx throws(FHIRError) in try deleteCore(tx, type: type, id: id, ifMatch: ifMatch) }
        let headers: [(name: String, value: String)] = [("ETag", "W/\"\(result.stored.version)\"")]
        if request.headers.prefer.returnPreference == .operationOutcome {
            return .json(200, OperationOutcome.information("deleted \(type)/\(id)").bytes, headers: headers)
        }
        return FHIRResponse(status: 204, headers: headers)
    }

    func deleteCore(_ tx: StoreTransaction, type: String, id: String, ifMatch: String?) throws(FHIRError) -> WriteResult {
        if let provider = providers[type] {
            let expected = try ifMatch.map { text throws(FHIRError) in try IfMatch.parse(text, type: type, labels: settings.versions) }
            return WriteResult(status: 204, stored: try provider.delete(id, ifMatch: expected, tx: tx, now: clock.now()))
        }
        guard let current = try tx.current(type, id) else {
            throw FHIRError(.notFound, "\(type)/\(id) does not exist")
        }
        if current.deleted { return WriteResult(status: 204, stored: current) }
        try checkIfMatch(ifMatch, current: current, type: type, id: id)
        let now = clock.now()
        if let hook = hooks[type], let old = current.body.flatMap({ try? JSONParser.parse($0) })?.objectValue {
            try hook.willDelete(old, id: id, tx: tx, now: now)
        }
        let version = current.version + 1
        try tx.delete(type, id, version: version, lastUpdated: now)
        return WriteResult(
            status: 204,
            stored: StoredResource(type: type, id: id, version: version, lastUpdated: now, deleted: true, method: "DELETE", body: nil))
    }
}
