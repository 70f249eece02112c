import FHIRCore
import FHIRInteractions
import FHIRStore
import Synchronization

/// Opens MLLP connections (the server module's SwiftNIO client; tests give their own).
public protocol MLLPConnector: Sendable {
    func connect(host: String, port: Int, timeoutMilliseconds: Int) async throws -> any MLLPConnection
}

/// One MLLP connection: a framed message out, the framed answer back.
public protocol MLLPConnection: Sendable {
    /// Sends `message` and waits for one answer (throws when the connection closes or the answer
    /// does not come within the timeout).
    func exchange(_ message: String, timeoutMilliseconds: Int) async throws -> String
    func close() async
}

/// One sandbox tenant's outbound HL7 v2 feed: SIU for Appointment changes, ADT for Patient
/// changes, in commit order, to every destination. Each destination sends one message at a
/// time and waits for its ACK; a NAK (`AE`/`AR`/`CE`/`CR`) or a missing ACK resends the same
/// message after a backoff, a dropped connection reconnects; nothing queued is skipped.
public final class HL7Feed: Sendable {
    let service: FHIRService
    let builder: HL7Outbound
    let connector: any MLLPConnector
    let state = Mutex(State())
    /// Changes not yet turned into messages, in commit order.
    let pending = Mutex<(changes: [StoreChange], running: Bool)>(([], false))

    /// Messages kept per destination, sent or not (the oldest sent ones are forgotten first).
    static let keep = 1000
    /// Most unsent messages per destination.
    public static let queueLimit = 10000

    struct State {
        var destinations: [String: Destination] = [:]
        var order: [String] = []
        var counter = 0
        var generation = 0
    }

    struct Destination {
        let host: String
        let port: Int
        var messages: [Outgoing] = []
        var running = false
        var reconnects = 0
        var dropped = 0
        var lastError: String?
    }

    struct Outgoing {
        let controlID: String
        let type: String
        let event: String
        let text: String
        var state = "queued"
        var attempts = 0
        var ack: String?
        var error: String?
    }

    /// Told of every exchange with a destination: the message, the answer (nil: none came), and
    /// how long it took (the server's request journal).
    public typealias Exchange = @Sendable (_ destination: String, _ message: String, _ answer: String?, _ micros: Int) -> Void
    let exchanged: Exchange

    public init(service: FHIRService, builder: HL7Outbound, connector: any MLLPConnector, exchanged: @escaping Exchange = { _, _, _, _ in })
    {
        self.service = service
        self.builder = builder
        self.connector = connector
        self.exchanged = exchanged
    }

    /// Starts watching the tenant's commits (Appointment and Patient versions); `add` calls it.
    func start() {
        service.tenant.store.watchCommits(
            "hl7",
            CommitWatch(
                match: { _, _, _ in [] },
                committed: { [weak self] changes in self?.committed(changes) }))
    }

    /// Forgets every destination and stops watching.
    public func stop() {
        service.tenant.store.watchCommits("hl7", nil)
        state.withLock { state in
            state.destinations.removeAll()
            state.order.removeAll()
            state.generation += 1
        }
    }

    /// Drops every queued message (the data was reset); destinations stay.
    public func reset() {
        pending.withLock { $0.changes.removeAll() }
        state.withLock { state in
            for id in state.order {
                state.destinations[id]?.messages.removeAll { $0.state == "queued" }
            }
        }
    }

    /// Adds a destination (`host:port`); its id is `host:port`.
    public func add(host: String, port: Int) -> String {
        let id = "\(host):\(port)"
        let first = state.withLock { state in
            guard state.destinations[id] == nil else { return false }
            state.destinations[id] = Destination(host: host, port: port)
            state.order.append(id)
            return state.order.count == 1
        }
        if first { start() }
        return id
    }

    /// Removes a destination (its unsent messages are dropped); the last one stops the watch.
    @discardableResult
    public func remove(_ id: String) -> Bool {
        let (removed, empty) = state.withLock { state in
            state.order.removeAll { $0 == id }
            return (state.destinations.removeValue(forKey: id) != nil, state.order.isEmpty)
        }
        if removed, empty { service.tenant.store.watchCommits("hl7", nil) }
        return removed
    }

    public var hasDestinations: Bool { state.withLock { !$0.destinations.isEmpty } }

    /// Each destination with its counts and its latest messages (newest first).
    public func json(limit: Int = 50) -> JSON {
        state.withLock { state in
            .array(
                state.order.compactMap { id in
                    guard let destination = state.destinations[id] else { return nil }
                    let count = { (name: String) in destination.messages.filter { $0.state == name }.count }
                    return .object(
                        JSONObject([
                            "destination": .string(id), "queued": .int(count("queued")), "sent": .int(count("sent")),
                            "failed": .int(destination.messages.filter { $0.error != nil && $0.state == "queued" }.count),
                            "reconnects": .int(destination.reconnects), "dropped": .int(destination.dropped),
                            "lastError": destination.lastError.map(JSON.string) ?? .null,
                            "messages": .array(
                                destination.messages.suffix(limit).reversed().map { message in
                                    .object(
                                        JSONObject([
                                            "controlId": .string(message.controlID), "type": .string(message.type),
                                            "event": .string(message.event), "state": .string(message.state),
                                            "attempts": .int(message.attempts), "ack": message.ack.map(JSON.string) ?? .null,
                                            "error": message.error.map(JSON.string) ?? .null,
                                        ]))
                                }),
                        ]))
                })
        }
    }

    /// The next control id (MSH-10): unique and increasing within the feed.
    public func nextControlID() -> String {
        let number = state.withLock { state in
            state.counter += 1
            return state.counter
        }
        let digits = String(number)
        return "SBX" + String(repeating: "0", count: max(0, 10 - digits.count)) + digits
    }

    // MARK: - Changes → messages (one task, commit order)

    func committed(_ changes: [StoreChange]) {
        let relevant = changes.filter { $0.type == "Appointment" || $0.type == "Patient" }
        guard !relevant.isEmpty, hasDestinations else { return }
        let start = pending.withLock { pending in
            pending.changes += relevant
            defer { pending.running = true }
            return !pending.running
        }
        if start { Task { await self.build() } }
    }

    func build() async {
        while true {
            let batch = pending.withLock { pending in
                let batch = pending.changes
                pending.changes.removeAll()
                if batch.isEmpty { pending.running = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            for change in batch {
                guard let (message, event) = message(for: change) else { continue }
                enqueue(message, event: event)
            }
        }
    }

    func body(_ type: String, _ id: String, version: Int? = nil) -> JSONObject? {
        let stored: StoredResource?? =
            try? version.map { try service.tenant.store.read(type, id, version: $0) } ?? service.tenant.store.read(type, id)
        guard let found = stored ?? nil, !found.deleted, let bytes = found.body else { return nil }
        return (try? JSONParser.parse(bytes))?.objectValue
    }

    /// The message a change makes (nil: none), with its event label.
    func message(for change: StoreChange) -> (HL7Message, String)? {
        let new = change.body.flatMap { try? JSONParser.parse($0) }?.objectValue
        let old = change.version > 1 ? body(change.type, change.id, version: change.version - 1) : nil
        let now = service.clock.now()
        let event = "\(change.type)/\(change.id)/_history/\(change.version)"
        if change.type == "Patient" {
            guard let new, let trigger = HL7Outbound.patientTrigger(new, old: old) else { return nil }
            let survivor = HL7Outbound.survivor(of: new).flatMap { body("Patient", $0) }
            return (builder.adt(trigger: trigger, patient: new, survivor: survivor, controlID: nextControlID(), now: now), event)
        }
        guard let trigger = HL7Outbound.appointmentTrigger(new, old: old), var appointment = new ?? old else { return nil }
        timed(&appointment)
        func actor(_ type: String) -> JSONObject? {
            (appointment["participant"]?.arrayValue ?? []).lazy.compactMap { $0["actor"]?["reference"]?.stringValue }
                .compactMap(ReferenceSyntax.parse).first { $0.type == type }.flatMap { body(type, $0.id) }
        }
        return (
            builder.siu(
                trigger: trigger, appointment: appointment, id: change.id, patient: actor("Patient"), practitioner: actor("Practitioner"),
                location: actor("Location"), controlID: nextControlID(), now: now), event
        )
    }

    /// Start, end and duration from the appointment's slots when it does not carry them (R4
    /// lets a booking name only its slots).
    func timed(_ appointment: inout JSONObject) {
        guard appointment["start"] == nil || appointment["end"] == nil else { return }
        let ids = (appointment["slot"]?.arrayValue ?? []).compactMap { $0["reference"]?.stringValue.flatMap(ReferenceSyntax.parse)?.id }
        var slots: [(start: String, end: String, instant: Int64)] = []
        for id in ids {
            let (status, body) = service.call("GET", ["Slot", id])
            guard status == 200, let slot = body, let start = slot["start"]?.stringValue,
                let end = slot["end"]?.stringValue, let instant = FHIRDateTime.parse(start, form: .instant)?.startMilliseconds(in: .utc)
            else { continue }
            slots.append((start, end, instant))
        }
        slots.sort { $0.instant < $1.instant }
        guard let first = slots.first, let last = slots.last else { return }
        appointment["start"] = .string(first.start)
        appointment["end"] = .string(last.end)
        if appointment["minutesDuration"] == nil,
            let end = FHIRDateTime.parse(last.end, form: .instant)?.startMilliseconds(in: .utc)
        {
            appointment["minutesDuration"] = .int(Int((end - first.instant) / 60_000))
        }
    }

    func enqueue(_ message: HL7Message, event: String) {
        let outgoing = Outgoing(controlID: message.controlID, type: message.type, event: event, text: message.encoded)
        let wake: [(String, Int)] = state.withLock { state in
            var wake: [(String, Int)] = []
            for id in state.order {
                guard var destination = state.destinations[id] else { continue }
                destination.messages.append(outgoing)
                if destination.messages.filter({ $0.state == "queued" }).count > Self.queueLimit,
                    let oldest = destination.messages.firstIndex(where: { $0.state == "queued" })
                {
                    destination.messages[oldest].state = "dropped"
                    destination.dropped += 1
                }
                let sent = destination.messages.filter { $0.state != "queued" }.count
                if sent > Self.keep, let first = destination.messages.firstIndex(where: { $0.state != "queued" }) {
                    destination.messages.remove(at: first)
                }
                if !destination.running {
                    destination.running = true
                    wake.append((id, state.generation))
                }
                state.destinations[id] = destination
            }
            return wake
        }
        for (id, generation) in wake { Task { await self.send(id, generation: generation) } }
    }
}
