import FHIRCore
import FHIRInteractions
import FHIRStore
import Synchronization

/// The delivery side: one task per subscription while it has work, trying each notification as
/// the policy says and recording every try.
extension SubscriptionHub {
    enum Job {
        case handshake(Channel)
        case notify(Channel, Event)
    }

    func startIfIdle(_ subscription: String) {
        let start: Int? = state.withLock { state in
            guard var channel = state.channels[subscription], !channel.running, channel.phase != .failed else { return nil }
            guard channel.phase == .handshake || !channel.queue.isEmpty else { return nil }
            channel.running = true
            state.channels[subscription] = channel
            return state.generation
        }
        guard let generation = start else { return }
        Task { await self.run(subscription, generation: generation) }
    }

    /// The next thing to do for a subscription, or nil (and the task ends).
    func next(_ subscription: String, generation: Int) -> Job? {
        state.withLock { state in
            guard state.generation == generation, var channel = state.channels[subscription] else { return nil }
            let job: Job? =
                switch channel.phase {
                case .handshake: .handshake(channel)
                case .active: channel.queue.first.map { .notify(channel, $0) }
                case .failed: nil
                }
            if job == nil {
                channel.running = false
                state.channels[subscription] = channel
            }
            return job
        }
    }

    func run(_ subscription: String, generation: Int) async {
        while let job = next(subscription, generation: generation) {
            switch job {
            case .handshake(let channel):
                let request = WebhookRequest(method: "POST", url: channel.endpoint, headers: channel.headers, body: [])
                let (delivered, error) = await attempt(request, subscription: subscription, kind: .handshake, event: nil, number: 1)
                settle(subscription, generation: generation, delivered: delivered, error: error.map { "handshake failed: \($0)" })
            case .notify(let channel, let event):
                guard let request = notification(event, channel: channel, subscription: subscription) else {
                    // Not an event of the subscription's topic: nothing to send.
                    dequeue(event, subscription: subscription, generation: generation)
                    continue
                }
                let policy = self.policy
                var error: String?
                var delivered = false
                for number in 1...policy.attempts {
                    if number > 1 {
                        let wait = policy.firstBackoffMilliseconds << min(number - 2, 16)
                        try? await Task.sleep(for: .milliseconds(wait))
                    }
                    (delivered, error) = await attempt(
                        request, subscription: subscription, kind: .notification, event: event, number: number)
                    if delivered || !stillCurrent(subscription, generation: generation) { break }
                }
                if delivered {
                    dequeue(event, subscription: subscription, generation: generation)
                } else {
                    settle(
                        subscription, generation: generation, delivered: false,
                        error: "\(policy.attempts) tries to deliver \(event.label) failed; last: \(error ?? "?")")
                }
            }
        }
    }

    func dequeue(_ event: Event, subscription: String, generation: Int) {
        state.withLock { state in
            guard state.generation == generation, state.channels[subscription]?.queue.first?.label == event.label else { return }
            state.channels[subscription]!.queue.removeFirst()
        }
    }

    func stillCurrent(_ subscription: String, generation: Int) -> Bool {
        state.withLock { $0.generation == generation && $0.channels[subscription] != nil }
    }

    /// R4: without a payload an empty POST to the endpoint; with one a PUT of the version to
    /// `{endpoint}/{type}/{id}`. A deletion has no payload form. A backport subscription: the
    /// service's notification POSTed, or nil when the change is not an event of its topic.
    func notification(_ event: Event, channel: Channel, subscription: String) -> WebhookRequest? {
        if let topic = channel.topic {
            guard let backport, !event.deleted, let body = event.body, let new = (try? JSONParser.parse(body))?.objectValue,
                topic.trigger(previous(event), new)
            else { return nil }
            let (payload, headers) = backport.notification(
                subscription: subscription, topic: topic, event: BackportEvent(type: event.type, id: event.id, resource: new),
                secret: channel.secret, now: service.clock.now())
            return WebhookRequest(
                method: "POST", url: channel.endpoint, headers: channel.headers + [("Content-Type", "application/fhir+json")] + headers,
                body: payload)
        }
        guard channel.payload, !event.deleted, let body = event.body else {
            return WebhookRequest(method: "POST", url: channel.endpoint, headers: channel.headers, body: [])
        }
        let base = channel.endpoint.hasSuffix("/") ? String(channel.endpoint.dropLast()) : channel.endpoint
        return WebhookRequest(
            method: "PUT", url: "\(base)/\(event.type)/\(event.id)",
            headers: channel.headers + [("Content-Type", "application/fhir+json")], body: body)
    }

    /// The version before `event`'s (nil for a first version).
    func previous(_ event: Event) -> JSONObject? {
        guard event.version > 1 else { return nil }
        let bodies = try? service.read { reader throws(FHIRError) in
            guard let current = try reader.keys(event.type, ids: [event.id]).first else { return [(VersionKey, [UInt8])]() }
            return try reader.bodies([VersionKey(rid: current.rid, type: event.type, id: event.id, version: event.version - 1)])
        }
        return bodies?.first.flatMap { (try? JSONParser.parse($0.1))?.objectValue }
    }

    /// One try, recorded. A 2xx answer delivers.
    func attempt(
        _ request: WebhookRequest, subscription: String, kind: DeliveryRecord.Kind, event: Event?, number: Int
    ) async -> (Bool, String?) {
        let timeout = policy.timeoutMilliseconds
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = await transport.send(request, timeoutMilliseconds: timeout)
        let elapsed = started.duration(to: clock.now)
        let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        let (delivered, status, error): (Bool, Int?, String?) =
            switch outcome {
            case .success(let code): ((200...299).contains(code), code, (200...299).contains(code) ? nil : "HTTP \(code)")
            case .failure(let failure): (false, nil, failure.reason)
            }
        let now = service.clock.now()
        state.withLock { state in
            Self.append(
                &state, subscription: subscription, kind: kind, event: event?.label, attempt: number, delivered: delivered, status: status,
                milliseconds: milliseconds, error: error, at: now)
        }
        return (delivered, error)
    }

    /// After a handshake (either way) or a notification that failed every try: the channel's
    /// phase, and the Subscription's stored `status` and `error`.
    func settle(_ subscription: String, generation: Int, delivered: Bool, error: String?) {
        let expected = state.withLock { state -> Channel.Phase? in
            guard state.generation == generation, var channel = state.channels[subscription] else { return nil }
            let before = channel.phase
            channel.phase = delivered ? .active : .failed
            if !delivered { channel.running = false }
            state.channels[subscription] = channel
            return before
        }
        guard let expected else { return }
        let from = expected == .handshake ? "requested" : "active"
        try? SubscriptionDesk.$serverWrite.withValue(true) {
            try service.write { writer throws(FHIRError) in
                // A client's change since (off, requested again, deleted) wins over this one.
                guard var (resource, _) = try writer.current("Subscription", subscription),
                    resource["status"]?.stringValue == from
                else { return }
                resource["status"] = .string(delivered ? "active" : "error")
                if let error { resource["error"] = .string(error) } else { resource["error"] = nil }
                try writer.put("Subscription", id: subscription, resource)
            }
        }
    }
}
