import FHIRCore
import FHIRStore

/// One profile's copy of the clinic: its store and its search-result pages. A value that can
/// be created from a snapshot, reset, and thrown away.
public final class Tenant: Sendable {
    public let name: String
    public let store: ResourceStore
    public let pages: PageCache

    public init(name: String, store: ResourceStore, pages: PageCache = PageCache()) {
        self.name = name
        self.store = store
        self.pages = pages
    }

    /// Back to the snapshot's content; cached pages are dropped.
    public func reset(from snapshot: ResourceStore) throws(FHIRError) {
        try store.restore(from: snapshot)
        pages.removeAll()
    }
}
