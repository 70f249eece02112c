import FHIRCore
import FHIRInteractions
import FHIRStore
import SandboxAuth
import SandboxSeed
import Scheduling

/// Everything about one sandbox of a profile that changes while it is used: its copy of the
/// clinic (store, search pages, admin locks), `$find` proposals and `$hold`s, the slot-horizon
/// cursor, the vendor paging contexts, and what its authorization server issued. The compiled
/// profile is shared; a second sandbox of the same profile is another `TenantState`, created from
/// the in-memory snapshot without copying it (the copy happens on its first request). Later
/// state (fault rules, the journal, subscriptions) belongs here too.
public final class TenantState: Sendable {
    public let tenant: Tenant
    /// `$find` proposals and `$hold`s.
    public let scheduling: SchedulingContext
    /// Keeps the slot table reaching the planning horizon.
    public let horizon: SlotHorizon
    /// Vendor paging contexts (context id → the engine's page).
    public let pageContexts: PagingStyle.Contexts
    /// Codes, refresh tokens, revocations.
    public let auth: AuthState
    /// The sandbox's clock (an isolated sandbox has its own; the server's default sandbox uses
    /// the server's).
    public let clock: SandboxClock

    /// `store` holds the tenant's data, or is empty and `snapshot` is copied in on first use.
    /// `fresh`: the store was just opened without a schema (`ResourceStore(schema: false)`) and
    /// is known empty. `clock`: the sandbox's clock (default: the environment's).
    public init(
        name: String, store: ResourceStore, snapshot: ResourceStore?, environment: CompileEnvironment, clock: SandboxClock? = nil,
        fresh: Bool = false
    ) throws(FHIRError) {
        let clock = clock ?? environment.clock
        self.clock = clock
        let seeded = fresh ? nil : try store.metadata("seed")
        tenant = Tenant(name: name, store: store, seedFrom: seeded == nil ? snapshot : nil)
        let seededAt =
            try (fresh ? nil : store.metadata("seededAt")).flatMap { FHIRDateTime.parse($0, form: .instant) }?.startMilliseconds(in: .utc)
            ?? clock.now()
        let seed = environment.seed
        scheduling = SchedulingContext(seed: seed, displays: environment.displays, holdMinutes: seed.holdMinutes)
        horizon = SlotHorizon(seed: seed, store: store, clock: clock, seededAt: seededAt)
        pageContexts = PagingStyle.Contexts()
        auth = AuthState()
    }

    /// Back to the seeded state: data, pages, locks, proposals, holds, paging contexts, issued
    /// codes and refresh tokens (revocations are kept).
    public func reset(from snapshot: ResourceStore) throws(FHIRError) {
        try tenant.reset(from: snapshot)
        horizon.reset()
        scheduling.reset()
        pageContexts.removeAll()
        auth.reset()
    }
}
