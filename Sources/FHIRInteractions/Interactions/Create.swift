import FHIRCore
import FHIRSearch
import FHIRStore

/// The result of one write inside a transaction.
struct WriteResult: Sendable {
    /// 200 (updated, or conditional create matched), 201 (created) or 204 (deleted).
    let status: Int
    let stored: StoredResource
}

extension FHIRService {
    /// `POST [base]/[type]`: server-assigned id; conditional with `If-None-Exist`.
    func create(_ request: FHIRRequest, type: String) throws(FHIRError) -> FHIRResponse {
        let resource = try resource(from: request.body, type: type, contentType: request.headers.contentType)
        let ifNoneExist = request.headers.ifNoneExist
        let result = try store.write { tx throws(FHIRError) in
            try createCore(tx, type: type, resource: resource, ifNoneExist: ifNoneExist, id: nil, method: "POST")
        }
        return Self.writeResponse(
            status: result.status, stored: result.stored, prefer: request.headers.prefer, baseURL: request.baseURL,
            location: result.status == 201)
    }

    /// Creates `resource` (already validated) unless `ifNoneExist` matches something.
    func createCore(
        _ tx: StoreTransaction, type: String, resource: JSONObject, ifNoneExist: String?, id: String?, method: String
    ) throws(FHIRError) -> WriteResult {
        if let ifNoneExist {
            let matches = try conditionalMatches(tx, type: type, criteria: ifNoneExist, header: "If-None-Exist")
            if matches.count == 1, let existing = try tx.current(type, matches[0].id) {
                return WriteResult(status: 200, stored: existing)
            }
            if matches.count > 1 {
                throw FHIRError(
                    .tooManyMatches, "If-None-Exist '\(ifNoneExist)' matches \(matches.count) \(type) resources; it must match at most one")
            }
        }
        if let provider = providers[type] {
            let written = try provider.put(resource, id: id ?? random.uuid(), ifMatch: nil, tx: tx, now: clock.now())
            return WriteResult(status: 201, stored: written.stored)
        }
        let newID = id ?? random.uuid()
        var stored = resource
        if let hook = hooks[type] { stored = try hook.willStore(resource, old: nil, id: newID, tx: tx, now: clock.now()) }
        let result = try storeVersion(tx, type: type, id: newID, resource: stored, version: 1, method: method, status: 201)
        if let hook = hooks[type] { try hook.didCreate(stored, id: newID, writer: FHIRWriter(service: self, tx: tx, access: nil)) }
        return result
    }

    /// Runs conditional search criteria (`identifier=x|y`) strictly: unknown parameters are errors.
    func conditionalMatches(_ tx: StoreTransaction, type: String, criteria: String, header: String) throws(FHIRError) -> [VersionKey] {
        let parameters = QueryString.parse(criteria.hasPrefix("?") ? String(criteria.dropFirst()) : criteria)
        guard !parameters.isEmpty else { throw FHIRError(.malformedRequest, "\(header) must carry search parameters") }
        let query = try searchParser().parse(type: type, parameters: parameters, strict: true, now: clock.now())
        return try tx.search(query)
    }

    /// Stamps and stores one version.
    func storeVersion(
        _ tx: StoreTransaction, type: String, id: String, resource: JSONObject, version: Int, method: String, status: Int
    ) throws(FHIRError) -> WriteResult {
        let now = clock.now()
        let stamped = Self.stamp(resource, id: id, version: version, lastUpdated: now)
        let json = JSON.object(stamped)
        let body = json.bytes
        try tx.put(type, id, version: version, lastUpdated: now, method: method, resource: json, body: body)
        let stored = StoredResource(type: type, id: id, version: version, lastUpdated: now, deleted: false, method: method, body: body)
        return WriteResult(status: status, stored: stored)
    }
}
