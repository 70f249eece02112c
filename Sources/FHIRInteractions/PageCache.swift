import FHIRCore
import FHIRStore
import Synchronization

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
    }

    public struct IncludeRequest: Sendable {
        public let sourceType: String
        public let parameter: String
        public let targetType: String?
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var order: [String] = []
    }

    private let state = Mutex(State())
    public let capacity: Int

    public init(capacity: Int = 256) { self.capacity = capacity }

    public func store(_ entry: Entry, token: String) {
        state.withLock { state in
            state.entries[token] = entry
            state.order.append(token)
            while state.order.count > capacity {
                state.entries[state.order.removeFirst()] = nil
            }
        }
    }

    public func entry(_ token: String) -> Entry? {
        state.withLock { state in
            guard let entry = state.entries[token] else { return nil }
            if let index = state.order.firstIndex(of: token) {
                state.order.remove(at: index)
                state.order.append(token)
            }
            return entry
        }
    }

    public func removeAll() {
        state.withLock { state in state = State() }
    }
}
