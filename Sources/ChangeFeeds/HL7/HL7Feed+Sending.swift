import FHIRCore
import Synchronization

/// The sending side: one task per destination while it has queued messages.
extension HL7Feed {
    /// How long an ACK may take, how long a connection may take to open, and the backoff
    /// between tries (doubled after each failure, up to the cap).
    static let ackTimeoutMilliseconds = 5000
    static let connectTimeoutMilliseconds = 2000
    static let firstBackoffMilliseconds = 200
    static let maxBackoffMilliseconds = 5000

    func send(_ id: String, generation: Int) async {
        var connection: (any MLLPConnection)?
        var failures = 0
        while let (host, port, message) = nextMessage(id, generation: generation) {
            if failures > 0 {
                let wait = min(Self.maxBackoffMilliseconds, Self.firstBackoffMilliseconds << min(failures - 1, 10))
                try? await Task.sleep(for: .milliseconds(wait))
            }
            if connection == nil {
                do {
                    connection = try await connector.connect(host: host, port: port, timeoutMilliseconds: Self.connectTimeoutMilliseconds)
                } catch {
                    failures += 1
                    note(id, controlID: message.controlID, attempt: false, ack: nil, error: "cannot connect: \(error)", reconnect: false)
                    continue
                }
            }
            let clock = ContinuousClock()
            let started = clock.now
            func micros() -> Int {
                let elapsed = started.duration(to: clock.now).components
                return Int(elapsed.seconds) * 1_000_000 + Int(elapsed.attoseconds / 1_000_000_000_000)
            }
            do {
                let answer = try await connection!.exchange(message.text, timeoutMilliseconds: Self.ackTimeoutMilliseconds)
                exchanged(id, message.text, answer, micros())
                let reply = try? HL7Message.parse(answer)
                let code = reply?.segment("MSA")?[1].text ?? ""
                let acknowledged = reply?.segment("MSA")?[2].text == message.controlID
                if (code == "AA" || code == "CA") && acknowledged {
                    failures = 0
                    note(id, controlID: message.controlID, attempt: true, ack: code, error: nil, reconnect: false, sent: true)
                } else {
                    failures += 1
                    let text = reply?.segment("MSA")?[3].text ?? reply?.segment("ERR")?[8].text ?? ""
                    let why = acknowledged || reply == nil ? "NAK \(code.isEmpty ? "(not an ACK)" : code)" : "ACK for another message"
                    note(
                        id, controlID: message.controlID, attempt: true, ack: code, error: text.isEmpty ? why : "\(why): \(text)",
                        reconnect: false)
                }
            } catch {
                exchanged(id, message.text, nil, micros())
                failures += 1
                await connection?.close()
                connection = nil
                note(id, controlID: message.controlID, attempt: true, ack: nil, error: "\(error)", reconnect: true)
            }
        }
        await connection?.close()
    }

    /// The oldest queued message of a destination, or nil (and its task ends).
    func nextMessage(_ id: String, generation: Int) -> (String, Int, Outgoing)? {
        state.withLock { state in
            guard state.generation == generation, var destination = state.destinations[id] else { return nil }
            guard let message = destination.messages.first(where: { $0.state == "queued" }) else {
                destination.running = false
                state.destinations[id] = destination
                return nil
            }
            return (destination.host, destination.port, message)
        }
    }

    func note(
        _ id: String, controlID: String, attempt: Bool, ack: String?, error: String?, reconnect: Bool, sent: Bool = false
    ) {
        state.withLock { state in
            guard var destination = state.destinations[id],
                let index = destination.messages.firstIndex(where: { $0.controlID == controlID && $0.state == "queued" })
            else { return }
            if attempt { destination.messages[index].attempts += 1 }
            if let ack { destination.messages[index].ack = ack }
            destination.messages[index].error = error
            if sent { destination.messages[index].state = "sent" }
            if reconnect { destination.reconnects += 1 }
            if let error { destination.lastError = error }
            state.destinations[id] = destination
        }
    }
}
