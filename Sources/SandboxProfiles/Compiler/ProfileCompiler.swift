import ChangeFeeds
import FHIRCore
import FHIRInteractions
import FHIRSearch
import SandboxSeed
import Scheduling

/// Turns a profile file's `Profile` into a `CompiledProfile` against a seed: strategies looked
/// up by name, each base's surface (types, search parameters, interactions, operations), its
/// service settings and its edge steps. Every vendor decision the server used to make while
/// starting up is made here.
public enum ProfileCompiler {
    public static func compile(_ profile: Profile, environment: CompileEnvironment) -> CompiledProfile {
        let seed = environment.seed
        let registry = environment.registry
        let context = StrategyContext(seed: seed, displays: environment.displays, profile: profile, random: environment.random)
        let slots = SlotProvider(
            renderer: SlotRenderer(
                seed: seed, displays: environment.displays, utc: profile.utcTimes, locationExtension: profile.slotLocationExtension,
                serviceTypes: profile.serviceTypeCodes),
            holdsByPatch: profile.rules.interactions["Slot"]?.contains("patch") ?? false,
            // Slot writes (R4): every profile's slot table takes them; its interactions decide.
            writable: true)
        let appointments = Strategies.appointments[profile.writes.appointments]?(context) ?? nil
        var hooks: [String: any WriteHook] = [
            "Appointment": AppointmentBooking(seed: seed, registry: registry, policy: appointments),
            "CoverageEligibilityRequest": EligibilityDesk(seed: seed, registry: registry),
            "Subscription": SubscriptionDesk(parser: SearchQueryParser(registry: registry, zone: seed.zone)),
        ]
        if let score = profile.duplicatePatientScore {
            hooks["Patient"] = DuplicatePatients(threshold: score, parser: SearchQueryParser(registry: registry, zone: seed.zone))
        }
        var settings = FHIRServiceSettings()
        settings.defaultPageSize = profile.defaultPageSize
        settings.maxPageSize = profile.maxPageSize
        settings.strictByDefault = profile.unknownParameters == .strict
        settings.rules = profile.rules
        settings.versions = profile.writes.versions
        if let identifier = profile.appointmentIdentifier { settings.derivedIdentifiers["Appointment"] = identifier }
        settings.visitTypeCodes = profile.visitTypeCodes

        var bases = [
            CompiledProfile.Base(
                fhirBase: profile.fhirBase, release: .r4,
                surface: surface(
                    registry, types: Set(registry.resourceTypes).subtracting(profile.excludedTypes),
                    searchParameters: profile.searchParameters),
                settings: settings, operations: profile.rules.operations, advertisesOperations: true,
                steps: steps(profile, release: .r4))
        ]
        for base in profile.otherBases {
            // Same tenant, scheduling state, hooks and rules; its own surface.
            var baseSettings = settings
            baseSettings.rules.interactions = base.interactions
            baseSettings.rules.operations = base.operations
            baseSettings.operationParameters = base.operationParameters
            baseSettings.onlyListedOperationParameters = base.onlyListedOperationParameters
            bases.append(
                CompiledProfile.Base(
                    fhirBase: base.fhirBase, release: base.release,
                    surface: surface(registry, types: Set(base.types), searchParameters: base.searchParameters), settings: baseSettings,
                    operations: base.operations, advertisesOperations: base.advertiseOperations,
                    steps: steps(profile, release: base.release)))
        }
        return CompiledProfile(
            profile: profile, environment: environment, ids: Strategies.idScheme(profile, seed: seed), appointments: appointments,
            oauth: Strategies.oauthDialect(context), bases: bases, slots: slots, hooks: hooks,
            backport: profile.topicSubscriptions.flatMap { Strategies.subscriptions[$0] }.map { $0(context) })
    }

    /// The registry limited to a base's types and search parameters (indexes are still
    /// extracted with the full registry, shared by every tenant).
    static func surface(_ registry: SearchRegistry, types: Set<String>, searchParameters: [String: [String]]) -> SearchRegistry {
        var surface = registry.removing(Set(registry.resourceTypes).subtracting(types))
        for (type, names) in searchParameters { surface = surface.restricting(type, to: Set(names)) }
        return surface
    }

    /// The edge steps a base of `profile` runs, in `EdgeStep.order`.
    public static func steps(_ profile: Profile, release: FHIRRelease) -> [EdgeStep] {
        EdgeStep.order.filter { step in
            switch step {
            case .topicSubscriptions: return release == .r4 && profile.topicSubscriptions != nil
            case .context: return profile.context != nil
            case .idIdentifiers: return !profile.idIdentifiers.isEmpty
            case .ids: return profile.ids != "identity"
            case .stu3: return release == .stu3
            case .patientRendering: return !profile.patientRendering.isEmpty
            case .utcTimes: return profile.utcTimes
            case .appointmentIdentifiers: return profile.appointmentIdentifier != nil
            case .paging: return profile.paging != nil
            case .createRules: return !profile.createRules.isEmpty
            case .writes, .contentNegotiation, .slotHorizon, .holdSweeper, .slotRace: return true
            // Where the profile serves Provenance (the R4 base).
            case .provenance: return release == .r4 && !profile.excludedTypes.contains("Provenance")
            }
        }
    }
}
