import ChangeFeeds
import FHIRCore
import FHIRInteractions
import FHIRSearch
import FHIRStore
import Foundation
import SandboxAuth
import SandboxFaults
import SandboxProfiles
import SandboxSeed
import Scheduling
import Synchronization

/// The composition root: loads the profiles, the seed and the OAuth clients, writes the seeded
/// clinic once, and for each mounted profile compiles it (`ProfileCompiler`), makes its tenant
/// state and binds the two. Vendor decisions live in the compiler, not here.
public final class Sandbox: Sendable {
    /// One mounted profile: the compiled profile bound to its tenant, served under `prefix`
    /// (empty for the default sandbox, `/sandboxes/{id}` for an isolated one).
    public struct Mount: Sendable {
        public let runtime: ProfileRuntime
        public var prefix = ""
        /// Test control of the sandbox this mount belongs to (shared by its mounts): faults,
        /// rate limits, latency, staff actions, the request journal.
        let control: SandboxControl
        /// The tenant's outbound HL7 v2 feed (destinations added by `--hl7-out` or the admin API).
        let feed: HL7Feed

        init(runtime: ProfileRuntime, control: SandboxControl, seed: Seed) {
            self.runtime = runtime
            self.control = control
            let journal = control.journal
            let profile = runtime.compiled.profile.name
            let clock = runtime.state.clock
            feed = HL7Feed(
                service: runtime.pipeline.service, builder: Self.hl7Builder(runtime.compiled.profile, seed: seed), connector: MLLPClient(),
                exchanged: { destination, message, answer, micros in
                    journal.recordHL7(
                        profile: profile, direction: "out", peer: destination, message: message, answer: answer, micros: micros,
                        sandboxTime: clock.now())
                })
            // The profile's own destinations (`hl7.outbound`), for every sandbox of it.
            for destination in runtime.compiled.profile.hl7Outbound {
                guard let peer = SandboxConfiguration.HL7Peer.parse(destination, portOnly: false) else { continue }
                _ = feed.add(host: peer.host, port: peer.port)
            }
        }

        /// What the profile's HL7 v2 messages say about their sender (`hl7.application`, `hl7.facility`).
        static func hl7Builder(_ profile: Profile, seed: Seed) -> HL7Outbound {
            var builder = HL7Outbound(facility: profile.hl7Facility ?? seed.facility, zone: seed.zone)
            if let application = profile.hl7Application { builder.sendingApplication = application }
            return builder
        }

        /// The requests of the sandbox this mount belongs to.
        var journal: RequestJournal { control.journal }

        /// Stored properties all the way down (not `runtime.profile`, a getter in another
        /// module that returns a copy of the whole profile: dozens of reference counts per
        /// use, contended between cores, about 5 µs per request on the fault path).
        public var profile: Profile { runtime.compiled.profile }
        public var tenant: Tenant { runtime.state.tenant }
        public var state: TenantState { runtime.state }
        public var pipeline: FHIRPipeline { runtime.pipeline }
        /// The profile's further bases over the same tenant (an STU3 base), with their pipelines.
        public var otherBases: [(base: Profile.Base, pipeline: FHIRPipeline)] { runtime.otherBases }
        /// The profile's SMART authorization server.
        public var auth: AuthorizationServer { runtime.auth }
        /// How the profile shows ids (stored ↔ vendor).
        public var ids: any IDScheme { runtime.compiled.ids }

        /// Every FHIR base path of the profile (the main one first, with the prefix) with its pipeline.
        public var bases: [(base: String, pipeline: FHIRPipeline)] {
            [(prefix + profile.fhirBase, pipeline)] + otherBases.map { (prefix + $0.base.fhirBase, $0.pipeline) }
        }

        /// The absolute FHIR base URLs this profile's tokens are valid for (their `aud`): each
        /// of its bases at the public URL or at an allowed name of the bound address. A token of
        /// one sandbox names its prefix, so no other sandbox takes it.
        public func audiences(_ hosts: HostPolicy) -> [String] {
            let main = hosts.audiences(of: prefix + profile.fhirBase)
            return profile.otherBases.isEmpty ? main : main + profile.otherBases.flatMap { hosts.audiences(of: prefix + $0.fhirBase) }
        }
    }

    public static let version = "0.1.0"

    public let configuration: SandboxConfiguration
    public let seed: Seed
    public let clock: SandboxClock
    public let random: RandomSource
    public let registry: SearchRegistry
    public let mounts: [Mount]
    /// OAuth clients known to every profile (the seed's `clients.yaml` and run-time additions).
    public let clients: ClientRegistry
    /// Signs every profile's access tokens (the seed's `keys/server-es256.pem`).
    public let signer: TokenSigner
    /// The seeded clinic, loaded once; tenants are copies of it.
    let snapshot: ResourceStore
    /// The names this server answers to, and the origin it names itself by.
    public let hosts: HostPolicy
    /// Where clients' `jwksUri` key sets may be fetched from.
    public let jwksAllowList: FetchAllowList
    /// The mounted profiles, compiled once: every sandbox's tenants bind to these.
    public let compiled: [CompiledProfile]
    let environment: CompileEnvironment
    /// Extracts index values (shared by every tenant).
    let extractor: IndexExtractor
    /// Isolated sandboxes (`/sandboxes/{id}`), created through the admin API.
    let isolated: IsolatedSandboxes
    /// Certification runs driven over the admin API (`/_admin/certifications`).
    let certifications = CertificationRuns()
    /// The default sandbox's test control (faults, limits, latency, staff actions, journal).
    let control: SandboxControl
    var journal: RequestJournal { control.journal }

    /// Loads profiles and seed and seeds every tenant. Throws `SandboxError` with a one-line reason.
    public init(
        configuration: SandboxConfiguration, clock: SandboxClock, random: RandomSource = .system()
    ) throws(SandboxError) {
        self.configuration = configuration
        self.clock = clock
        self.random = random
        hosts = HostPolicy(configuration: configuration)
        // Slots are served from the slot table, which implements these parameters.
        registry = SearchRegistry.r4.restricting("Slot", to: SlotProvider.parameters)
        var profiles: [Profile]
        do {
            profiles = try ProfileLoader.loadAll(directory: configuration.profilesDirectory)
        } catch {
            throw SandboxError(error.description)
        }
        if let wanted = configuration.profiles {
            let unknown = wanted.filter { name in !profiles.contains { $0.name == name } }
            guard unknown.isEmpty else {
                throw SandboxError(
                    "unknown profile(s) \(unknown.joined(separator: ", ")); available: \(profiles.map(\.name).joined(separator: ", "))")
            }
            profiles = profiles.filter { wanted.contains($0.name) }
        }
        let loaded: Seed
        do {
            loaded = try SeedLoader.load(directory: configuration.seedDirectory)
        } catch {
            throw SandboxError("cannot load seed: \(error.message)")
        }
        seed = loaded.droppingResources()
        // Paths that name the practice (`{practiceCode}`) take the seed's.
        profiles = profiles.map { $0.filled(practiceCode: loaded.practiceCode) }
        (clients, signer) = try Self.loadAuth(seedDirectory: configuration.seedDirectory)
        jwksAllowList = FetchAllowList(urls: clients.all.compactMap(\.jwksURI), extra: configuration.jwksAllow)
        let jwksAllowList = jwksAllowList
        var environment = CompileEnvironment(
            seed: loaded, registry: registry, clock: clock, random: random, clients: clients, signer: signer,
            remoteKeys: { RemoteKeys(allowed: jwksAllowList, fetch: HTTPFetch.get) }, softwareVersion: Self.version)
        environment.webhooks = WebhookSender()
        self.environment = environment
        isolated = IsolatedSandboxes(limit: configuration.maxSandboxes)
        let control = Self.control(
            profiles, rateLimits: configuration.rateLimits ? .defaults : .off, latency: configuration.latencyProfile ? .profile : .off)
        self.control = control
        extractor = IndexExtractor(registry: registry, zone: loaded.zone)
        do {
            snapshot = try ClinicSnapshot.make(seed: loaded, registry: registry, at: clock.now())
            if let directory = configuration.dataDirectory {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            var mounts: [Mount] = []
            var compiled: [CompiledProfile] = []
            for profile in profiles {
                let profileCompiled = ProfileCompiler.compile(profile, environment: environment)
                compiled.append(profileCompiled)
                let path = configuration.dataDirectory.map { "\($0)/\(profile.name).sqlite" }
                let store = try ResourceStore(path: path, extractor: extractor, maxBytes: configuration.maxSandboxBytes)
                // An empty store is seeded from the snapshot on its first request.
                let state = try TenantState(name: profile.name, store: store, snapshot: snapshot, environment: environment)
                mounts.append(Mount(runtime: try profileCompiled.bind(state), control: control, seed: loaded))
            }
            self.mounts = mounts
            self.compiled = compiled
            for peer in configuration.hl7Out {
                guard let mount = mounts.first(where: { $0.profile.name == peer.profile }) else {
                    throw SandboxError("--hl7-out names profile '\(peer.profile)', which is not mounted")
                }
                _ = mount.feed.add(host: peer.host, port: peer.port)
            }
            control.link.scope = self
            // Seeding parses and renders the whole clinic; give the freed heap back to the OS.
            #if os(Linux)
                _ = releaseFreedHeap(0)
            #endif
        } catch let error as FHIRError {
            throw SandboxError("cannot prepare storage: \(error.message)")
        } catch {
            throw SandboxError("cannot prepare storage: \(error.localizedDescription)")
        }
    }

    /// A profile with its paths' placeholders filled from the seed (`{practiceCode}`).
    public static func filled(_ profile: Profile, seedDirectory: String) throws(SandboxError) -> Profile {
        do {
            return profile.filled(practiceCode: try SeedLoader.load(directory: seedDirectory).practiceCode)
        } catch {
            throw SandboxError("cannot load seed: \(error.message)")
        }
    }

    /// The seed's OAuth clients (`clients.yaml`, optional) and token-signing key
    /// (`keys/server-es256.pem`, optional: a throwaway key otherwise).
    public static func loadAuth(seedDirectory: String) throws(SandboxError) -> (ClientRegistry, TokenSigner) {
        let clientsFile = "\(seedDirectory)/clients.yaml"
        var clients: [OAuthClient] = []
        if FileManager.default.fileExists(atPath: clientsFile) {
            do {
                clients = try OAuthClient.load(file: clientsFile)
            } catch {
                throw SandboxError("cannot load seed clients: \(error)")
            }
        }
        let keyFile = "\(seedDirectory)/keys/server-es256.pem"
        var signer = TokenSigner()
        if let pem = try? String(contentsOfFile: keyFile, encoding: .utf8) {
            do {
                signer = try TokenSigner(pem: pem)
            } catch {
                throw SandboxError("\(keyFile): \(error.description)")
            }
        }
        return (ClientRegistry(clients), signer)
    }

    /// Tenants of `profiles` (nil: every mounted one) for an isolated sandbox served under
    /// `prefix`, each an in-memory copy of the snapshot (made on its first request) on `clock`.
    func makeMounts(prefix: String, profiles: [String]?, clock: SandboxClock, control: SandboxControl) throws(FHIRError) -> [Mount] {
        var mounts: [Mount] = []
        for profile in compiled where profiles?.contains(profile.profile.name) ?? true {
            // No schema: the copy of the snapshot brings it, on the first request.
            let store = try ResourceStore(path: nil, extractor: extractor, maxBytes: configuration.maxSandboxBytes, schema: false)
            let state = try TenantState(
                name: profile.profile.name, store: store, snapshot: snapshot, environment: environment, clock: clock, fresh: true)
            var mount = Mount(runtime: try profile.bind(state), control: control, seed: environment.seed)
            mount.prefix = prefix
            mounts.append(mount)
        }
        return mounts
    }

    /// Test control for a sandbox of `profiles`, with their rate limits.
    static func control(_ profiles: [Profile], rateLimits: RateLimiter.Mode, latency: LatencySwitch.Mode) -> SandboxControl {
        SandboxControl(
            limits: Dictionary(uniqueKeysWithValues: profiles.map { ($0.name, $0.rateLimits) }), rateLimits: rateLimits, latency: latency)
    }

    /// Every tenant back to the seeded state, and the OAuth clients back to the seed's.
    public func reset() throws(FHIRError) {
        try Self.reset(mounts, from: snapshot)
        clients.reset()
    }

    /// `mounts`' tenants back to `snapshot` (their data, pages, locks, holds and issued codes;
    /// fetched client key sets forgotten).
    static func reset(_ mounts: [Mount], from snapshot: ResourceStore) throws(FHIRError) {
        for mount in mounts {
            try mount.state.reset(from: snapshot)
            mount.runtime.subscriptions?.reset()
            mount.feed.reset()
            mount.auth.forgetFetchedKeys()
        }
    }

    /// The MLLP listeners started for `--hl7-in-port` (profile, bound port).
    public var hl7Listeners: [(profile: String, port: Int)] { listeners.withLock { $0 } }
    let listeners = Mutex<[(profile: String, port: Int)]>([])

    /// Binds an MLLP listener per `--hl7-in-port`: each inbound message is applied to its
    /// profile's data (`HL7Inbound`) and answered on the same connection.
    public func startHL7Listeners() async throws(SandboxError) {
        // The profiles' own listeners (`hl7.inboundPort`), unless the command line places them.
        let defaults = mounts.compactMap { mount in
            mount.profile.hl7InboundPort.map {
                SandboxConfiguration.HL7Peer(profile: mount.profile.name, host: configuration.host, port: $0)
            }
        }.filter { peer in !configuration.hl7In.contains { $0.profile == peer.profile } }
        for peer in configuration.hl7In + defaults {
            guard let mount = mounts.first(where: { $0.profile.name == peer.profile }) else {
                throw SandboxError("--hl7-in-port names profile '\(peer.profile)', which is not mounted")
            }
            let listener = MLLPListener(host: configuration.host, port: peer.port) { [mount, seed] text in
                await Self.answerHL7(text, mount: mount, seed: seed)
            }
            do {
                let port = try await listener.start()
                listeners.withLock { $0.append((peer.profile, port)) }
            } catch {
                throw SandboxError("cannot listen for HL7 on \(configuration.host):\(peer.port): \(error)")
            }
        }
    }

    /// The answer to one inbound HL7 message (an ACK, SRR or NAK), journaled.
    static func answerHL7(_ text: String, mount: Mount, seed: Seed) async -> String? {
        let started = ContinuousClock.now
        let inbound = HL7Inbound(
            service: mount.runtime.ehr, outbound: Mount.hl7Builder(mount.profile, seed: seed),
            visitTypeSystem: AppointmentType.system)
        let controlID = mount.feed.nextControlID()
        let reply: HL7Message
        do {
            reply = inbound.process(try HL7Message.parse(text), controlID: controlID)
        } catch {
            // Their control id, if MSH-10 can be found at all.
            let fields = text.prefix { $0 != "\r" && $0 != "\n" }.split(separator: "|", omittingEmptySubsequences: false)
            reply = inbound.rejection(error, controlID: controlID, theirs: fields.count > 9 ? String(fields[9]) : "")
        }
        let answer = reply.encoded
        mount.journal.recordHL7(
            profile: mount.profile.name, direction: "in", peer: "mllp", message: text, answer: answer,
            micros: FHIRController.micros(ContinuousClock.now - started), sandboxTime: mount.state.clock.now())
        return answer
    }

    /// Writes every tenant database's log into the database file (`--data-dir`), so the files
    /// are complete on their own after a shutdown.
    public func flush() {
        for mount in mounts { try? mount.tenant.store.checkpoint() }
    }
}

/// Why the sandbox could not start: one line for the user.
public struct SandboxError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

#if os(Linux)
    /// glibc's `malloc_trim` (not in Swift's Glibc module map): returns freed heap pages to the OS.
    @_silgen_name("malloc_trim")
    private func releaseFreedHeap(_ pad: Int) -> Int32
#endif
