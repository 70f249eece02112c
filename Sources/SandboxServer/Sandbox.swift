import FHIRCore
import FHIRInteractions
import FHIRSearch
import FHIRStore
import Foundation
import SandboxAuth
import SandboxProfiles
import SandboxSeed
import Scheduling

/// The composition root: the seed, the clock, the random source, a snapshot of the seeded
/// clinic, and one tenant per mounted profile.
public final class Sandbox: Sendable {
    /// One mounted profile: its tenant and the pipeline that answers its FHIR requests.
    public struct Mount: Sendable {
        public let profile: Profile
        public let tenant: Tenant
        public let pipeline: FHIRPipeline
        /// The profile's further bases over the same tenant (Epic's STU3 base), with their pipelines.
        public let otherBases: [(base: Profile.Base, pipeline: FHIRPipeline)]
        /// Keeps the tenant's slots reaching the planning horizon.
        public let horizon: SlotHorizon
        /// The tenant's `$find` proposals and `$hold`s.
        public let scheduling: SchedulingContext
        /// The profile's SMART authorization server.
        public let auth: AuthorizationServer
        /// The vendor's paging contexts (nil: the engine's own links).
        public let paging: PagingStyle?
        /// How the profile shows ids (stored ↔ vendor).
        public let ids: IDMapper

        /// The absolute FHIR base URLs this profile's tokens are valid for (their `aud`): each
        /// of its bases at the public URL or at an allowed name of the bound address.
        public func audiences(_ hosts: HostPolicy) -> [String] {
            let main = hosts.audiences(of: profile.fhirBase)
            return profile.otherBases.isEmpty ? main : main + profile.otherBases.flatMap { hosts.audiences(of: $0.fhirBase) }
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
        (clients, signer) = try Self.loadAuth(seedDirectory: configuration.seedDirectory)
        let displays = loaded.codeDisplays()
        jwksAllowList = FetchAllowList(urls: clients.all.compactMap(\.jwksURI), extra: configuration.jwksAllow)
        let jwksAllowList = jwksAllowList
        let extractor = IndexExtractor(registry: registry, zone: loaded.zone)
        do {
            snapshot = try ResourceStore(path: nil, extractor: extractor)
            try Self.load(seed: loaded, into: snapshot, at: clock.now())
            if let directory = configuration.dataDirectory {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            var mounts: [Mount] = []
            for profile in profiles {
                let path = configuration.dataDirectory.map { "\($0)/\(profile.name).sqlite" }
                let store = try ResourceStore(path: path, extractor: extractor, maxBytes: configuration.maxSandboxBytes)
                // An empty store is seeded from the snapshot on its first request.
                let tenant = Tenant(name: profile.name, store: store, seedFrom: try store.metadata("seed") == nil ? snapshot : nil)
                let seededAt =
                    try store.metadata("seededAt").flatMap { FHIRDateTime.parse($0, form: .instant) }?
                    .startMilliseconds(in: .utc) ?? clock.now()
                let slots = SlotProvider(
                    renderer: SlotRenderer(
                        seed: seed, displays: displays, utc: profile.utcTimes, locationExtension: profile.slotLocationExtension),
                    holdsByPatch: profile.rules.interactions["Slot"]?.contains("patch") ?? false)
                let booking = AppointmentBooking(seed: seed, registry: registry, style: profile.writes.appointments, displays: displays)
                var hooks: [String: any WriteHook] = ["Appointment": booking]
                if let score = profile.duplicatePatientScore {
                    hooks["Patient"] = DuplicatePatients(threshold: score, parser: SearchQueryParser(registry: registry, zone: loaded.zone))
                }
                let horizon = SlotHorizon(seed: seed, store: store, clock: clock, seededAt: seededAt)
                var settings = FHIRServiceSettings()
                settings.defaultPageSize = profile.defaultPageSize
                settings.maxPageSize = profile.maxPageSize
                settings.strictByDefault = profile.unknownParameters == .strict
                settings.rules = profile.rules
                let scheduling = SchedulingContext(seed: seed, displays: displays, holdMinutes: seed.holdMinutes)
                let registry = registry
                let zone = loaded.zone
                // One base's service: the profile's tenant, hooks and slots, with its own surface
                // (types and search parameters: parsing and the CapabilityStatement follow it;
                // indexes are still extracted with the full registry, shared by every tenant).
                func makeService(
                    types: Set<String>, searchParameters: [String: [String]], settings: FHIRServiceSettings, operations names: [String]?,
                    advertised: Bool, oauthBase: String
                ) -> FHIRService {
                    var surface = registry.removing(Set(registry.resourceTypes).subtracting(types))
                    for (type, names) in searchParameters { surface = surface.restricting(type, to: Set(names)) }
                    let operations = (scheduling.operations() + [PatientMatch()]).filter { operation in
                        names.map { $0.contains("\(operation.type)/$\(operation.name)") } ?? true
                    }
                    var capabilities = Self.capabilities(
                        profile, registry: surface, slots: slots, operations: advertised ? operations : [],
                        interactions: settings.rules.interactions)
                    capabilities.oauth = capabilities.oauth.map { (oauthBase, $0.uris) }
                    return FHIRService(
                        tenant: tenant, clock: clock, random: random, registry: surface, zone: zone, settings: settings,
                        capabilities: capabilities, providers: ["Slot": slots], hooks: hooks, operations: operations)
                }
                let service = makeService(
                    types: Set(registry.resourceTypes).subtracting(profile.excludedTypes), searchParameters: profile.searchParameters,
                    settings: settings, operations: profile.rules.operations, advertised: true, oauthBase: profile.fhirBase)
                try scheduling.recoverHolds(service: service)
                let sweeper = HoldSweeper(context: scheduling, service: { service })
                let format = JSONOnlyFormat(
                    strict: profile.strictAccept, dialect: profile.rules.dialect, metadataXMLByDefault: profile.metadataXMLByDefault)
                let writes = WriteShaping(settings: profile.writes)
                var rendering: [any FHIRRequestStep] =
                    profile.patientRendering.isEmpty ? [] : [PatientRendering(rules: profile.patientRendering)]
                let paging = profile.paging.map { PagingStyle(settings: $0, random: random, dialect: profile.rules.dialect) }
                if let paging { rendering.append(paging) }
                if !profile.createRules.isEmpty {
                    rendering.append(CreateRules(rules: profile.createRules, dialect: profile.rules.dialect))
                }
                // Cerner's composite Slot, Schedule and Coverage ids come from a table of the seed.
                let ids = IDMapper(
                    scheme: profile.idScheme,
                    table: profile.idScheme == .cerner
                        ? CompositeIDs(
                            seed: loaded, coverages: loaded.resources, patient: { IDScheme.cerner.external($0, type: "Patient") })
                        : nil)
                let pipeline = FHIRPipeline(
                    steps: [IDRewriting(ids: ids)] + rendering + [writes, format, horizon, sweeper], service: service)
                var others: [(base: Profile.Base, pipeline: FHIRPipeline)] = []
                for base in profile.otherBases {
                    // Same tenant, scheduling state, hooks and rules; its own surface.
                    var baseSettings = settings
                    baseSettings.rules.interactions = base.interactions
                    baseSettings.rules.operations = base.operations
                    baseSettings.operationParameters = base.operationParameters
                    let baseService = makeService(
                        types: Set(base.types), searchParameters: base.searchParameters, settings: baseSettings,
                        operations: base.operations,
                        advertised: base.advertiseOperations, oauthBase: base.fhirBase)
                    let release: [any FHIRRequestStep] = base.release == .stu3 ? [STU3Rendering()] : []
                    others.append(
                        (
                            base,
                            FHIRPipeline(
                                steps: [IDRewriting(ids: ids)] + release + rendering + [writes, format, horizon, sweeper],
                                service: baseService)
                        ))
                }
                let auth = AuthorizationServer(
                    profile: profile.name, settings: profile.auth, clients: clients, signer: signer, clock: clock, random: random,
                    patients: {
                        try? tenant.seedIfNeeded()
                        return Self.pickerPatients(store)
                    }, remoteKeys: RemoteKeys(allowed: jwksAllowList, fetch: HTTPFetch.get),
                    shownPatient: { [scheme = profile.idScheme] in scheme.external($0, type: "Patient") })
                mounts.append(
                    Mount(
                        profile: profile, tenant: tenant, pipeline: pipeline, otherBases: others, horizon: horizon, scheduling: scheduling,
                        auth: auth, paging: paging, ids: ids))
            }
            self.mounts = mounts
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

    static func capabilities(
        _ profile: Profile, registry: SearchRegistry, slots: SlotProvider, operations: [any OperationHandler],
        interactions declared: [String: [String]]
    ) -> CapabilityStatementBuilder {
        var interactions = declared
        interactions["Slot"] = (interactions["Slot"] ?? slots.interactions).filter(slots.interactions.contains)
        var builder = CapabilityStatementBuilder(
            registry: registry, softwareVersion: Self.version, interactionsByType: interactions, operations: operations)
        if profile.auth.mode != .anonymous {
            let auth = profile.auth
            builder.oauth = (
                profile.fhirBase,
                [
                    ("token", auth.tokenPath), ("authorize", auth.authorizePath), ("introspect", auth.introspectPath),
                    ("revoke", auth.revokePath),
                ]
            )
        }
        return builder
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

    /// Patients offered on the sign-in page's picker: the first 50 by id.
    static func pickerPatients(_ store: ResourceStore) -> [(id: String, name: String)] {
        var query = SearchQuery(type: "Patient")
        query.count = 50
        guard let keys = try? store.search(query), let bodies = try? store.bodies(Array(keys.sorted { $0.id < $1.id }.prefix(50)))
        else { return [] }
        return bodies.compactMap { key, body in
            guard let patient = (try? JSONParser.parse(body))?.objectValue else { return nil }
            let name = patient["name"]?.arrayValue?.first?.objectValue
            let given = name?["given"]?.arrayValue?.compactMap(\.stringValue).joined(separator: " ") ?? ""
            let family = name?["family"]?.stringValue ?? ""
            let birth = patient["birthDate"]?.stringValue.map { " (born \($0))" } ?? ""
            return (key.id, "\(given) \(family)\(birth)".trimmingCharacters(in: .whitespaces))
        }
    }

    /// Writes the seed's resources into an empty store.
    static func load(seed: Seed, into store: ResourceStore, at now: Int64) throws(FHIRError) {
        let clinic = ClinicRenderer(seed: seed).seeded(at: now)
        let resources = clinic.resources
        try store.write { tx throws(FHIRError) in
            try tx.insertSlots(clinic.slots)
            for resource in resources {
                guard case .object(let object) = resource, let type = object["resourceType"]?.stringValue,
                    let id = object["id"]?.stringValue
                else { continue }
                var stamped = object
                var meta = JSONObject()
                meta["versionId"] = .string("1")
                meta["lastUpdated"] = .string(InstantFormat.iso(now))
                stamped.set("meta", .object(meta), after: "id")
                let json = JSON.object(stamped)
                try tx.put(type, id, version: 1, lastUpdated: now, method: "POST", resource: json, body: json.bytes)
            }
        }
        try store.analyze()
        try store.setMetadata("seed", seed.name)
        try store.setMetadata("seededAt", InstantFormat.iso(now))
    }

    /// Every tenant back to the seeded state.
    public func reset() throws(FHIRError) {
        for mount in mounts {
            try mount.tenant.reset(from: snapshot)
            mount.horizon.reset()
            mount.scheduling.reset()
            mount.auth.reset()
            mount.paging?.reset()
        }
        clients.reset()
    }

    public func mount(named name: String) -> Mount? { mounts.first { $0.profile.name == name } }

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
