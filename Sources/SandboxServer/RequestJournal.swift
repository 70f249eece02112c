import ChangeFeeds
import FHIRCore
import Foundation
import HTTPTypes
import SandboxFaults
import Synchronization

/// A sandbox's recent requests to its vendor bases and OAuth endpoints, newest first: what was
/// asked, what was answered, by which client with which scopes. A ring buffer of `capacity`
/// entries; bodies are kept up to `bodyLimit` bytes; bearer tokens, client secrets, assertions,
/// codes and verifiers are redacted. `GET /_admin/requests` reads it.
final class RequestJournal: Sendable {
    static let capacity = 1000
    static let bodyLimit = 16 * 1024

    /// One side of an exchange, kept as cheaply as it came (no copy of small bodies, headers as
    /// the framework holds them); redaction happens when the journal is read.
    struct Message: Sendable {
        enum Headers: Sendable {
            case fields(HTTPFields)
            case list([(name: String, value: String)])
        }

        var headers: Headers
        var body: [UInt8]
        var truncated: Bool

        init(headers: Headers, body: [UInt8]?) {
            self.headers = headers
            let bytes = body ?? []
            // Small bodies are shared, not copied; large ones keep their first `bodyLimit` bytes.
            self.body = bytes.count <= RequestJournal.bodyLimit ? bytes : Array(bytes.prefix(RequestJournal.bodyLimit))
            truncated = bytes.count > RequestJournal.bodyLimit
        }

        /// The headers with credentials redacted.
        var redactedHeaders: [(name: String, value: String)] {
            let list: [(name: String, value: String)]
            switch headers {
            case .fields(let fields): list = fields.map { ($0.name.canonicalName, $0.value) }
            case .list(let headers): list = headers
            }
            return list.map { (name: $0.name, value: RequestJournal.redact(header: $0.name, $0.value)) }
        }
    }

    /// One exchange. A class: the ring holds references, so recording copies no fields.
    final class Entry: Sendable {
        let id: Int
        let wallTime: Int64
        let sandboxTime: Int64
        let profile: String?
        let method: String
        let path: String
        let query: String
        let status: Int
        let durationMicros: Int
        let clientID: String?
        /// The token's grants (rendered as scopes when read).
        let grants: [Access.Grant]?
        let request: Message
        let response: Message
        /// The fault rule or rate limit that decided the answer, if one did.
        let fault: FaultNote?

        init(
            id: Int, wallTime: Int64, sandboxTime: Int64, profile: String?, method: String, path: String, query: String, status: Int,
            durationMicros: Int, clientID: String?, grants: [Access.Grant]?, request: Message, response: Message,
            fault: FaultNote? = nil
        ) {
            self.fault = fault
            self.id = id
            self.wallTime = wallTime
            self.sandboxTime = sandboxTime
            self.profile = profile
            self.method = method
            self.path = path
            self.query = query
            self.status = status
            self.durationMicros = durationMicros
            self.clientID = clientID
            self.grants = grants
            self.request = request
            self.response = response
        }
    }

    private let state = Mutex<(next: Int, entries: [Entry], start: Int)>((1, [], 0))
    /// Entry ids, in order.
    private let ids = Atomic<Int>(1)

    /// Adds the entry `make` builds for the next id, dropping the oldest beyond `capacity`.
    func record(_ make: (Int) -> Entry) {
        let entry = make(ids.wrappingAdd(1, ordering: .relaxed).oldValue)
        state.withLock { state in
            if state.entries.count < Self.capacity {
                state.entries.append(entry)
            } else {
                state.entries[state.start] = entry
                state.start = (state.start + 1) % Self.capacity
            }
        }
    }

    /// An HL7 v2 exchange over MLLP: method `HL7`, path `/hl7/{in|out}/{peer}/{MSH-9}`, query
    /// `controlId=…&ack=…`, status 200 for `AA`/`CA`, 422 for `AE`/`CE`, 400 for `AR`/`CR`, 0 when
    /// no answer came; the message and the answer as the bodies.
    func recordHL7(
        profile: String, direction: String, peer: String, message: String, answer: String?, micros: Int, sandboxTime: Int64
    ) {
        let parsed = try? HL7Message.parse(message)
        let reply = answer.flatMap { try? HL7Message.parse($0) }
        let ack = reply?.segment("MSA")?[1].text ?? ""
        let status =
            switch ack {
            case "AA", "CA": 200
            case "AE", "CE": 422
            case "AR", "CR": 400
            default: 0
            }
        let type = parsed?.type ?? "unreadable"
        record { id in
            Entry(
                id: id, wallTime: Int64(Date().timeIntervalSince1970 * 1000), sandboxTime: sandboxTime, profile: profile, method: "HL7",
                path: "/hl7/\(direction)/\(peer)/\(type)",
                query: "controlId=\(parsed?.controlID ?? "")&ack=\(ack)", status: status, durationMicros: micros, clientID: nil,
                grants: nil, request: Message(headers: .list([]), body: Array(message.utf8)),
                response: Message(headers: .list([]), body: answer.map { Array($0.utf8) }))
        }
    }

    /// Every entry, newest first.
    var all: [Entry] {
        state.withLock { state in
            let ordered = Array(state.entries[state.start...]) + Array(state.entries[..<state.start])
            return ordered.reversed()
        }
    }

    func clear() { state.withLock { $0 = (next: $0.next, entries: [], start: 0) } }

    // MARK: Redaction

    static let secretFields: Set<String> = [
        "client_secret", "client_assertion", "code", "code_verifier", "refresh_token", "token", "password", "assertion",
    ]

    static func redact(header name: String, _ value: String) -> String {
        switch name.lowercased() {
        case "authorization":
            let scheme = value.split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
            return scheme.isEmpty ? "<redacted>" : "\(scheme) <redacted>"
        case "cookie", "set-cookie", "proxy-authorization", "x-hub-secret": return "<redacted>"
        default: return value
        }
    }

    /// A form body (`application/x-www-form-urlencoded`) with its secrets replaced.
    static func redact(form bytes: [UInt8]) -> [UInt8] { Array(redact(query: String(decoding: bytes, as: UTF8.self)).utf8) }

    /// `location` with its query's secret parameters (`code`) replaced.
    static func redact(location value: String) -> String {
        guard let mark = value.firstIndex(of: "?") else { return value }
        return String(value[..<mark]) + "?" + redact(query: String(value[value.index(after: mark)...]))
    }

    /// A query string with its secret parameters replaced.
    static func redact(query: String) -> String {
        guard !query.isEmpty else { return query }
        return QueryString.encode(QueryString.parse(query).map { ($0.name, secretFields.contains($0.name) ? "<redacted>" : $0.value) })
    }

    // MARK: Reading

    struct Filter {
        var profile: String?
        var method: String?
        var path: String?
        var status: Int?
        var clientID: String?
        var since: Int64?
        var limit = 100
    }

    func entries(_ filter: Filter) -> [Entry] {
        var result: [Entry] = []
        for entry in all {
            if let profile = filter.profile, entry.profile != profile { continue }
            if let method = filter.method, entry.method.uppercased() != method.uppercased() { continue }
            if let path = filter.path, !Glob.matches(path, entry.path) { continue }
            if let status = filter.status, entry.status != status { continue }
            if let client = filter.clientID, entry.clientID != client { continue }
            if let since = filter.since, entry.wallTime < since { continue }
            result.append(entry)
            if result.count >= filter.limit { break }
        }
        return result
    }

    func entry(id: Int) -> Entry? { all.first { $0.id == id } }

    static func json(_ entry: Entry, full: Bool) -> JSON {
        func message(_ message: Message) -> JSON {
            var object = JSONObject()
            var headers = JSONObject()
            for header in message.redactedHeaders { headers[header.name.lowercased()] = .string(header.value) }
            object["headers"] = .object(headers)
            if full {
                object["body"] = message.body.isEmpty ? .null : .string(String(decoding: message.body, as: UTF8.self))
                object["bodyTruncated"] = .bool(message.truncated)
            }
            return .object(object)
        }
        var object = JSONObject()
        object["id"] = .int(entry.id)
        object["time"] = .string(InstantFormat.iso(entry.wallTime))
        object["sandboxTime"] = .string(InstantFormat.iso(entry.sandboxTime))
        object["profile"] = entry.profile.map(JSON.string) ?? .null
        object["method"] = .string(entry.method)
        object["path"] = .string(entry.path)
        object["query"] = .string(entry.query)
        object["status"] = .int(entry.status)
        object["durationMs"] = .number(String(format: "%.3f", Double(entry.durationMicros) / 1000))
        object["clientId"] = entry.clientID.map(JSON.string) ?? .null
        object["scopes"] = entry.grants.map { .array($0.map { .string(scope($0)) }) } ?? .null
        object["request"] = message(entry.request)
        object["response"] = message(entry.response)
        object["fault"] = entry.fault?.json ?? .null
        return .object(object)
    }

    /// A grant as a SMART v2 scope (`system/Patient.rs`).
    static func scope(_ grant: Access.Grant) -> String {
        let actions = Access.Action.allCases.filter(grant.actions.contains).map { String($0.rawValue) }.joined()
        return "\(grant.level.rawValue)/\(grant.type).\(actions)"
    }
}
