import FHIRCore
import FHIRInteractions
import FHIRSearch
import FHIRStore
import Synchronization
import Testing

@testable import ChangeFeeds

/// The hub on a real in-memory store with a recording transport: commit-order notifications,
/// criteria matched against the committed version, retries, error and replay.
@Suite struct SubscriptionHubTests {
    /// Records calls; answers `status` (or fails) as told.
    final class Transport: WebhookTransport {
        let state = Mutex<(calls: [WebhookRequest], status: Int)>(([], 200))

        func send(_ request: WebhookRequest, timeoutMilliseconds: Int) async -> Result<Int, WebhookFailure> {
            let status = state.withLock { state in
                state.calls.append(request)
                return state.status
            }
            return status == 0 ? .failure(WebhookFailure("refused")) : .success(status)
        }

        var calls: [WebhookRequest] { state.withLock { $0.calls } }
        func answer(_ status: Int) { state.withLock { $0.status = status } }
    }

    let transport = Transport()
    let service: FHIRService
    let hub: SubscriptionHub

    init() throws {
        let store = try ResourceStore(path: nil, extractor: IndexExtractor(registry: .r4, zone: .utc))
        let parser = SearchQueryParser(registry: .r4, zone: .utc)
        service = FHIRService(
            tenant: Tenant(name: "t", store: store), clock: .fixed(1_776_085_200_000), random: .seeded(3), registry: .r4, zone: .utc,
            capabilities: CapabilityStatementBuilder(registry: .r4, softwareVersion: "test"),
            hooks: ["Subscription": SubscriptionDesk(parser: parser)])
        hub = SubscriptionHub(service: service, transport: transport)
        var policy = DeliveryPolicy()
        policy.attempts = 2
        policy.firstBackoffMilliseconds = 1
        hub.policy = policy
        try hub.start()
    }

    func write(_ type: String, id: String, _ json: String) throws {
        let object = try #require(try JSONParser.parse(Array(json.utf8)).objectValue)
        _ = try service.write { writer throws(FHIRError) in try writer.put(type, id: id, object) }
    }

    func subscribe(_ criteria: String, payload: Bool = false) throws {
        let channel = payload ? #", "payload": "application/fhir+json""# : ""
        try write(
            "Subscription", id: "sub",
            #"{"resourceType": "Subscription", "status": "requested", "reason": "r", "criteria": "\#(criteria)", "#
                + #""channel": {"type": "rest-hook", "endpoint": "http://127.0.0.1:9/hook"\#(channel)}}"#)
    }

    func calls(_ count: Int) async throws -> [WebhookRequest] {
        for _ in 0..<400 where transport.calls.count < count { try await Task.sleep(for: .milliseconds(5)) }
        return transport.calls
    }

    func status() throws -> String? {
        try service.read { reader throws(FHIRError) in try reader.bodies(try reader.keys("Subscription", ids: ["sub"])) }
            .first.flatMap { try? JSONParser.parse($0.1) }?["status"]?.stringValue
    }

    @Test func notificationsFollowCommitOrderAndTheCriteria() async throws {
        try subscribe("Patient?family=Ito", payload: true)
        _ = try await calls(1)
        try write("Patient", id: "a", #"{"resourceType": "Patient", "name": [{"family": "Ito"}]}"#)
        try write("Patient", id: "b", #"{"resourceType": "Patient", "name": [{"family": "Other"}]}"#)
        try write("Patient", id: "a", #"{"resourceType": "Patient", "name": [{"family": "Ito"}], "gender": "male"}"#)
        // b's second version matches: the criteria see the committed version, not an earlier one.
        try write("Patient", id: "b", #"{"resourceType": "Patient", "name": [{"family": "Ito"}]}"#)
        let sent = try await calls(4)
        #expect(sent.map(\.method) == ["POST", "PUT", "PUT", "PUT"])
        #expect(sent.dropFirst().map { $0.url } == ["a", "a", "b"].map { "http://127.0.0.1:9/hook/Patient/\($0)" })
        #expect(try status() == "active")
    }

    @Test func failedTriesMoveToErrorAndReplayOnReactivation() async throws {
        try subscribe("Patient?family=Ito")
        _ = try await calls(1)
        transport.answer(503)
        try write("Patient", id: "a", #"{"resourceType": "Patient", "name": [{"family": "Ito"}]}"#)
        _ = try await calls(3)
        for _ in 0..<400 where try status() != "error" { try await Task.sleep(for: .milliseconds(5)) }
        #expect(try status() == "error")
        transport.answer(200)
        try subscribe("Patient?family=Ito")
        let sent = try await calls(5)
        #expect(sent.count == 5 && sent[3].body.isEmpty && sent[4].method == "POST")
        #expect(hub.deliveries().first?.delivered == true)
    }
}
