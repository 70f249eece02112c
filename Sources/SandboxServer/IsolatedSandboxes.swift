import FHIRCore
import FHIRStore
import Foundation
import Hummingbird
import SandboxAuth
import SandboxProfiles
import Synchronization

/// What the admin API acts on: the default sandbox (served at the root) or an isolated one
/// (served under `/sandboxes/{id}`). Each has its own tenants and clock.
protocol SandboxScope: Sendable {
    var mounts: [Sandbox.Mount] { get }
    var clock: SandboxClock { get }
    /// `""` for the default sandbox, `/sandboxes/{id}` otherwise.
    var prefix: String { get }
    /// Its test control: faults, rate limits, latency, staff actions, the request journal.
    var control: SandboxControl { get }
    func reset() throws(FHIRError)
}

extension SandboxScope {
    func mount(named name: String) -> Sandbox.Mount? { mounts.first { $0.profile.name == name } }

    /// Its recent requests.
    var journal: RequestJournal { control.journal }
}

extension Sandbox: SandboxScope {
    var prefix: String { "" }
}

/// One isolated sandbox: its own copies of the clinic for some profiles, its own clock, tokens,
/// locks and admin API, every URL under `/sandboxes/{id}`; it lapses after `ttl` seconds unused.
final class IsolatedSandbox: SandboxScope {
    let id: String
    let mounts: [Sandbox.Mount]
    let clock: SandboxClock
    let control: SandboxControl
    let created: Date
    let ttl: TimeInterval
    private let lastUsed: Mutex<Date>
    /// Answers the sandbox's own routes (FHIR, OAuth, admin), all under its prefix.
    private let responder: Mutex<RouterResponder<BasicRequestContext>?>
    /// The server's seeded snapshot, which a reset copies back in.
    private let snapshot: ResourceStore

    var prefix: String { "/sandboxes/\(id)" }

    init(id: String, mounts: [Sandbox.Mount], clock: SandboxClock, control: SandboxControl, ttl: TimeInterval, snapshot: ResourceStore) {
        self.id = id
        self.control = control
        self.mounts = mounts
        self.clock = clock
        self.ttl = ttl
        self.snapshot = snapshot
        created = Date()
        lastUsed = Mutex(created)
        responder = Mutex(nil)
        control.link.scope = self
    }

    func attach(_ router: RouterResponder<BasicRequestContext>) { responder.withLock { $0 = router } }

    var routes: RouterResponder<BasicRequestContext>? { responder.withLock { $0 } }

    func touch() { lastUsed.withLock { $0 = Date() } }

    var lastUse: Date { lastUsed.withLock { $0 } }

    var expiresAt: Date { lastUse.addingTimeInterval(ttl) }

    func reset() throws(FHIRError) { try Sandbox.reset(mounts, from: snapshot) }

    func summary(origin: String) -> JSONObject {
        var profiles = JSONObject()
        for mount in mounts {
            let base = origin + prefix
            var entry = JSONObject()
            entry["fhirBase"] = .string(base + mount.profile.fhirBase)
            entry["smartConfiguration"] = .string(base + mount.profile.fhirBase + "/.well-known/smart-configuration")
            if mount.profile.auth.mode != .anonymous {
                entry["tokenUrl"] = .string(base + mount.profile.auth.tokenPath)
                entry["authorizeUrl"] = .string(base + mount.profile.auth.authorizePath)
                entry["jwksUrl"] = .string(base + mount.profile.auth.jwksPath)
            }
            profiles[mount.profile.name] = .object(entry)
        }
        return JSONObject([
            "id": .string(id), "created": .string(InstantFormat.iso(Int64(created.timeIntervalSince1970 * 1000))),
            "lastUsed": .string(InstantFormat.iso(Int64(lastUse.timeIntervalSince1970 * 1000))),
            "expiresAt": .string(InstantFormat.iso(Int64(expiresAt.timeIntervalSince1970 * 1000))),
            "ttlSeconds": .int(Int(ttl)), "profiles": .object(profiles), "admin": .string(origin + prefix + "/_admin"),
        ])
    }
}

/// Isolated sandboxes by id, at most `limit`; expired ones are dropped whenever the table is used.
final class IsolatedSandboxes: Sendable {
    let limit: Int
    private let table = Mutex<[String: IsolatedSandbox]>([:])

    init(limit: Int) { self.limit = limit }

    /// The live sandbox with this id (an expired one is dropped and not found).
    func sandbox(_ id: String) -> IsolatedSandbox? {
        table.withLock { table in
            guard let sandbox = table[id] else { return nil }
            if sandbox.expiresAt < Date() {
                table[id] = nil
                return nil
            }
            return sandbox
        }
    }

    /// Every live sandbox, oldest first.
    var all: [IsolatedSandbox] {
        table.withLock { table in
            Self.sweep(&table)
            return table.values.sorted { ($0.created, $0.id) < ($1.created, $1.id) }
        }
    }

    enum Insertion {
        case inserted, exists(IsolatedSandbox), full
    }

    /// Adds `sandbox` unless its id is taken or the table is full (expired ones do not count).
    func insert(_ sandbox: IsolatedSandbox) -> Insertion {
        table.withLock { table in
            Self.sweep(&table)
            if let existing = table[sandbox.id] { return .exists(existing) }
            guard table.count < limit else { return .full }
            table[sandbox.id] = sandbox
            return .inserted
        }
    }

    @discardableResult func remove(_ id: String) -> Bool { table.withLock { $0.removeValue(forKey: id) != nil } }

    private static func sweep(_ table: inout [String: IsolatedSandbox]) {
        let now = Date()
        table = table.filter { $0.value.expiresAt >= now }
    }
}
