import FHIRCore
import Synchronization

/// Proposed appointments `$find` returned, kept briefly so `$hold` and `$book` can name them by
/// id. Ephemeral by design (every `$find` mints new ids); the oldest are dropped beyond capacity.
public final class ProposalCache: Sendable {
    private let state = Mutex<(entries: [String: JSONObject], order: [String])>(([:], []))
    public let capacity: Int

    public init(capacity: Int = 4096) { self.capacity = capacity }

    public func store(_ appointment: JSONObject, id: String) {
        state.withLock { state in
            state.entries[id] = appointment
            state.order.append(id)
            while state.order.count > capacity { state.entries[state.order.removeFirst()] = nil }
        }
    }

    public func take(_ id: String) -> JSONObject? { state.withLock { $0.entries[id] } }

    public func removeAll() { state.withLock { $0 = ([:], []) } }
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
