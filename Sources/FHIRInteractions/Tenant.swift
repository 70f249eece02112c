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

    /// The snapshot still to be copied in on first use (nil: the store holds the tenant's data).
    private let pendingSeed: Mutex<ResourceStore?>

    /// `seedFrom`: a snapshot copied into the store on the tenant's first request rather than
    /// now, so a mounted profile nobody calls costs no copy (start-up and memory).
    public init(name: String, store: ResourceStore, pages: PageCache = PageCache(), seedFrom snapshot: ResourceStore? = nil) {
        self.name = name
        self.store = store
        self.pages = pages
        pendingSeed = Mutex(snapshot)
    }

    /// Whether the snapshot is still to be copied in (the store holds nothing yet).
    public var awaitsSeed: Bool { pendingSeed.withLock { $0 != nil } }

    /// Copies the pending snapshot in (once; concurrent first requests wait for it).
    public func seedIfNeeded() throws(FHIRError) {
        try pendingSeed.withLock { (pending: inout ResourceStore?) throws(FHIRError) in
            guard let snapshot = pending else { return }
            try store.restore(from: snapshot)
            pending = nil
        }
    }

    /// Back to the snapshot's content; cached pages and locks are dropped. A tenant not seeded
    /// yet stays that way (its first request copies the snapshot).
    public func reset(from snapshot: ResourceStore) throws(FHIRError) {
        try pendingSeed.withLock { (pending: inout ResourceStore?) throws(FHIRError) in
            if pending == nil { try store.restore(from: snapshot) }
        }
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
