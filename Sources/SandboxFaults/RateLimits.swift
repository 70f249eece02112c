import FHIRCore
import Synchronization

/// One of a profile's rate limits (profile data): how many requests of which kinds a window
/// allows, counted per client or per base, and how the refusal looks. Windows are fixed and
/// aligned to the wall clock (a 60 s window is a clock minute), so a client over the limit is
/// refused for the rest of the window.
public struct RateLimit: Sendable, Equatable {
    /// What a limit counts.
    public enum Counted: String, Sendable, CaseIterable {
        case fhir, proprietary, token, authorize
    }

    /// Whose requests share a counter.
    public enum Key: String, Sendable, CaseIterable {
        case client, base
    }

    public var name: String
    public var requests: Int
    public var windowSeconds: Int
    public var counts: Set<Counted>
    public var per: Key
    /// The refusal's status (429 unless the profile says otherwise).
    public var status = 429
    /// Whether the refusal carries `Retry-After` (seconds to the end of the window).
    public var retryAfter: Bool
    /// The refusal's message (the dialect body carries it).
    public var message: String
    /// On unless rate limits are switched off (documented numbers), or only when switched on.
    public var enabledByDefault: Bool
    /// Where the numbers come from (a source, or an ASSUMPTION with its section).
    public var source: String

    public init(
        name: String, requests: Int, windowSeconds: Int, counts: Set<Counted>, per: Key, status: Int = 429, retryAfter: Bool,
        message: String, enabledByDefault: Bool, source: String
    ) {
        self.name = name
        self.requests = requests
        self.windowSeconds = windowSeconds
        self.counts = counts
        self.per = per
        self.status = status
        self.retryAfter = retryAfter
        self.message = message
        self.enabledByDefault = enabledByDefault
        self.source = source
    }

    /// Which kind of request `facts` is, as limits count it (nil: never counted).
    public static func counted(_ endpoint: RequestFacts.Endpoint) -> Counted? {
        switch endpoint {
        case .fhir: .fhir
        case .proprietary: .proprietary
        case .token: .token
        case .authorize: .authorize
        case .jwks, .introspect, .revoke, .discovery: nil
        }
    }
}

/// A sandbox's rate-limit counters and switch. `mode` decides which limits apply: each limit's
/// default, all of them, or none.
public final class RateLimiter: Sendable {
    public enum Mode: String, Sendable {
        /// Limits with documented numbers on, the others off.
        case defaults
        /// Every limit a profile defines.
        case on
        /// None.
        case off
    }

    /// A request over a limit.
    public struct Refusal: Sendable, Equatable {
        public let limit: String
        public let status: Int
        public let message: String
        /// Seconds to the end of the window, when the profile's answer carries `Retry-After`.
        public let retryAfter: Int?
    }

    private struct Counter {
        var window: Int64
        var count: Int
    }

    /// Each profile's limits.
    public let limits: [String: [RateLimit]]
    private let mode: Mutex<Mode>
    private let counters = Mutex<[String: Counter]>([:])
    private let enabledCache: Atomic<Bool>

    public init(limits: [String: [RateLimit]], mode: Mode) {
        self.limits = limits
        self.mode = Mutex(mode)
        enabledCache = Atomic(Self.anyApplies(limits, mode))
    }

    public var currentMode: Mode { mode.withLock { $0 } }

    /// Whether any limit applies (lock-free).
    public var isEnabled: Bool { enabledCache.load(ordering: .acquiring) }

    public func set(_ newMode: Mode) {
        mode.withLock { $0 = newMode }
        enabledCache.store(Self.anyApplies(limits, newMode), ordering: .releasing)
        counters.withLock { $0.removeAll() }
    }

    /// Starts every window afresh (a sandbox reset), keeping the mode.
    public func restartCounters() {
        counters.withLock { $0.removeAll() }
    }

    static func anyApplies(_ limits: [String: [RateLimit]], _ mode: Mode) -> Bool {
        limits.values.joined().contains { applies($0, mode) }
    }

    static func applies(_ limit: RateLimit, _ mode: Mode) -> Bool {
        switch mode {
        case .defaults: limit.enabledByDefault
        case .on: true
        case .off: false
        }
    }

    /// Counts the request against every applicable limit of its profile; the first limit it is
    /// over refuses it.
    public func admit(_ facts: RequestFacts, now: Double) -> Refusal? {
        guard enabledCache.load(ordering: .acquiring), let kind = RateLimit.counted(facts.endpoint),
            let profileLimits = limits[facts.profile]
        else { return nil }
        let mode = currentMode
        var refusal: Refusal?
        for limit in profileLimits where Self.applies(limit, mode) && limit.counts.contains(kind) {
            let window = Int64(now) / Int64(limit.windowSeconds)
            let key = "\(facts.profile)|\(limit.name)|\(limit.per == .client ? facts.clientID ?? "-" : "")"
            let count = counters.withLock { counters in
                var counter = counters[key] ?? Counter(window: window, count: 0)
                if counter.window != window { counter = Counter(window: window, count: 0) }
                counter.count += 1
                counters[key] = counter
                return counter.count
            }
            if count > limit.requests, refusal == nil {
                let end = Double((window + 1) * Int64(limit.windowSeconds))
                refusal = Refusal(
                    limit: limit.name, status: limit.status, message: limit.message,
                    retryAfter: limit.retryAfter ? max(1, Int((end - now).rounded(.up))) : nil)
            }
        }
        return refusal
    }

    /// Each profile's limits, whether they apply, and their counters in the current window.
    public func json(now: Double) -> JSONObject {
        let mode = currentMode
        let counters = counters.withLock { $0 }
        var profiles = JSONObject()
        for (profile, profileLimits) in limits.sorted(by: { $0.key < $1.key }) {
            profiles[profile] = .array(
                profileLimits.map { limit in
                    let window = Int64(now) / Int64(limit.windowSeconds)
                    var current = JSONObject()
                    for (key, counter) in counters.sorted(by: { $0.key < $1.key })
                    where key.hasPrefix("\(profile)|\(limit.name)|") && counter.window == window {
                        let owner = String(key.dropFirst("\(profile)|\(limit.name)|".count))
                        current[owner.isEmpty ? "base" : owner] = .int(counter.count)
                    }
                    var object = limit.json
                    object["enabled"] = .bool(Self.applies(limit, mode))
                    object["windowEndsAt"] = .string(InstantFormat.iso((window + 1) * Int64(limit.windowSeconds) * 1000))
                    object["counters"] = .object(current)
                    return .object(object)
                })
        }
        return JSONObject(["mode": .string(mode.rawValue), "enabled": .bool(mode != .off), "profiles": .object(profiles)])
    }
}

extension RateLimit {
    public var json: JSONObject {
        JSONObject([
            "name": .string(name), "requests": .int(requests), "windowSeconds": .int(windowSeconds),
            "counts": .array(RateLimit.Counted.allCases.filter(counts.contains).map { .string($0.rawValue) }),
            "per": .string(per.rawValue), "status": .int(status), "retryAfter": .bool(retryAfter), "message": .string(message),
            "enabledByDefault": .bool(enabledByDefault), "source": .string(source),
        ])
    }
}

/// A profile's response times (profile data), applied when a sandbox's latency mode is
/// `profile`: a uniform wait per class of request.
public struct LatencyModel: Sendable, Equatable {
    public enum Class: String, Sendable, CaseIterable {
        case read, search, write, operation, auth
    }

    public struct Range: Sendable, Equatable {
        public var minMs: Int
        public var maxMs: Int
        public init(minMs: Int, maxMs: Int) {
            self.minMs = minMs
            self.maxMs = maxMs
        }
    }

    public var ranges: [Class: Range]
    public var source: String

    public init(ranges: [Class: Range], source: String) {
        self.ranges = ranges
        self.source = source
    }

    /// The wait for the `index`-th request of `kind` drawn from `seed`, in milliseconds.
    public func milliseconds(_ kind: Class, seed: UInt64, index: UInt64) -> Int {
        guard let range = ranges[kind], range.maxMs > 0 else { return 0 }
        return range.minMs + Int(SeededDraw.bits(seed: seed, index: index) % UInt64(range.maxMs - range.minMs + 1))
    }

    public var json: JSONObject {
        var object = JSONObject()
        for kind in Class.allCases {
            if let range = ranges[kind] {
                object[kind.rawValue] = .object(JSONObject(["minMs": .int(range.minMs), "maxMs": .int(range.maxMs)]))
            }
        }
        return JSONObject(["classes": .object(object), "source": .string(source)])
    }
}

/// A sandbox's latency switch and its draw counter.
public final class LatencySwitch: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        case off, profile
    }

    private let state: Mutex<(mode: Mode, draws: UInt64)>
    private let on: Atomic<Bool>
    let seed: UInt64

    public init(mode: Mode, seed: UInt64 = 0x1A7E_0C1) {
        state = Mutex((mode, 0))
        on = Atomic(mode == .profile)
        self.seed = seed
    }

    public var mode: Mode { state.withLock { $0.mode } }

    /// Whether the mode is off (lock-free).
    public var isOff: Bool { !on.load(ordering: .acquiring) }

    public func set(_ mode: Mode) {
        state.withLock { $0.mode = mode }
        on.store(mode == .profile, ordering: .releasing)
    }

    /// The wait `model` gives this request (0 when the mode is off).
    public func delay(_ model: LatencyModel?, _ kind: LatencyModel.Class) -> Int {
        guard let model, on.load(ordering: .acquiring) else { return 0 }
        let index: UInt64? = state.withLock { state in
            guard state.mode == .profile else { return nil }
            defer { state.draws += 1 }
            return state.draws
        }
        return index.map { model.milliseconds(kind, seed: seed, index: $0) } ?? 0
    }
}
