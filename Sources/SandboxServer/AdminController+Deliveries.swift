import ChangeFeeds
import FHIRCore
import HTTPTypes
import Hummingbird
import SandboxProfiles

/// The change-feed routes of the admin API: Subscription deliveries and their retry policy, and
/// the outbound HL7 v2 feeds.
extension AdminController {
    static let policySchema: JSON = object(
        [
            ("attempts", schema("integer", [("minimum", .int(1)), ("maximum", .int(20))])),
            ("firstBackoffMilliseconds", schema("integer", [("minimum", .int(0)), ("maximum", .int(60000))])),
            ("timeoutMilliseconds", schema("integer", [("minimum", .int(100)), ("maximum", .int(60000))])),
            ("queueLimit", schema("integer", [("minimum", .int(1)), ("maximum", .int(100_000))])),
        ])

    static let deliveryRoutes: [Route] = [
        Route(
            method: .get, path: "/_admin/deliveries",
            summary:
                "Subscription notifications of this sandbox, newest first (the last 1000 tries): subscription, event, attempt, "
                + "outcome, HTTP status, latency, error; and each subscription's state and queue. Query: subscription, limit",
            requestSchema: nil
        ) { controller, _, request throws(AdminError) in try controller.deliveries(request) },
        Route(
            method: .get, path: "/_admin/deliveries/policy", summary: "The retry policy of this sandbox's Subscription notifications",
            requestSchema: nil
        ) { controller, _, _ in controller.deliveryPolicy.json },
        Route(
            method: .put, path: "/_admin/deliveries/policy",
            summary:
                "Change the retry policy (any of attempts, firstBackoffMilliseconds, timeoutMilliseconds, queueLimit); the answer is the whole policy",
            requestSchema: policySchema
        ) { controller, body, _ throws(AdminError) in
            let updated: DeliveryPolicy
            do throws(FHIRError) {
                updated = try controller.deliveryPolicy.updated(with: body ?? .null)
            } catch {
                throw AdminError(error.message, field: "policy")
            }
            for hub in controller.hubs { hub.policy = updated }
            return updated.json
        },
    ]

    static let hl7DestinationSchema: JSON = object(
        [
            ("profile", schema("string", [("minLength", .int(1)), ("maxLength", .int(64))])),
            ("destination", schema("string", [("pattern", .string("^[^:\\s]+:[0-9]{1,5}$"))])),
        ], required: ["destination"])

    static let hl7Routes: [Route] = [
        Route(
            method: .get, path: "/_admin/hl7/outbound",
            summary:
                "Each profile's outbound HL7 v2 destinations: queued, sent and failed counts, reconnects, and the latest messages "
                + "(control id, type, event, state, attempts, ACK code, error)",
            requestSchema: nil
        ) { controller, _, _ in controller.hl7State() },
        Route(
            method: .post, path: "/_admin/hl7/outbound",
            summary:
                "Send a profile's HL7 v2 feed (SIU, ADT over MLLP) to HOST:PORT: {\"destination\": \"127.0.0.1:2575\", \"profile\": \"generic\"}",
            requestSchema: hl7DestinationSchema, success: .created
        ) { controller, body, _ throws(AdminError) in
            guard let object = body?.objectValue, let text = object["destination"]?.stringValue,
                let peer = SandboxConfiguration.HL7Peer.parse(text, portOnly: false)
            else { throw AdminError("expected {\"destination\": \"HOST:PORT\", \"profile\": \"…\"}", field: "destination") }
            for key in object.keys where key != "destination" && key != "profile" {
                throw AdminError("unknown member '\(key)'", field: key)
            }
            let profile = object["profile"]?.stringValue ?? "generic"
            guard let mount = controller.scope.mount(named: profile) else {
                throw AdminError(
                    "profile must name a profile of this sandbox: \(controller.scope.mounts.map(\.profile.name).joined(separator: ", "))",
                    field: "profile")
            }
            _ = mount.feed.add(host: peer.host, port: peer.port)
            return controller.hl7State()
        },
        Route(
            method: .delete, path: "/_admin/hl7/outbound",
            summary: "Stop every outbound HL7 v2 feed of this sandbox (unsent messages are dropped)",
            requestSchema: nil
        ) { controller, _, _ in
            for mount in controller.scope.mounts { mount.feed.stop() }
            return controller.hl7State()
        },
    ]

    func hl7State() -> JSON {
        .object(JSONObject(scope.mounts.map { JSONObject.Member(key: $0.profile.name, value: $0.feed.json()) }))
    }

    /// The sandbox's subscription hubs (one per profile that serves Subscription).
    var hubs: [SubscriptionHub] { scope.mounts.compactMap(\.runtime.subscriptions) }

    var deliveryPolicy: DeliveryPolicy { hubs.first?.policy ?? DeliveryPolicy() }

    func deliveries(_ request: Request) throws(AdminError) -> JSON {
        let subscription = request.uri.queryParameters.get("subscription")
        var limit = 100
        if let text = request.uri.queryParameters.get("limit") {
            guard let value = Int(text), (1...1000).contains(value) else { throw AdminError("limit must be 1-1000", field: "limit") }
            limit = value
        }
        var records: [JSON] = []
        var subscriptions: [JSON] = []
        for mount in scope.mounts {
            guard let hub = mount.runtime.subscriptions else { continue }
            // Ids as the profile shows them (a client knows its subscription by the vendor's id).
            let ids = mount.ids
            let stored = subscription.map { ids.internal($0, type: "Subscription") ?? $0 }
            for record in hub.deliveries(subscription: stored, limit: limit) {
                guard case .object(var object) = record.json else { continue }
                object.set("profile", .string(mount.profile.name), after: "sequence")
                object["subscription"] = .string(ids.external(record.subscription, type: "Subscription"))
                if let event = record.event {
                    let parts = event.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
                    if parts.count >= 2 {
                        let type = String(parts[0])
                        let rest = parts[1].split(separator: " ", maxSplits: 1).map(String.init)
                        let shown =
                            [type, ids.external(rest[0], type: type) + (rest.count > 1 ? " " + rest[1] : "")]
                            + parts.dropFirst(2).map(String.init)
                        object["event"] = .string(shown.joined(separator: "/"))
                    }
                }
                records.append(.object(object))
            }
            for queue in hub.queues() {
                subscriptions.append(
                    .object(
                        JSONObject([
                            "profile": .string(mount.profile.name),
                            "subscription": .string(ids.external(queue.subscription, type: "Subscription")),
                            "state": .string(queue.phase), "queued": .int(queue.queued),
                        ])))
            }
        }
        return .object(
            JSONObject([
                "policy": deliveryPolicy.json, "subscriptions": .array(subscriptions), "deliveries": .array(Array(records.prefix(limit))),
            ]))
    }
}
