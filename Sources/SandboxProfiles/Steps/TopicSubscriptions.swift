import ChangeFeeds
import FHIRCore
import FHIRInteractions
import FHIRSearch
import FHIRStore

/// A vendor's topic-based subscription service under its FHIR base (`subscriptions`; athena's,
/// vendor-quirks §3.7): `GET SubscriptionTopic[/{code}]`, `POST Subscription` with the backport
/// profile (topic URL criteria, the filter criteria extension naming the profile's context,
/// rest-hook, `application/fhir+json`, id-only), the secret in an `X-Hub-Secret` header, one
/// subscription per topic; `GET Subscription[/{id}]` and `DELETE Subscription/{id}` (204).
/// Subscriptions are stored as R4 Subscriptions (the secret as a channel header, never shown),
/// so the change-feed hub delivers them and a persisted sandbox keeps them. The step answers
/// before the practice context is required: the filter criteria carries it.
public struct TopicSubscriptions: FHIRRequestStep {
    let service: @Sendable () -> FHIRService
    let backport: any BackportService
    /// The filter the service requires (`ah-practice=Organization/a-1.Practice-195900`): the
    /// profile's context parameter and value.
    let filter: String?

    public init(service: @escaping @Sendable () -> FHIRService, backport: any BackportService, filter: String?) {
        self.service = service
        self.backport = backport
        self.filter = filter
    }

    public func check(_ request: FHIRRequest) -> FHIRResponse? {
        guard let type = request.segments.first, type == "Subscription" || type == "SubscriptionTopic" else { return nil }
        do throws(FHIRError) {
            if let access = request.access {
                _ = try access.require(type, request.method == "GET" ? .read : request.method == "DELETE" ? .delete : .create)
            }
            switch (request.method, type, request.segments.count) {
            case ("GET", "SubscriptionTopic", 1): return .json(200, searchset(topics(), request))
            case ("GET", "SubscriptionTopic", 2):
                guard let topic = backport.topics.first(where: { $0.code == request.segments[1] }) else {
                    throw FHIRError(.notFound, "SubscriptionTopic/\(request.segments[1]) is not a topic of this server")
                }
                return .json(200, JSON.object(Self.resource(topic)).bytes)
            case ("POST", "Subscription", 1): return try create(request)
            case ("GET", "Subscription", 1): return .json(200, searchset(try stored().map(\.resource), request))
            case ("GET", "Subscription", 2):
                guard let found = try stored().first(where: { $0.id == request.segments[1] }) else {
                    throw FHIRError(.notFound, "Subscription/\(request.segments[1]) does not exist")
                }
                return .json(200, JSON.object(found.resource).bytes)
            case ("DELETE", "Subscription", 2): return try delete(request.segments[1])
            default:
                throw FHIRError(
                    .methodNotAllowed,
                    "\(request.method) /\(request.segments.joined(separator: "/")) is not supported: GET SubscriptionTopic, "
                        + "POST and GET Subscription, GET and DELETE Subscription/{id}")
            }
        } catch {
            return .error(error)
        }
    }

    func topics() -> [JSONObject] { backport.topics.map(Self.resource) }

    /// A topic as the service lists it: an R5 SubscriptionTopic (not an R4 resource: a declared
    /// deviation).
    static func resource(_ topic: BackportTopic) -> JSONObject {
        JSONObject([
            "resourceType": .string("SubscriptionTopic"), "id": .string(topic.code), "url": .string(topic.url),
            "title": .string(topic.title), "status": .string("active"),
            "resourceTrigger": .array([
                .object(JSONObject(["description": .string(topic.title), "resource": .string(topic.resourceType)]))
            ]),
        ])
    }

    func searchset(_ resources: [JSONObject], _ request: FHIRRequest) -> [UInt8] {
        service().searchset(resources, baseURL: request.baseURL)
    }

    /// The stored topic subscriptions, as clients see them (without the secret header).
    func stored() throws(FHIRError) -> [(id: String, resource: JSONObject)] {
        let query = try SearchQueryParser(registry: .r4, zone: .utc).parse(type: "Subscription", parameters: [], strict: false, now: 0)
        let bodies = try service().read { reader throws(FHIRError) in try reader.bodies(try reader.search(query)) }
        return bodies.compactMap { key, body in
            guard let resource = (try? JSONParser.parse(body))?.objectValue, Backport.isBackport(resource) else { return nil }
            return (key.id, Self.shown(resource))
        }
    }

    static func shown(_ resource: JSONObject) -> JSONObject {
        var resource = resource
        guard var channel = resource["channel"]?.objectValue else { return resource }
        let headers = (channel["header"]?.arrayValue ?? []).filter { !($0.stringValue?.lowercased().hasPrefix("x-hub-secret:") ?? false) }
        channel["header"] = headers.isEmpty ? nil : .array(headers)
        resource["channel"] = .object(channel)
        return resource
    }

    func create(_ request: FHIRRequest) throws(FHIRError) -> FHIRResponse {
        guard let body = request.body, let resource = (try? JSONParser.parse(body))?.objectValue,
            resource["resourceType"]?.stringValue == "Subscription"
        else { throw FHIRError(.malformedRequest, "the body must be a Subscription resource in JSON") }
        guard Backport.isBackport(resource) else {
            throw FHIRError(
                .businessRule, "meta.profile must include \(Backport.subscriptionProfile) (topic-based subscriptions only)",
                expression: ["Subscription.meta.profile"])
        }
        guard resource["status"]?.stringValue == "requested" else {
            throw FHIRError(.businessRule, "status must be requested", expression: ["Subscription.status"])
        }
        let criteria = resource["criteria"]?.stringValue ?? ""
        guard let topic = backport.topics.first(where: { $0.url == criteria }) else {
            throw FHIRError(
                .businessRule, "criteria must be a topic URL (GET SubscriptionTopic lists them), not '\(criteria)'",
                expression: ["Subscription.criteria"])
        }
        let filters = (resource["_criteria"]?["extension"]?.arrayValue ?? []).filter { $0["url"]?.stringValue == Backport.filterCriteria }
            .compactMap { $0["valueString"]?.stringValue }
        if let filter, filters != [filter] {
            throw FHIRError(
                .businessRule, "_criteria needs one backport-filter-criteria extension with valueString '\(filter)'",
                expression: ["Subscription._criteria"])
        }
        let payload = resource["channel"]?["_payload"]?["extension"]?.arrayValue?.first {
            $0["url"]?.stringValue == Backport.payloadContent
        }
        guard resource["channel"]?["payload"]?.stringValue == "application/fhir+json", payload?["valueCode"]?.stringValue == "id-only"
        else {
            throw FHIRError(
                .businessRule,
                "channel.payload must be application/fhir+json with backport-payload-content id-only (the only content offered)",
                expression: ["Subscription.channel.payload"])
        }
        guard let secret = request.headers.hubSecret, !secret.isEmpty else {
            throw FHIRError(.businessRule, "the X-Hub-Secret header must carry the secret notifications are signed with")
        }
        var stored = resource
        stored["id"] = nil
        stored["status"] = .string("active")
        if var channel = stored["channel"]?.objectValue {
            channel["header"] = .array((channel["header"]?.arrayValue ?? []) + [.string("X-Hub-Secret: \(secret)")])
            stored["channel"] = .object(channel)
        }
        let service = service()
        let saved = try service.write { writer throws(FHIRError) -> JSONObject in
            // One subscription per topic (per practice: the tenant is the practice).
            let query = try SearchQueryParser(registry: .r4, zone: .utc).parse(type: "Subscription", parameters: [], strict: false, now: 0)
            for key in try writer.transaction.search(query) {
                if let other = try writer.current("Subscription", key.id)?.resource, Backport.isBackport(other),
                    other["criteria"]?.stringValue == topic.url, other["status"]?.stringValue != "off"
                {
                    throw FHIRError(.conflict, "Subscription/\(key.id) already subscribes to \(topic.code) for this practice")
                }
            }
            let result = try writer.put("Subscription", id: nil, stored)
            return (try? JSONParser.parse(result.body ?? []))?.objectValue ?? stored
        }
        let id = saved["id"]?.stringValue ?? ""
        return .json(201, JSON.object(Self.shown(saved)).bytes, headers: [("Location", "\(request.baseURL)/Subscription/\(id)")])
    }

    func delete(_ id: String) throws(FHIRError) -> FHIRResponse {
        let service = service()
        try service.write { writer throws(FHIRError) in
            guard let stored = try writer.transaction.current("Subscription", id), !stored.deleted,
                let resource = (try? JSONParser.parse(stored.body ?? []))?.objectValue, Backport.isBackport(resource)
            else { throw FHIRError(.notFound, "Subscription/\(id) does not exist") }
            try writer.transaction.delete("Subscription", id, version: stored.version + 1, lastUpdated: writer.now)
        }
        return FHIRResponse(status: 204)
    }
}
