import FHIRCore
import FHIRInteractions
import FHIRSearch
import FHIRStore
import Synchronization

/// One sandbox's R4 Subscriptions (rest-hook): watches the tenant store's commits, matches each
/// new version against every subscription's criteria with the server's own search engine (inside
/// the committing transaction, so the version matched is the one committed), queues a
/// notification per match in commit order, and delivers each subscription's queue from its own
/// task: a slow or dead receiver delays only its own subscription, never the write that caused
/// the change. A handshake (an empty POST) moves a `requested` subscription to `active`, or to
/// `error`; a notification that fails every try (`DeliveryPolicy`) moves it to `error` and keeps
/// its queue until a client sets `status: requested` again.
public final class SubscriptionHub: Sendable {
    let service: FHIRService
    let transport: any WebhookTransport
    let parser: SearchQueryParser
    /// Topic-based (backport) subscriptions, when the profile offers them.
    let backport: (any BackportService)?
    let state = Mutex(State())
    /// Most delivery records kept (`GET /_admin/deliveries`).
    static let logLimit = 1000

    struct Channel {
        enum Phase { case handshake, active, failed }
        var criteria: Criteria
        /// The criteria parsed once (at registration), for matching every write.
        var query: SearchQuery?
        var endpoint: String
        var headers: [(name: String, value: String)]
        var payload: Bool
        /// A backport subscription's topic and the secret its notifications are signed with.
        var topic: BackportTopic?
        var secret: String?
        var phase = Phase.handshake
        var queue: [Event] = []
        var running = false
    }

    struct Event {
        let type: String
        let id: String
        let version: Int
        let deleted: Bool
        let body: [UInt8]?
        var label: String { deleted ? "\(type)/\(id) (deleted)" : "\(type)/\(id)/_history/\(version)" }
    }

    struct State {
        var channels: [String: Channel] = [:]
        /// Slot changes waiting to be matched (after commit, in commit order, by one task).
        var slotChanges: [StoreChange] = []
        var matchingSlots = false
        var policy = DeliveryPolicy()
        var log: [DeliveryRecord] = []
        var sequence = 0
        /// Bumped by `reset`: tasks of an earlier generation stop.
        var generation = 0
    }

    public init(service: FHIRService, transport: any WebhookTransport, backport: (any BackportService)? = nil) {
        self.service = service
        self.transport = transport
        self.backport = backport
        parser = service.searchParser()
    }

    /// Starts watching the tenant's commits and picks up subscriptions already stored (a
    /// persisted sandbox): `requested` ones handshake again, `active` ones deliver.
    public func start() throws(FHIRError) {
        service.tenant.store.watchCommits(
            "subscriptions",
            CommitWatch(
                match: { [weak self] type, id, search in self?.match(type, id, search) ?? [] },
                committed: { [weak self] changes in self?.committed(changes) }))
        guard !service.tenant.awaitsSeed else { return }
        // Every stored Subscription, whether or not the base lets clients search them.
        let all = try SearchQueryParser(registry: .r4, zone: .utc).parse(
            type: "Subscription", parameters: [], strict: false, now: service.clock.now())
        let stored = try service.read { reader throws(FHIRError) in try reader.bodies(try reader.search(all)) }
        for (key, body) in stored { register(key.id, body: body) }
    }

    /// Stops watching; queued notifications are dropped.
    public func stop() {
        service.tenant.store.watchCommits("subscriptions", nil)
        reset()
    }

    /// Forgets every subscription and queue and the deliveries (the store was reset).
    public func reset() {
        state.withLock { state in
            state.channels.removeAll()
            state.log.removeAll()
            state.generation += 1
        }
    }

    public var policy: DeliveryPolicy {
        get { state.withLock { $0.policy } }
        set { state.withLock { $0.policy = newValue } }
    }

    /// The delivery records, newest first.
    public func deliveries(subscription: String? = nil, limit: Int = 100) -> [DeliveryRecord] {
        state.withLock { state in
            Array(state.log.reversed().filter { subscription == nil || $0.subscription == subscription }.prefix(limit))
        }
    }

    /// Per subscription: phase and queued notifications.
    public func queues() -> [(subscription: String, phase: String, queued: Int)] {
        state.withLock { state in
            state.channels.sorted { $0.key < $1.key }.map { id, channel in
                let phase =
                    switch channel.phase {
                    case .handshake: "handshake"
                    case .active: "active"
                    case .failed: "error"
                    }
                return (id, phase, channel.queue.count)
            }
        }
    }

    // MARK: - Commit side (under the store lock: quick, no store calls)

    func match(_ type: String, _ id: String, _ search: CommitWatch.Search) -> [String] {
        guard SubscriptionDesk.types.contains(type), type != "Slot" else { return [] }
        let candidates = state.withLock { state in
            state.channels.compactMap { entry in
                entry.value.criteria.type == type ? entry.value.query.map { (entry.key, $0) } : nil
            }
        }
        return candidates.compactMap { subscription, query in (try? search(query)) == true ? subscription : nil }
    }

    func committed(_ changes: [StoreChange]) {
        var wake: [String] = []
        let slots = changes.filter { $0.type == "Slot" && !$0.deleted }
        if !slots.isEmpty { matchSlots(slots) }
        for change in changes {
            if change.type == "Subscription" {
                if change.deleted {
                    state.withLock { _ = $0.channels.removeValue(forKey: change.id) }
                } else if let body = change.body {
                    if register(change.id, body: body) { wake.append(change.id) }
                }
            }
            guard !change.matched.isEmpty else { continue }
            let event = Event(type: change.type, id: change.id, version: change.version, deleted: change.deleted, body: change.body)
            let now = service.clock.now()
            state.withLock { state in
                for subscription in change.matched where Self.enqueue(event, for: subscription, in: &state, now: now) {
                    wake.append(subscription)
                }
            }
        }
        for subscription in Set(wake) { startIfIdle(subscription) }
    }

    /// Queues slot changes for matching when a subscription watches Slot.
    func matchSlots(_ changes: [StoreChange]) {
        let start: Int? = state.withLock { state in
            guard state.channels.values.contains(where: { $0.criteria.type == "Slot" }) else { return nil }
            state.slotChanges += changes
            guard !state.matchingSlots else { return nil }
            state.matchingSlots = true
            return state.generation
        }
        if let generation = start { Task { self.matchSlots(generation: generation) } }
    }

    /// Matches queued slot changes against Slot criteria with the engine's Slot search (the slot
    /// as it is now: slot rows keep no history), in commit order; a match queues the slot as
    /// rendered by that search.
    func matchSlots(generation: Int) {
        while true {
            let (batch, subscriptions) = state.withLock { state in
                let batch = state.slotChanges
                state.slotChanges.removeAll()
                if batch.isEmpty || state.generation != generation { state.matchingSlots = false }
                let subscriptions = state.channels.compactMap { $0.value.criteria.type == "Slot" ? ($0.key, $0.value.criteria) : nil }
                return (state.generation == generation ? batch : [], subscriptions)
            }
            guard !batch.isEmpty else { return }
            var wake: Set<String> = []
            for change in batch {
                for (subscription, criteria) in subscriptions {
                    let (status, bundle) = service.call("GET", ["Slot"], query: criteria.parameters + [(name: "_id", value: change.id)])
                    guard status == 200,
                        let slot = bundle?["entry"]?.arrayValue?.first(where: {
                            $0["resource"]?["resourceType"]?.stringValue == "Slot"
                        })?["resource"]
                    else { continue }
                    let event = Event(type: "Slot", id: change.id, version: change.version, deleted: false, body: slot.bytes)
                    let now = service.clock.now()
                    let queued = state.withLock { state in
                        state.generation == generation && Self.enqueue(event, for: subscription, in: &state, now: now)
                    }
                    if queued { wake.insert(subscription) }
                }
            }
            for subscription in wake { startIfIdle(subscription) }
        }
    }

    /// Takes a stored Subscription version into account. Returns whether its channel should run.
    @discardableResult
    func register(_ id: String, body: [UInt8]) -> Bool {
        guard let resource = (try? JSONParser.parse(body))?.objectValue else { return false }
        let status = resource["status"]?.stringValue ?? ""
        // A backport subscription names a topic; its events are the topic's, decided at delivery.
        let topic =
            Backport.isBackport(resource)
            ? backport?.topics.first { $0.url == resource["criteria"]?.stringValue } : nil
        let parsed = topic.map { Criteria(type: $0.resourceType, parameters: []) }
        guard status != "off", Backport.isBackport(resource) == (topic != nil),
            let criteria = parsed ?? (try? SubscriptionDesk.criteria(resource, parser: parser, now: service.clock.now()))
        else {
            state.withLock { _ = $0.channels.removeValue(forKey: id) }
            return false
        }
        let query = try? parser.parse(type: criteria.type, parameters: criteria.parameters, strict: false, now: service.clock.now())
        let channel = resource["channel"]
        var headers: [(name: String, value: String)] = (channel?["header"]?.arrayValue ?? []).compactMap { line in
            guard let text = line.stringValue, let colon = text.firstIndex(of: ":") else { return nil }
            return (
                String(text[..<colon]).trimmingCharacters(in: " "), String(text[text.index(after: colon)...]).trimmingCharacters(in: " ")
            )
        }
        // WebSub: the secret signs notifications (X-Hub-Signature); it is never sent itself.
        let secret = topic == nil ? nil : headers.first { $0.name.lowercased() == "x-hub-secret" }?.value
        if topic != nil { headers.removeAll { $0.name.lowercased() == "x-hub-secret" } }
        return state.withLock { state in
            var updated = state.channels[id] ?? Channel(criteria: criteria, endpoint: "", headers: [], payload: false)
            updated.criteria = criteria
            updated.query = query
            updated.endpoint = channel?["endpoint"]?.stringValue ?? ""
            updated.headers = headers
            updated.payload = channel?["payload"] != nil
            updated.topic = topic
            updated.secret = secret
            switch status {
            // ASSUMPTION (backport service): no handshake; a topic subscription is active at once.
            case "requested" where topic != nil: updated.phase = .active
            case "requested": updated.phase = .handshake
            case "active": if state.channels[id] == nil { updated.phase = .active }
            default: if state.channels[id] == nil { updated.phase = .failed }
            }
            state.channels[id] = updated
            return updated.phase != .failed
        }
    }

    /// Queues a notification (dropping the oldest past the policy's limit, listed as dropped);
    /// false when the subscription is gone.
    static func enqueue(_ event: Event, for subscription: String, in state: inout State, now: Int64) -> Bool {
        guard state.channels[subscription] != nil else { return false }
        state.channels[subscription]!.queue.append(event)
        if state.channels[subscription]!.queue.count > state.policy.queueLimit {
            let dropped = state.channels[subscription]!.queue.removeFirst()
            append(
                &state, subscription: subscription, kind: .dropped, event: dropped.label, attempt: 0, delivered: false, status: nil,
                milliseconds: 0, error: "the queue holds \(state.policy.queueLimit) notifications", at: now)
        }
        return true
    }

    static func append(
        _ state: inout State, subscription: String, kind: DeliveryRecord.Kind, event: String?, attempt: Int, delivered: Bool,
        status: Int?, milliseconds: Int, error: String?, at: Int64
    ) {
        state.sequence += 1
        state.log.append(
            DeliveryRecord(
                sequence: state.sequence, subscription: subscription, kind: kind, event: event, attempt: attempt, delivered: delivered,
                status: status, milliseconds: milliseconds, error: error, at: at))
        if state.log.count > logLimit { state.log.removeFirst(state.log.count - logLimit) }
    }
}
