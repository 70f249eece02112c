import FHIRCore
import FHIRSearch
import FHIRStore

/// Serves a resource type that is not stored as generic versioned JSON (Slots: compact rows
/// rendered on read). The service asks it for reads, searches, bodies and includes; its
/// `interactions` are what the CapabilityStatement lists and the router allows.
public protocol ResourceProvider: Sendable {
    /// CapabilityStatement interaction codes for the type (e.g. read, search-type).
    var interactions: [String] { get }
    func read(_ id: String, reader: StoreReader, now: Int64) throws(FHIRError) -> StoredResource?
    /// Matches in result order.
    func search(_ query: SearchQuery, reader: StoreReader, now: Int64) throws(FHIRError) -> [VersionKey]
    func bodies(_ keys: [VersionKey], reader: StoreReader, now: Int64) throws(FHIRError) -> [(VersionKey, [UInt8])]
    /// Keys for these ids (for `_include` into the type).
    func keys(_ ids: [String], reader: StoreReader) throws(FHIRError) -> [VersionKey]
    /// `_include` from the type's resources through `parameter`.
    func included(from keys: [VersionKey], parameter: String, targetType: String?, reader: StoreReader) throws(FHIRError) -> [VersionKey]
    /// `PATCH` (when `interactions` lists it): applies `operations` to `id` inside the write
    /// transaction, once `ifMatch` (when given) holds against the current version.
    func patch(_ id: String, operations: [JSONPatch.Operation], ifMatch: IfMatch?, tx: StoreTransaction, now: Int64) throws(FHIRError)
        -> StoredResource
    /// Create, update (`id` given: created when absent) and delete, when `interactions` lists them;
    /// inside the write transaction, the resource already validated.
    func put(_ resource: JSONObject, id: String?, ifMatch: IfMatch?, tx: StoreTransaction, now: Int64) throws(FHIRError)
        -> (stored: StoredResource, created: Bool)
    func delete(_ id: String, ifMatch: IfMatch?, tx: StoreTransaction, now: Int64) throws(FHIRError) -> StoredResource
}

extension ResourceProvider {
    public func patch(
        _ id: String, operations: [JSONPatch.Operation], ifMatch: IfMatch?, tx: StoreTransaction, now: Int64
    ) throws(FHIRError) -> StoredResource {
        throw FHIRError(.methodNotAllowed, "PATCH is not offered for this type")
    }

    public func put(
        _ resource: JSONObject, id: String?, ifMatch: IfMatch?, tx: StoreTransaction, now: Int64
    ) throws(FHIRError) -> (stored: StoredResource, created: Bool) {
        throw FHIRError(.methodNotAllowed, "writes are not offered for this type")
    }

    public func delete(_ id: String, ifMatch: IfMatch?, tx: StoreTransaction, now: Int64) throws(FHIRError) -> StoredResource {
        throw FHIRError(.methodNotAllowed, "DELETE is not offered for this type")
    }
}

/// Runs inside the write transaction, before a version of its type is stored or deleted:
/// where booking rules and slot changes happen, atomically with the write.
public protocol WriteHook: Sendable {
    /// `old` is the current live version, nil for a create. Returns the resource to store.
    func willStore(_ resource: JSONObject, old: JSONObject?, id: String, tx: StoreTransaction, now: Int64) throws(FHIRError) -> JSONObject
    func willDelete(_ old: JSONObject, id: String, tx: StoreTransaction, now: Int64) throws(FHIRError)
    /// After a create of its type is stored, in the same transaction: writes that follow from it
    /// (an eligibility request's response) go through `writer`.
    func didCreate(_ resource: JSONObject, id: String, writer: FHIRWriter) throws(FHIRError)
}

extension WriteHook {
    public func didCreate(_ resource: JSONObject, id: String, writer: FHIRWriter) throws(FHIRError) {}
}
