/// One version of a resource as stored: its JSON bytes (with `meta` already set, so reads
/// serve them unchanged) and bookkeeping.
public struct StoredResource: Sendable, Equatable {
    public let type: String
    public let id: String
    public let version: Int
    /// Epoch milliseconds.
    public let lastUpdated: Int64
    /// True for a deletion marker (no body).
    public let deleted: Bool
    /// The HTTP method that produced this version (POST, PUT, PATCH, DELETE).
    public let method: String
    public let body: [UInt8]?

    public init(type: String, id: String, version: Int, lastUpdated: Int64, deleted: Bool, method: String, body: [UInt8]?) {
        self.type = type
        self.id = id
        self.version = version
        self.lastUpdated = lastUpdated
        self.deleted = deleted
        self.method = method
        self.body = body
    }
}

/// A pointer to one version of one resource.
public struct VersionKey: Sendable, Hashable {
    /// The store's row id; 0 for resources a provider serves from elsewhere (slots).
    public let rid: Int64
    public let type: String
    public let id: String
    public let version: Int

    public init(rid: Int64, type: String, id: String, version: Int) {
        self.rid = rid
        self.type = type
        self.id = id
        self.version = version
    }
}
