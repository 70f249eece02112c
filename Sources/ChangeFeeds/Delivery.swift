import FHIRCore

/// How notifications are retried (per sandbox; `GET`/`PUT /_admin/deliveries/policy`).
public struct DeliveryPolicy: Sendable, Equatable {
    /// Tries per notification before the subscription goes to `error` (1–20).
    public var attempts = 5
    /// The wait after the first failed try, doubled after each further one (0–60000 ms).
    public var firstBackoffMilliseconds = 500
    /// A try that has not answered by then has failed (100–60000 ms).
    public var timeoutMilliseconds = 2000
    /// Notifications kept per subscription while it cannot deliver (1–100000); past it, the
    /// oldest are dropped (each drop is listed in the deliveries).
    public var queueLimit = 1000

    public init() {}

    static let ranges: [(key: String, range: ClosedRange<Int>)] = [
        ("attempts", 1...20), ("firstBackoffMilliseconds", 0...60000), ("timeoutMilliseconds", 100...60000), ("queueLimit", 1...100_000),
    ]

    public var json: JSON {
        .object(
            JSONObject([
                "attempts": .int(attempts), "firstBackoffMilliseconds": .int(firstBackoffMilliseconds),
                "timeoutMilliseconds": .int(timeoutMilliseconds), "queueLimit": .int(queueLimit),
            ]))
    }

    /// This policy with the members of `json` applied (400 naming a bad or unknown member).
    public func updated(with json: JSON) throws(FHIRError) -> DeliveryPolicy {
        guard let object = json.objectValue else { throw FHIRError(.malformedRequest, "the policy must be a JSON object") }
        var policy = self
        for member in object {
            guard let range = Self.ranges.first(where: { $0.key == member.key })?.range else {
                throw FHIRError(
                    .malformedRequest, "unknown policy member '\(member.key)' (\(Self.ranges.map(\.key).joined(separator: ", ")))")
            }
            guard let value = member.value.numberText.flatMap({ Int($0) }), range.contains(value) else {
                throw FHIRError(.malformedRequest, "\(member.key) must be an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            switch member.key {
            case "attempts": policy.attempts = value
            case "firstBackoffMilliseconds": policy.firstBackoffMilliseconds = value
            case "timeoutMilliseconds": policy.timeoutMilliseconds = value
            default: policy.queueLimit = value
            }
        }
        return policy
    }
}

/// One outbound HTTP call of a notification.
public struct WebhookRequest: Sendable {
    public let method: String
    public let url: String
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]
}

/// Sends webhook calls (the server module's HTTP client; tests give their own).
public protocol WebhookTransport: Sendable {
    /// The response status, or why there was none (refused, timed out, ...).
    func send(_ request: WebhookRequest, timeoutMilliseconds: Int) async -> Result<Int, WebhookFailure>
}

public struct WebhookFailure: Error, Sendable {
    public let reason: String

    public init(_ reason: String) { self.reason = reason }
}

/// One try of a handshake or notification, or a notification dropped from a full queue.
public struct DeliveryRecord: Sendable {
    public enum Kind: String, Sendable { case handshake, notification, dropped }

    public let sequence: Int
    public let subscription: String
    public let kind: Kind
    /// `Type/id/_history/n` (a deletion: `Type/id`, deleted), nil for a handshake.
    public let event: String?
    public let attempt: Int
    public let delivered: Bool
    public let status: Int?
    public let milliseconds: Int
    public let error: String?
    /// Sandbox time of the try.
    public let at: Int64

    public var json: JSON {
        var object = JSONObject([
            "sequence": .int(sequence), "subscription": .string(subscription), "kind": .string(kind.rawValue),
            "attempt": .int(attempt), "outcome": .string(kind == .dropped ? "dropped" : delivered ? "delivered" : "failed"),
            "latencyMilliseconds": .int(milliseconds), "at": .string(InstantFormat.iso(at, offsetSeconds: 0)),
        ])
        if let event { object["event"] = .string(event) }
        if let status { object["status"] = .int(status) }
        if let error { object["error"] = .string(error) }
        return .object(object)
    }
}
