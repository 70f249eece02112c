import FHIRCore
import FHIRInteractions
import FHIRStore
import SandboxSeed
import Synchronization

/// Keeps the slot table reaching the planning horizon as the sandbox clock moves: before a
/// request, slots for any days between the last generated day and clock + horizon are added
/// (free). A request step, so it runs on every profile's pipeline.
public final class SlotHorizon: FHIRRequestStep {
    let renderer: ClinicRenderer
    let store: ResourceStore
    let clock: SandboxClock
    /// When the tenant was seeded: vacations count from that day.
    let seededAt: Int64
    /// The first local day not yet generated.
    private let nextDay: Mutex<Int?>

    public init(seed: Seed, store: ResourceStore, clock: SandboxClock, seededAt: Int64) {
        renderer = ClinicRenderer(seed: seed)
        self.store = store
        self.clock = clock
        self.seededAt = seededAt
        nextDay = Mutex(nil)
    }

    /// Forgets what was generated (after a reset the table is the seeded one again).
    public func reset() { nextDay.withLock { $0 = nil } }

    public func check(_ request: FHIRRequest) -> FHIRResponse? {
        do {
            try extend()
            return nil
        } catch {
            return .error(error)
        }
    }

    public func extend() throws(FHIRError) {
        let seed = renderer.seed
        let now = clock.now()
        let clockDay = seed.localDay(now)
        let wanted = clockDay + seed.planningHorizonDays
        if let next = nextDay.withLock({ $0 }), next >= wanted { return }
        try store.write { tx throws(FHIRError) in
            let first = try tx.lastSlotStart().map { seed.localDay($0) + 1 } ?? clockDay
            let from = max(first, clockDay)
            try tx.insertSlots(renderer.slots(fromDay: from, throughDay: wanted, clockDay: seed.localDay(seededAt), at: now))
        }
        nextDay.withLock { $0 = wanted }
    }
}
