import FHIRCore
import FHIRStore

extension FHIRService {
    /// `GET [base]/[type]/[id]`: the stored bytes unchanged, with `ETag` and `Last-Modified`;
    /// 304 when `If-None-Match` names the current version; 410 once deleted.
    func read(_ request: FHIRRequest, type: String, id: String) throws(FHIRError) -> FHIRResponse {
        let found: StoredResource?
        if let provider = providers[type] {
            let now = clock.now()
            found = try store.read { reader throws(FHIRError) in try provider.read(id, reader: reader, now: now) }
        } else {
            found = try store.read(type, id)
        }
        guard let stored = found else {
            throw FHIRError(.notFound, "\(type)/\(id) does not exist")
        }
        if stored.deleted {
            return FHIRResponse(
                status: 410,
                headers: [("Content-Type", FHIRResponse.fhirJSON)] + Self.versionHeaders(stored, baseURL: request.baseURL, location: false),
                body: OperationOutcome.from(FHIRError(.gone, "\(type)/\(id) was deleted (version \(stored.version))")).bytes)
        }
        let headers = Self.versionHeaders(stored, baseURL: request.baseURL, location: false)
        if let ifNoneMatch = request.headers.ifNoneMatch,
            (try? settings.versions.stored(fromLabel: VersionLabels.label(ofETag: ifNoneMatch), type: type)) == stored.version
        {
            return FHIRResponse(status: 304, headers: headers)
        }
        return .json(200, stored.body ?? [], headers: headers)
    }

    /// `GET [base]/[type]/[id]/_history/[vid]`.
    func vread(_ request: FHIRRequest, type: String, id: String, version: String) throws(FHIRError) -> FHIRResponse {
        guard let number = Int(version), number >= 1 else {
            throw FHIRError(.malformedRequest, "version '\(version)' is not a version number")
        }
        if let provider = providers[type] {
            // A provider keeps the current version only.
            let now = clock.now()
            guard let current = try store.read({ reader throws(FHIRError) in try provider.read(id, reader: reader, now: now) }) else {
                throw FHIRError(.notFound, "\(type)/\(id) does not exist")
            }
            guard current.version == number else {
                throw FHIRError(.notFound, "\(type)/\(id) keeps its current version (\(current.version)) only, not \(version)")
            }
            return .json(200, current.body ?? [], headers: Self.versionHeaders(current, baseURL: request.baseURL, location: false))
        }
        guard let stored = try store.read(type, id, version: number) else {
            throw FHIRError(.notFound, "\(type)/\(id) has no version \(version)")
        }
        if stored.deleted {
            throw FHIRError(.gone, "version \(version) of \(type)/\(id) is a deletion")
        }
        return .json(200, stored.body ?? [], headers: Self.versionHeaders(stored, baseURL: request.baseURL, location: false))
    }
}
