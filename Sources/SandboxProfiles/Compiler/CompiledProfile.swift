import ChangeFeeds
import FHIRCore
import FHIRInteractions
import FHIRSearch
import SandboxAuth
import SandboxSeed
import Scheduling

/// A profile compiled against a seed: how every sandbox of the profile behaves, decided once and
/// shared. It holds no mutable state; `bind(_:)` joins it to one `TenantState`.
public struct CompiledProfile: Sendable {
    /// One FHIR base of the profile (the main base, or one of `otherBases`).
    public struct Base: Sendable {
        public let fhirBase: String
        public let release: FHIRRelease
        /// The types and search parameters it serves (parsing and the CapabilityStatement follow it).
        public let surface: SearchRegistry
        public let settings: FHIRServiceSettings
        /// The operations it serves (`Type/$name`; nil: every one).
        public let operations: [String]?
        /// Whether the CapabilityStatement lists the operations.
        public let advertisesOperations: Bool
        /// The edge steps it runs, in `EdgeStep.order`.
        public let steps: [EdgeStep]
    }

    public let profile: Profile
    public let environment: CompileEnvironment
    /// How ids are shown (`ids`).
    public let ids: any IDScheme
    /// `writes.appointments` (nil: R4's).
    public let appointments: (any AppointmentPolicy)?
    /// How OAuth errors and granted scopes are worded (`auth.errorStyle`, `auth.scopeResponse`).
    public let oauth: OAuthDialect
    /// The main base first, then `otherBases` in the file's order.
    public let bases: [Base]
    /// Slots come from the slot table, rendered the profile's way.
    let slots: SlotProvider
    /// Write hooks (Appointment booking, duplicate patients): stateless, shared.
    let hooks: [String: any WriteHook]
    /// The topic-based subscription service (`subscriptions`), if the profile has one.
    let backport: (any BackportService)?

    /// Joins the profile to a sandbox's state: its services, edge steps and authorization
    /// server. Holds of a persisted tenant are re-registered.
    public func bind(_ state: TenantState) throws(FHIRError) -> ProfileRuntime {
        let environment = environment
        let operationHandlers =
            state.scheduling.operations() + [
                PatientMatch(), EligibilitySubmit(), Everything(type: "Patient"), Everything(type: "Encounter"),
            ]
        var pipelines: [FHIRPipeline] = []
        for base in bases {
            let operations = operationHandlers.filter { operation in
                base.operations.map { $0.contains("\(operation.type)/$\(operation.name)") } ?? true
            }
            var capabilities = capabilities(base, operations: base.advertisesOperations ? operations : [])
            capabilities.oauth = capabilities.oauth.map { (base.fhirBase, $0.uris) }
            let service = FHIRService(
                tenant: state.tenant, clock: state.clock, random: environment.random, registry: base.surface,
                zone: environment.seed.zone, settings: base.settings, capabilities: capabilities, providers: ["Slot": slots], hooks: hooks,
                operations: operations)
            pipelines.append(FHIRPipeline(steps: base.steps.map { step($0, base: base, state: state, service: service) }, service: service))
        }
        // Holds of a persisted tenant come back; a tenant still to be seeded has none.
        if !state.tenant.awaitsSeed { try state.scheduling.recoverHolds(service: pipelines[0].service) }
        let ids = ids
        let store = state.tenant.store
        let tenant = state.tenant
        let auth = AuthorizationServer(
            profile: profile.name, settings: profile.auth, clients: environment.clients, signer: environment.signer,
            clock: state.clock, random: environment.random,
            patients: {
                try? tenant.seedIfNeeded()
                return ClinicSnapshot.pickerPatients(store)
            }, remoteKeys: environment.remoteKeys(), shownPatient: { ids.external($0, type: "Patient") }, dialect: oauth,
            state: state.auth)
        var subscriptions: SubscriptionHub?
        if bases[0].surface.supports("Subscription") || backport != nil, let transport = environment.webhooks {
            subscriptions = SubscriptionHub(service: pipelines[0].service, transport: transport, backport: backport)
            try subscriptions?.start()
        }
        // The EHR behind the vendor's API, as an interface engine reaches it (HL7 v2): the whole
        // R4 surface over the same tenant, hooks and slots, without the vendor's API rules.
        let ehr = FHIRService(
            tenant: state.tenant, clock: state.clock, random: environment.random, registry: environment.registry,
            zone: environment.seed.zone, settings: FHIRServiceSettings(), capabilities: capabilities(bases[0], operations: []),
            providers: ["Slot": slots], hooks: hooks, operations: operationHandlers)
        let proprietary = profile.proprietary.flatMap { Strategies.proprietary[$0.style] }.map { make in
            make(
                ProprietaryContext(
                    service: pipelines[0].service, ehr: ehr, seed: environment.seed, profile: profile, ids: ids, horizon: state.horizon))
        }
        return ProfileRuntime(
            compiled: self, state: state, pipeline: pipelines[0],
            otherBases: zip(profile.otherBases, pipelines.dropFirst()).map { ($0, $1) }, auth: auth, steps: bases.map(\.steps),
            subscriptions: subscriptions, proprietary: proprietary, ehr: ehr)
    }

    /// One edge step of `base`, bound to the state where it keeps any.
    func step(_ step: EdgeStep, base: Base, state: TenantState, service: FHIRService) -> any FHIRRequestStep {
        switch step {
        case .topicSubscriptions:
            return TopicSubscriptions(
                service: { service }, backport: backport!, filter: profile.context.map { "\($0.parameter)=\($0.value)" })
        case .context:
            return RequiredContext(rule: profile.context ?? .init(parameter: "", value: "", status: 400, body: "", contentType: ""))
        case .idIdentifiers: return IDIdentifiers(rules: profile.idIdentifiers)
        case .ids: return IDRewriting(ids: ids, operationReferences: Self.operationReferences(service))
        case .stu3: return STU3Rendering()
        case .patientRendering: return PatientRendering(rules: profile.patientRendering, dialect: base.settings.rules.dialect)
        case .utcTimes: return UTCTimes()
        case .appointmentIdentifiers:
            return AppointmentIdentifiers(rule: profile.appointmentIdentifier ?? .init(system: "", label: ""))
        case .paging:
            return PagingStyle(
                settings: profile.paging ?? .init(), random: environment.random, contexts: state.pageContexts,
                defaultPageSize: profile.defaultPageSize)
        case .createRules: return CreateRules(rules: profile.createRules)
        case .writes: return WriteShaping(settings: profile.writes, interactions: base.settings.rules.interactions)
        case .contentNegotiation:
            return JSONOnlyFormat(strict: profile.strictAccept, metadataXMLByDefault: profile.metadataXMLByDefault)
        case .slotHorizon: return state.horizon
        case .holdSweeper: return HoldSweeper(context: state.scheduling, service: { service })
        case .slotRace: return SlotRace(context: state.scheduling, service: { service })
        case .provenance: return ProvenanceRecorder(service: { service })
        }
    }

    /// Per served operation, the parameters that name resources, under their canonical names
    /// and the base's aliases for them.
    static func operationReferences(_ service: FHIRService) -> [String: [String: String]] {
        service.operations.mapValues { handler in
            let aliases = service.settings.operationParameters["\(handler.type)/$\(handler.name)"] ?? []
            // A base that takes only its listed names leaves the others as sent (they are
            // ignored, and the note quotes them).
            var names = service.settings.onlyListedOperationParameters ? [:] : handler.references
            for alias in aliases {
                if let type = handler.references[alias.canonical] { names[alias.alias] = type }
            }
            return names
        }
    }

    func capabilities(_ base: Base, operations: [any OperationHandler]) -> CapabilityStatementBuilder {
        var interactions = base.settings.rules.interactions
        interactions["Slot"] = (interactions["Slot"] ?? slots.interactions).filter(slots.interactions.contains)
        var builder = CapabilityStatementBuilder(
            registry: base.surface, softwareVersion: environment.softwareVersion, interactionsByType: interactions,
            operations: operations)
        builder.system = base.settings.rules.systemInteractions ?? CapabilityStatementBuilder.systemInteractions
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
}
