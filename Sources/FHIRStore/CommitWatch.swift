import FHIRCore
import FHIRSearch

/// One new version (or deletion) a transaction committed, with the watchers it matched.
public struct StoreChange: Sendable {
    public let type: String
    public let id: String
    public let version: Int
    public let deleted: Bool
    public let lastUpdated: Int64
    /// The version's bytes (nil for a deletion).
    public let body: [UInt8]?
    /// What the watches' `match` answered for this version (e.g. subscription ids), together.
    public let matched: [String]
}

/// Watches a store's commits: a change feed's source. `match` runs inside the transaction for
/// each new version (after its indexes are written; for a deletion, before they are cleared, so
/// the last live version is what matches), with a probe over the transaction's state (does this
/// resource match a query: cheap whatever the store holds);
/// `committed` runs once the transaction has committed, still under the store lock, so calls
/// come in commit order. Both must be quick and must not use the store.
public struct CommitWatch: Sendable {
    /// Whether the resource being written matches `query` (its clauses; the type is the query's).
    public typealias Search = (SearchQuery) throws(FHIRError) -> Bool

    public let match: @Sendable (_ type: String, _ id: String, _ search: Search) -> [String]
    public let committed: @Sendable ([StoreChange]) -> Void

    public init(
        match: @escaping @Sendable (_ type: String, _ id: String, _ search: Search) -> [String],
        committed: @escaping @Sendable ([StoreChange]) -> Void
    ) {
        self.match = match
        self.committed = committed
    }
}

/// The changes one transaction made, collected for the store's watches.
final class ChangeCollector {
    let watches: [CommitWatch]
    var changes: [StoreChange] = []

    init(watches: [CommitWatch]) { self.watches = watches }
}
