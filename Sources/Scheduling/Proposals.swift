import FHIRCore
import FHIRInteractions
import Synchronization

/// Proposed appointments `$find` returned, kept briefly so `$hold` and `$book` can name them by
/// id. Ephemeral by design (every `$find` mints new ids); the oldest are dropped beyond capacity.
public final class ProposalCache: Sendable {
    private let cache: BoundedCache<JSONObject>

    public init(capacity: Int = 4096) { cache = BoundedCache(capacity: capacity) }

    public func store(_ appointment: JSONObject, id: String) { cache.store(appointment, for: id) }

    public func take(_ id: String) -> JSONObject? { cache.value(for: id) }

    public func removeAll() { cache.removeAll() }
}

/// Active holds by appointment id, each a `Hold` state machine in sandbox time.
public final class HoldRegistry: Sendable {
    private let holds = Mutex<[String: Hold]>([:])

    public init() {}

    public func add(_ hold: Hold, appointment id: String) { holds.withLock { $0[id] = hold } }

    /// Feeds an event to a hold; nil when the appointment has no hold.
    public func event(_ event: Hold.Event, appointment id: String) -> Hold.Action? {
        holds.withLock { holds in
            guard var hold = holds[id] else { return nil }
            let action = hold.event(event)
            holds[id] = hold.state == .held ? hold : nil
            return action
        }
    }

    /// Appointment ids whose holds lapse at `now` (they are removed).
    public func expired(at now: Int64) -> [String] {
        holds.withLock { holds in
            var lapsed: [String] = []
            for (id, var hold) in holds where hold.event(.tick(now: now)) != .none {
                lapsed.append(id)
                holds[id] = nil
            }
            return lapsed.sorted()
        }
    }

    public func removeAll() { holds.withLock { $0 = [:] } }
}
