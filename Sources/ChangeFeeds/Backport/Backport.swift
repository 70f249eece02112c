import FHIRCore

/// Topic-based subscriptions as the R5 Subscriptions Backport IG has them on R4: a Subscription
/// whose `criteria` is a topic's canonical URL (`meta.profile` backport-subscription), notified
/// through the same queues, retries and delivery log as criteria-based ones. What a topic's
/// trigger is and how a notification looks are the vendor's (`BackportService`); the hub decides
/// when, in commit order.
public enum Backport {
    public static let subscriptionProfile = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription"
    public static let notificationProfile =
        "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-notification"
    public static let filterCriteria = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria"
    public static let payloadContent = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content"

    /// Whether a stored Subscription is a backport (topic-based) one.
    public static func isBackport(_ subscription: JSONObject) -> Bool {
        subscription["meta"]?["profile"]?.arrayValue?.contains { $0.stringValue == subscriptionProfile } ?? false
    }
}

/// One topic: its code and canonical URL, the resource type it watches, and when a change of
/// that type is an event of the topic (the previous version, nil for a create; the new one).
public struct BackportTopic: Sendable {
    public let code: String
    public let url: String
    public let resourceType: String
    public let title: String
    public let trigger: @Sendable (_ old: JSONObject?, _ new: JSONObject) -> Bool

    public init(
        code: String, url: String, resourceType: String, title: String, trigger: @escaping @Sendable (JSONObject?, JSONObject) -> Bool
    ) {
        self.code = code
        self.url = url
        self.resourceType = resourceType
        self.title = title
        self.trigger = trigger
    }
}

/// One event a notification carries: the resource (stored id) as committed.
public struct BackportEvent: Sendable {
    public let type: String
    public let id: String
    public let resource: JSONObject
}

/// A vendor's topic-based subscription service: its topics and its notification (body and
/// headers, signing included).
public protocol BackportService: Sendable {
    var topics: [BackportTopic] { get }
    /// The request body and extra headers of one notification for `subscription` (stored id);
    /// `secret` is the one the client registered, if any.
    func notification(subscription: String, topic: BackportTopic, event: BackportEvent, secret: String?, now: Int64) -> (
        body: [UInt8], headers: [(name: String, value: String)]
    )
}
