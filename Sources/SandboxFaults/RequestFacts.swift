/// What a fault rule or a rate limit can know about a request before it runs: where it went and
/// what it asks for, decided from its method and path (and the caller's client id once known).
public struct RequestFacts: Sendable, Equatable {
    /// What kind of endpoint answered: the vendor's FHIR bases, its proprietary API, or one of
    /// its OAuth endpoints (which empty fault matches leave alone).
    public enum Endpoint: String, Sendable, CaseIterable {
        case fhir, proprietary, token, authorize, jwks, introspect, revoke, discovery

        /// An OAuth endpoint (or SMART discovery) rather than an API call.
        public var isAuth: Bool { self != .fhir && self != .proprietary }
    }

    public var profile: String
    public var method: String
    /// The path as requested (with the sandbox prefix), without the query.
    public var path: String
    public var endpoint: Endpoint
    /// The FHIR resource type the request names, if any.
    public var resourceType: String?
    /// The FHIR interaction (`read`, `vread`, `update`, `patch`, `delete`, `history-instance`,
    /// `history-type`, `history-system`, `create`, `search-type`, `search-system`, `batch`,
    /// `capabilities`, `operation`), or for an OAuth endpoint its name (`token`, `authorize`, ...).
    public var interaction: String?
    /// The operation with its `$` (`$book`), when the request is one.
    public var operation: String?
    public var clientID: String?

    public init(
        profile: String, method: String, path: String, endpoint: Endpoint, resourceType: String? = nil, interaction: String? = nil,
        operation: String? = nil, clientID: String? = nil
    ) {
        self.profile = profile
        self.method = method
        self.path = path
        self.endpoint = endpoint
        self.resourceType = resourceType
        self.interaction = interaction ?? (endpoint.isAuth ? endpoint.rawValue : nil)
        self.operation = operation
        self.clientID = clientID
    }

    /// Whether the request may take a slot: an Appointment create, update or patch, `$book` or
    /// `$hold`, or a Slot patch (what `slot-taken` races).
    public var isBookingWrite: Bool {
        switch (resourceType, interaction) {
        case ("Appointment", "create"), ("Appointment", "update"), ("Appointment", "patch"), ("Slot", "patch"): return true
        case ("Appointment", "operation"): return operation == "$book" || operation == "$hold"
        default: return false
        }
    }

    /// The latency class of the request (`LatencyModel` keys).
    public var latencyClass: LatencyModel.Class {
        if endpoint.isAuth { return .auth }
        switch interaction {
        case "read", "vread", "capabilities": return .read
        case "search-type", "search-system", "history-instance", "history-type", "history-system": return .search
        case "operation": return .operation
        default: return .write
        }
    }
}

/// `*` (any run of characters, `/` included) and `?` (one character) over a whole string.
public enum Glob {
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        matches(Array(pattern.utf8), Array(text.utf8))
    }

    /// The same over bytes (a rule keeps its pattern's bytes; a request's path is converted once).
    public static func matches(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        pattern.withUnsafeBufferPointer { p in text.withUnsafeBufferPointer { t in matches(p, t) } }
    }

    /// The same over borrowed bytes (no copies, no reference counting).
    static func matches(_ p: UnsafeBufferPointer<UInt8>, _ t: UnsafeBufferPointer<UInt8>) -> Bool {
        var (pi, ti) = (0, 0)
        var star: (p: Int, t: Int)?
        while ti < t.count {
            if pi < p.count, p[pi] == UInt8(ascii: "?") || p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < p.count, p[pi] == UInt8(ascii: "*") {
                star = (pi, ti)
                pi += 1
            } else if let last = star {
                pi = last.p + 1
                ti = last.t + 1
                star = (last.p, last.t + 1)
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }
}

/// A deterministic draw in [0, 1) for the `index`-th event of a stream seeded with `seed`
/// (SplitMix64): the same seed gives the same sequence however often a rule is armed.
public enum SeededDraw {
    public static func unit(seed: UInt64, index: UInt64) -> Double {
        Double(bits(seed: seed, index: index) >> 11) / Double(UInt64(1) << 53)
    }

    public static func bits(seed: UInt64, index: UInt64) -> UInt64 {
        var z = seed &+ (index &+ 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
