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
        /// What requests are checked against, rebuilt when rules change.
        var screen = Screen(rules: [])

        mutating func compile() { screen = Screen(rules: rules.map(\.status)) }
        var next = 1
        /// The outage in progress: its rule, when it ends.
        var outage: (id: String, until: Double, action: FaultAction)?
    }

    /// Most rules a sandbox holds at once.
    public static let capacity = 1000

    private let state = Mutex(State())
    /// Whether any rule is armed or an outage runs: lets a request skip the lock when none is.
    private let active = Atomic<Bool>(false)
    /// Whether an outage may be running (then every request takes the lock to see).
    private let outageRunning = Atomic<Bool>(false)

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
            state.compile()
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
            state.compile()
            if state.outage?.id == id {
                state.outage = nil
                outageRunning.store(false, ordering: .releasing)
            }
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
            state.compile()
            state.outage = nil
            outageRunning.store(false, ordering: .releasing)
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
        var path: [UInt8]?
        // Which rules may match, decided outside the lock (requests on both cores screen at
        // once); only those are counted under it.
        let screen = state.withLock { $0.screen }
        let candidates = screen.candidates(facts)
        if candidates.isEmpty, !outageRunning.load(ordering: .acquiring) { return nil }
        return state.withLock { state -> Fired? in
            if let outage = state.outage {
                if now < outage.until {
                    return Fired(
                        ruleID: outage.id, action: outage.action, milliseconds: 0, remainingSeconds: Int((outage.until - now).rounded(.up)))
                }
                state.outage = nil
                outageRunning.store(false, ordering: .releasing)
            }
            for id in candidates {
                // The rule may have been disarmed since the screen was taken.
                guard let index = state.rules.firstIndex(where: { $0.status.id == id }),
                    state.rules[index].status.rule.match.matches(facts, pathBytes: &path)
                else { continue }
                if let fired = hit(&state, index, facts, now) { return fired }
            }
            return nil
        }
    }

    /// A matching rule: counts the match and, when it fires, the hit.
    private func hit(_ state: inout State, _ index: Int, _ facts: RequestFacts, _ now: Double) -> Fired? {
        let status = state.rules[index].status
        guard !status.spent(at: now) else { return nil }
        // A slot can only be raced on a request that books one.
        if status.rule.action == .slotTaken, !facts.isBookingWrite { return nil }
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
                outageRunning.store(true, ordering: .releasing)
                remaining = seconds
            default: break
            }
        }
        state.rules[index].status = Status(
            id: status.id, rule: status.rule, armedAt: status.armedAt, matches: matches, hits: status.hits + (fires ? 1 : 0),
            outageUntil: outageUntil)
        guard fires else { return nil }
        return Fired(ruleID: status.id, action: status.rule.action, milliseconds: milliseconds, remainingSeconds: remaining)
    }
}

/// The armed rules' matches as plain data (immutable; shared by reference): checking a request
/// against a rule that does not match it touches no reference count and takes no lock. Two
/// cores retaining the same strings for every rule, under one lock, cost a third of a read's
/// throughput with 100 rules.
final class Screen: Sendable {
    let ids: [String]
    let prefilters: [Prefilter]
    /// Every rule's path glob, back to back (`Prefilter.path` is a range of it).
    let patterns: [UInt8]

    init(rules: [FaultBook.Status]) {
        var prefilters: [Prefilter] = []
        var patterns: [UInt8] = []
        for status in rules {
            var prefilter = Prefilter(status.rule.match)
            if let path = status.rule.match.path {
                prefilter.path = patterns.count..<(patterns.count + path.utf8.count)
                patterns += path.utf8
                prefilter.literals = ByteSet(path.utf8.filter { $0 != UInt8(ascii: "*") && $0 != UInt8(ascii: "?") })
            }
            prefilters.append(prefilter)
        }
        ids = rules.map(\.id)
        self.prefilters = prefilters
        self.patterns = patterns
    }

    /// The ids of the rules that may match `facts` (in arming order).
    func candidates(_ facts: RequestFacts) -> [String] {
        guard !prefilters.isEmpty else { return [] }
        let request = Prefilter(facts)
        var found: [String] = []
        // The path's bytes only when some rule has a glob.
        var text = patterns.isEmpty ? [] : Array(facts.path.utf8)
        let present = ByteSet(text)
        patterns.withUnsafeBufferPointer { patterns in
            text.withUnsafeMutableBufferPointer { text in
                let path = UnsafeBufferPointer(text)
                for index in prefilters.indices {
                    let prefilter = prefilters[index]
                    guard prefilter.admits(request) else { continue }
                    if let range = prefilter.path {
                        // A glob's literal bytes must all occur in the path (most misses end here).
                        guard prefilter.literals.isSubset(of: present),
                            Glob.matches(UnsafeBufferPointer(rebasing: patterns[range]), path)
                        else { continue }
                    }
                    found.append(ids[index])
                }
            }
        }
        return found
    }
}

/// A rule's match fields (or a request's facts) as 64-bit hashes, 0 for "any": a rule whose
/// hashes differ from the request's cannot match it; one whose hashes agree is then checked
/// field by field (`FaultMatch.matches`), so a collision costs a comparison, never a wrong hit.
struct Prefilter {
    var profile: UInt64
    var method: UInt64
    var resourceType: UInt64
    var interaction: UInt64
    var operation: UInt64
    var clientID: UInt64
    /// Where the rule's path glob is in `State.patterns` (nil: no path).
    var path: Range<Int>?
    /// The glob's literal bytes.
    var literals = ByteSet([])

    init(_ match: FaultMatch) {
        self.init((match.profile, match.method, match.resourceType, match.interaction, match.operation, match.clientID))
    }

    init(_ facts: RequestFacts) {
        self.init((facts.profile, facts.method, facts.resourceType, facts.interaction, facts.operation, facts.clientID))
    }

    /// From profile, method, resource type, interaction, operation and client, in that order.
    private init(_ fields: (String?, String?, String?, String?, String?, String?)) {
        (profile, method, resourceType, interaction, operation, clientID) = (
            Self.hash(fields.0), Self.hash(fields.1), Self.hash(fields.2), Self.hash(fields.3), Self.hash(fields.4), Self.hash(fields.5)
        )
    }

    /// Whether a rule with these hashes may match a request with `request`'s.
    func admits(_ request: Prefilter) -> Bool {
        (profile == 0 || profile == request.profile) && (method == 0 || method == request.method)
            && (resourceType == 0 || resourceType == request.resourceType) && (interaction == 0 || interaction == request.interaction)
            && (operation == 0 || operation == request.operation) && (clientID == 0 || clientID == request.clientID)
    }

    /// FNV-1a over the UTF-8 bytes, never 0 for a present value.
    static func hash(_ text: String?) -> UInt64 {
        guard let text else { return 0 }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return hash | 1
    }
}

/// A set of bytes as 256 bits.
struct ByteSet {
    var bits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            let bit = UInt64(1) << UInt64(byte & 63)
            switch byte >> 6 {
            case 0: bits.0 |= bit
            case 1: bits.1 |= bit
            case 2: bits.2 |= bit
            default: bits.3 |= bit
            }
        }
    }

    func isSubset(of other: ByteSet) -> Bool {
        bits.0 & ~other.bits.0 == 0 && bits.1 & ~other.bits.1 == 0 && bits.2 & ~other.bits.2 == 0 && bits.3 & ~other.bits.3 == 0
    }
}
