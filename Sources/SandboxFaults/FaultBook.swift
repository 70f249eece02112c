import FHIRCore
import Synchronization

/// A sandbox's armed fault rules, their counters, and the outage one of them may have started.
/// `decide` is the one question the server asks per request: which rule, if any, fires. Times
/// are wall-clock seconds (`Double`), given by the caller.
public final class FaultBook: Sendable {
    /// A rule as listed: the rule, its counters and whether it can still fire.
    public struct Status: Sendable {
        public let id: String
        public let rule: FaultRule
        public let armedAt: Double
        public let matches: Int
        public let hits: Int
        /// When an outage this rule started ends.
        public let outageUntil: Double?

        public func spent(at now: Double) -> Bool {
            if let seconds = rule.expiresAfterSeconds, now >= armedAt + Double(seconds) { return true }
            if case .outage = rule.action { return hits > 0 && (outageUntil ?? 0) <= now }
            if let times = rule.times { return hits >= times }
            return false
        }

        public func json(at now: Double) -> JSONObject {
            var object = rule.json
            object["id"] = .string(id)
            object["hits"] = .int(hits)
            object["matches"] = .int(matches)
            object["spent"] = .bool(spent(at: now))
            object["armedAt"] = .string(InstantFormat.iso(Int64(armedAt * 1000)))
            if let seconds = rule.expiresAfterSeconds {
                object["expiresAt"] = .string(InstantFormat.iso(Int64((armedAt + Double(seconds)) * 1000)))
            }
            if let outageUntil { object["outageUntil"] = .string(InstantFormat.iso(Int64(outageUntil * 1000))) }
            return object
        }
    }

    /// A rule that fired for a request.
    public struct Fired: Sendable, Equatable {
        public let ruleID: String
        public let action: FaultAction
        /// For a latency rule: the wait drawn for this request.
        public let milliseconds: Int
        /// For an outage: seconds until it ends (for a `Retry-After` the rule did not fix).
        public let remainingSeconds: Int?
    }

    private struct Armed {
        var status: Status
        var draws: UInt64 = 0
    }

    private struct State {
        var rules: [Armed] = []
        var next = 1
        /// The outage in progress: its rule, when it ends.
        var outage: (id: String, until: Double, action: FaultAction)?
    }

    /// Most rules a sandbox holds at once.
    public static let capacity = 1000

    private let state = Mutex(State())
    /// Whether any rule is armed or an outage runs: lets a request skip the lock when none is.
    private let active = Atomic<Bool>(false)

    public init() {}

    /// Whether a rule is armed or an outage runs (lock-free).
    public var isActive: Bool { active.load(ordering: .acquiring) }

    /// Arms `rule`; nil when the sandbox already holds `capacity` rules.
    public func arm(_ rule: FaultRule, now: Double) -> Status? {
        state.withLock { state in
            guard state.rules.count < Self.capacity else { return nil }
            let status = Status(id: "fault-\(state.next)", rule: rule, armedAt: now, matches: 0, hits: 0, outageUntil: nil)
            state.next += 1
            state.rules.append(Armed(status: status))
            active.store(true, ordering: .releasing)
            return status
        }
    }

    public var all: [Status] { state.withLock { $0.rules.map(\.status) } }

    public func rule(id: String) -> Status? { state.withLock { $0.rules.first { $0.status.id == id }?.status } }

    /// Disarms one rule (ending its outage); returns it as it was.
    public func disarm(id: String) -> Status? {
        state.withLock { state in
            guard let index = state.rules.firstIndex(where: { $0.status.id == id }) else { return nil }
            let removed = state.rules.remove(at: index).status
            if state.outage?.id == id { state.outage = nil }
            refreshActive(state)
            return removed
        }
    }

    /// Disarms every rule and ends any outage; returns how many rules there were.
    @discardableResult
    public func disarmAll() -> Int {
        state.withLock { state in
            let count = state.rules.count
            state.rules.removeAll()
            state.outage = nil
            refreshActive(state)
            return count
        }
    }

    private func refreshActive(_ state: State) {
        active.store(!state.rules.isEmpty || state.outage != nil, ordering: .releasing)
    }

    /// The rule that fires for `facts` at `now`, counting the match and the hit; an outage in
    /// progress answers every request. Rules are tried in the order they were armed.
    public func decide(_ facts: RequestFacts, now: Double) -> Fired? {
        guard active.load(ordering: .acquiring) else { return nil }
        return state.withLock { state -> Fired? in
            if let outage = state.outage {
                if now < outage.until {
                    return Fired(
                        ruleID: outage.id, action: outage.action, milliseconds: 0, remainingSeconds: Int((outage.until - now).rounded(.up)))
                }
                state.outage = nil
            }
            for index in state.rules.indices {
                let status = state.rules[index].status
                guard status.rule.match.matches(facts), !status.spent(at: now) else { continue }
                // A slot can only be raced on a request that books one.
                if status.rule.action == .slotTaken, !facts.isBookingWrite { continue }
                let matches = status.matches + 1
                var fires = matches > status.rule.after
                if fires, status.rule.probability < 1 {
                    let draw = SeededDraw.unit(seed: status.rule.seed, index: UInt64(matches - status.rule.after - 1))
                    fires = draw < status.rule.probability
                }
                var outageUntil = status.outageUntil
                var milliseconds = 0
                var remaining: Int?
                if fires {
                    switch status.rule.action {
                    case .latency(let minMs, let maxMs):
                        let draw = SeededDraw.bits(seed: status.rule.seed ^ 0x5EED, index: state.rules[index].draws)
                        state.rules[index].draws += 1
                        milliseconds = minMs + Int(draw % UInt64(maxMs - minMs + 1))
                    case .outage(let seconds, _):
                        outageUntil = now + Double(seconds)
                        state.outage = (status.id, now + Double(seconds), status.rule.action)
                        remaining = seconds
                    default: break
                    }
                }
                state.rules[index].status = Status(
                    id: status.id, rule: status.rule, armedAt: status.armedAt, matches: matches, hits: status.hits + (fires ? 1 : 0),
                    outageUntil: outageUntil)
                if fires {
                    return Fired(ruleID: status.id, action: status.rule.action, milliseconds: milliseconds, remainingSeconds: remaining)
                }
            }
            return nil
        }
    }
}
