import FHIRCore
import FHIRStore

/// Search results kept for paging: the exact versions that matched when the search ran, so
/// `next`/`previous` pages stay stable while other clients write. Least recently used
/// result sets are dropped beyond `capacity`.
public final class PageCache: Sendable {
    public struct Entry: Sendable {
        public let keys: [VersionKey]
        /// The query string of the applied parameters (for links).
        public let query: String
        public let includes: [IncludeRequest]
        public let revIncludes: [IncludeRequest]
        public let warnings: [FHIRError.Issue]
        /// The search's `_count` (continuation links may not repeat it).
        public var count: Int?
    }

    public struct IncludeRequest: Sendable {
        public let sourceType: String
        public let parameter: String
        public let targetType: String?
    }

    private let cache: BoundedCache<Entry>

    public init(capacity: Int = 256) { cache = BoundedCache(capacity: capacity) }

    public func store(_ entry: Entry, token: String) { cache.store(entry, for: token) }

    public func entry(_ token: String) -> Entry? { cache.value(for: token) }

    public func removeAll() { cache.removeAll() }
}
