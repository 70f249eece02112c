import FHIRCore

/// A bad rule: which field, and why (the admin API answers 400 naming it).
public struct FaultRuleError: Error, Sendable, CustomStringConvertible {
    public let field: String
    public let message: String
    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }
    public var description: String { "\(field): \(message)" }
}

/// Which requests a rule hits. Every field is optional; an empty match hits every API request of
/// the sandbox's vendor bases, and OAuth endpoints only when `interaction` names one (`token`,
/// `authorize`, `jwks`, `introspect`, `revoke`) or `path` is given and matches.
public struct FaultMatch: Sendable, Equatable {
    public var profile: String?
    /// Upper-case.
    public var method: String? {
        didSet { if let method, method != method.uppercased() { self.method = method.uppercased() } }
    }
    /// A glob (`*`, `?`) over the request path.
    public var path: String? {
        didSet { pathPattern = path.map { Array($0.utf8) } }
    }
    public var resourceType: String?
    public var interaction: String?
    /// With its `$` (added when missing).
    public var operation: String? {
        didSet { if let operation, !operation.hasPrefix("$") { self.operation = "$" + operation } }
    }
    public var clientID: String?

    public init() {}

    public func matches(_ facts: RequestFacts) -> Bool {
        var path: [UInt8]?
        return matches(facts, pathBytes: &path)
    }

    /// `matches`, with the request path's bytes made once for every rule that needs them.
    /// Stored fields are normalised when a rule is parsed (method upper-case, operation with
    /// its `$`), so each check is one comparison.
    func matches(_ facts: RequestFacts, pathBytes: inout [UInt8]?) -> Bool {
        if facts.endpoint.isAuth, pathPattern == nil, interaction != facts.interaction { return false }
        if let profile, profile != facts.profile { return false }
        if let method, method != facts.method { return false }
        if let resourceType, resourceType != facts.resourceType { return false }
        if let interaction, interaction != facts.interaction { return false }
        if let operation, operation != facts.operation { return false }
        if let clientID, clientID != facts.clientID { return false }
        if let pathPattern {
            if pathBytes == nil { pathBytes = Array(facts.path.utf8) }
            if !Glob.matches(pathPattern, pathBytes!) { return false }
        }
        return true
    }

    /// `path`'s bytes.
    var pathPattern: [UInt8]?

    public static let fieldNames = ["profile", "method", "path", "resourceType", "interaction", "operation", "clientId"]

    var json: JSONObject {
        var object = JSONObject()
        for (key, value) in [
            ("profile", profile), ("method", method), ("path", path), ("resourceType", resourceType), ("interaction", interaction),
            ("operation", operation), ("clientId", clientID),
        ] {
            if let value { object[key] = .string(value) }
        }
        return object
    }
}

/// What a rule does to a request it hits.
public enum FaultAction: Sendable, Equatable {
    /// Answer `status` in the profile's error dialect, with `Retry-After` when given.
    case error(status: Int, retryAfter: Int?)
    /// Wait `minMs`…`maxMs` (uniform, seeded) before handling the request normally.
    case latency(minMs: Int, maxMs: Int)
    /// Read the request, answer nothing for `ms`, then close the connection.
    case hang(ms: Int)
    /// Close the connection without an answer.
    case drop
    /// The caller's token is treated as expired from now on (the profile's 401).
    case tokenExpired
    /// The front desk books the slot the request is about to take, just before it is processed.
    case slotTaken
    /// Every request of the sandbox gets the maintenance answer for `seconds`.
    case outage(seconds: Int, retryAfter: Int?)

    public static let types = ["error", "latency", "hang", "drop", "token-expired", "slot-taken", "outage"]

    public var type: String {
        switch self {
        case .error: "error"
        case .latency: "latency"
        case .hang: "hang"
        case .drop: "drop"
        case .tokenExpired: "token-expired"
        case .slotTaken: "slot-taken"
        case .outage: "outage"
        }
    }

    var json: JSONObject {
        var object = JSONObject(["type": .string(type)])
        switch self {
        case .error(let status, let retryAfter):
            object["status"] = .int(status)
            if let retryAfter { object["retryAfter"] = .int(retryAfter) }
        case .latency(let minMs, let maxMs):
            if minMs == maxMs {
                object["ms"] = .int(minMs)
            } else {
                object["minMs"] = .int(minMs)
                object["maxMs"] = .int(maxMs)
            }
        case .hang(let ms): object["ms"] = .int(ms)
        case .outage(let seconds, let retryAfter):
            object["seconds"] = .int(seconds)
            if let retryAfter { object["retryAfter"] = .int(retryAfter) }
        case .drop, .tokenExpired, .slotTaken: break
        }
        return object
    }
}

/// A fault rule as armed: what it matches, what it does, and what bounds it.
public struct FaultRule: Sendable, Equatable {
    public var match = FaultMatch()
    public var action: FaultAction
    /// How many times it fires (nil: unlimited).
    public var times: Int?
    /// Matches skipped before it may fire.
    public var after = 0
    /// Chance that a match (past `after`) fires, drawn from `seed`.
    public var probability = 1.0
    public var seed: UInt64 = 0
    /// Wall-clock lifetime from arming (nil: until deleted).
    public var expiresAfterSeconds: Int?

    public init(action: FaultAction) { self.action = action }

    /// Longest wait a latency or hang rule may ask for (ten minutes).
    public static let maxMilliseconds = 600_000

    /// Parses the admin API's rule object; errors name the field.
    public static func parse(_ json: JSON) throws(FaultRuleError) -> FaultRule {
        guard let object = json.objectValue else {
            throw FaultRuleError("body", "expected a rule object: {\"match\": {...}, \"action\": {\"type\": ...}, ...}")
        }
        let allowed = ["match", "action", "times", "after", "probability", "seed", "expiresAfterSeconds"]
        for key in object.keys where !allowed.contains(key) {
            throw FaultRuleError(key, "unknown field; allowed: \(allowed.joined(separator: ", "))")
        }
        guard let actionObject = object["action"]?.objectValue else {
            throw FaultRuleError("action", "required: an object with a type (\(FaultAction.types.joined(separator: ", ")))")
        }
        var rule = FaultRule(action: try parseAction(actionObject))
        if let match = object["match"] {
            guard let matchObject = match.objectValue else { throw FaultRuleError("match", "must be an object") }
            for key in matchObject.keys where !FaultMatch.fieldNames.contains(key) {
                throw FaultRuleError("match.\(key)", "unknown field; allowed: \(FaultMatch.fieldNames.joined(separator: ", "))")
            }
            func text(_ key: String) throws(FaultRuleError) -> String? {
                guard let value = matchObject[key] else { return nil }
                guard let string = value.stringValue, !string.isEmpty, string.utf8.count <= 512 else {
                    throw FaultRuleError("match.\(key)", "must be a non-empty string of at most 512 bytes")
                }
                return string
            }
            rule.match.profile = try text("profile")
            rule.match.method = try text("method")?.uppercased()
            rule.match.path = try text("path")
            rule.match.resourceType = try text("resourceType")
            rule.match.interaction = try text("interaction")
            rule.match.operation = try text("operation").map { "$" + $0.drop(while: { $0 == "$" }) }
            rule.match.clientID = try text("clientId")
        }
        rule.times = try integer(object["times"], "times", 1...1_000_000_000)
        rule.after = try integer(object["after"], "after", 0...1_000_000_000) ?? 0
        if let value = object["probability"] {
            guard let text = value.numberText, let probability = Double(text), (0...1).contains(probability) else {
                throw FaultRuleError("probability", "must be a number from 0 to 1")
            }
            rule.probability = probability
        }
        if let value = object["seed"] {
            guard let text = value.numberText, let seed = Int64(text), seed >= 0 else {
                throw FaultRuleError("seed", "must be a non-negative integer")
            }
            rule.seed = UInt64(seed)
        }
        rule.expiresAfterSeconds = try integer(object["expiresAfterSeconds"], "expiresAfterSeconds", 1...31_536_000)
        if case .outage = rule.action, rule.times != nil, rule.times != 1 {
            throw FaultRuleError("times", "an outage fires once (it lasts `seconds`); leave times out")
        }
        return rule
    }

    static func parseAction(_ object: JSONObject) throws(FaultRuleError) -> FaultAction {
        guard let type = object["type"]?.stringValue else {
            throw FaultRuleError("action.type", "required: one of \(FaultAction.types.joined(separator: ", "))")
        }
        let keys: [String]
        let action: FaultAction
        switch type {
        case "error":
            keys = ["status", "retryAfter"]
            guard let status = try integer(object["status"], "action.status", 400...599) else {
                throw FaultRuleError("action.status", "required: the HTTP status to answer (400-599), e.g. 503")
            }
            action = .error(status: status, retryAfter: try integer(object["retryAfter"], "action.retryAfter", 0...86_400))
        case "latency":
            keys = ["ms", "minMs", "maxMs"]
            if let ms = try integer(object["ms"], "action.ms", 0...maxMilliseconds) {
                guard object["minMs"] == nil, object["maxMs"] == nil else {
                    throw FaultRuleError("action.ms", "give either ms or minMs and maxMs")
                }
                action = .latency(minMs: ms, maxMs: ms)
            } else {
                guard let minMs = try integer(object["minMs"], "action.minMs", 0...maxMilliseconds),
                    let maxMs = try integer(object["maxMs"], "action.maxMs", 0...maxMilliseconds)
                else { throw FaultRuleError("action.ms", "required: ms, or minMs and maxMs (milliseconds)") }
                guard minMs <= maxMs else { throw FaultRuleError("action.maxMs", "must not be less than minMs") }
                action = .latency(minMs: minMs, maxMs: maxMs)
            }
        case "hang":
            keys = ["ms"]
            guard let ms = try integer(object["ms"], "action.ms", 0...maxMilliseconds) else {
                throw FaultRuleError("action.ms", "required: how long to answer nothing before closing (milliseconds)")
            }
            action = .hang(ms: ms)
        case "drop":
            keys = []
            action = .drop
        case "token-expired":
            keys = []
            action = .tokenExpired
        case "slot-taken":
            keys = []
            action = .slotTaken
        case "outage":
            keys = ["seconds", "retryAfter"]
            guard let seconds = try integer(object["seconds"], "action.seconds", 1...86_400) else {
                throw FaultRuleError("action.seconds", "required: how long the outage lasts (1-86400)")
            }
            action = .outage(seconds: seconds, retryAfter: try integer(object["retryAfter"], "action.retryAfter", 0...86_400))
        default:
            throw FaultRuleError("action.type", "'\(type)' is not a fault type; one of \(FaultAction.types.joined(separator: ", "))")
        }
        for key in object.keys where key != "type" && !keys.contains(key) {
            throw FaultRuleError(
                "action.\(key)", "not a field of a \(type) action\(keys.isEmpty ? "" : "; allowed: \(keys.joined(separator: ", "))")")
        }
        return action
    }

    static func integer(_ value: JSON?, _ field: String, _ range: ClosedRange<Int>) throws(FaultRuleError) -> Int? {
        guard let value else { return nil }
        guard let text = value.numberText, let number = Int(text), range.contains(number) else {
            throw FaultRuleError(field, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    public var json: JSONObject {
        var object = JSONObject(["match": .object(match.json), "action": .object(action.json)])
        if let times { object["times"] = .int(times) }
        object["after"] = .int(after)
        object["probability"] = .number(String(probability))
        object["seed"] = .int(Int(seed))
        if let expiresAfterSeconds { object["expiresAfterSeconds"] = .int(expiresAfterSeconds) }
        return object
    }
}
