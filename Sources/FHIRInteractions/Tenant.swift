import FHIRCore
import FHIRStore
import Synchronization

/// One profile's copy of the clinic: its store and its search-result pages. A value that can
/// be created from a snapshot, reset, and thrown away.
public final class Tenant: Sendable {
    public let name: String
    public let store: ResourceStore
    public let pages: PageCache
    /// Resources "being modified by someone else" until an instant of sandbox time.
    public let locks = ResourceLocks()

    public init(name: String, store: ResourceStore, pages: PageCache = PageCache()) {
        self.name = name
        self.store = store
        self.pages = pages
    }

    /// Back to the snapshot's content; cached pages and locks are dropped.
    public func reset(from snapshot: ResourceStore) throws(FHIRError) {
        try store.restore(from: snapshot)
        pages.removeAll()
        locks.removeAll()
    }
}

/// Locks set through the admin API: writes to a locked resource answer `locked` (423) until
/// the lock lapses in sandbox time — another user editing the record, on demand.
public final class ResourceLocks: Sendable {
    private let state = Mutex<[String: Int64]>([:])

    public init() {}

    public func lock(_ type: String, _ id: String, until: Int64) { state.withLock { $0["\(type)/\(id)"] = until } }

    public func unlock(_ type: String, _ id: String) { state.withLock { $0["\(type)/\(id)"] = nil } }

    /// The instant the lock lapses, if `type/id` is locked at `now`.
    public func lockedUntil(_ type: String, _ id: String, now: Int64) -> Int64? {
        state.withLock { locks in
            guard let until = locks["\(type)/\(id)"] else { return nil }
            if until <= now {
                locks["\(type)/\(id)"] = nil
                return nil
            }
            return until
        }
    }

    /// Every lock still in force at `now`: (Type/id, until).
    public func all(now: Int64) -> [(key: String, until: Int64)] {
        state.withLock { locks in locks.filter { $0.value > now }.map { ($0.key, $0.value) }.sorted { $0.key < $1.key } }
    }

    public func removeAll() { state.withLock { $0.removeAll() } }
}
