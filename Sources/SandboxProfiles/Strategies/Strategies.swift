import ChangeFeeds
import FHIRCore
import SandboxAuth
import SandboxSeed
import Scheduling
import Synchronization

/// What a strategy is built from when a profile is compiled.
public struct StrategyContext: Sendable {
    /// The seed, with its resources.
    public let seed: Seed
    /// Display texts of the seed's codes.
    public let displays: [String: String]
    public let profile: Profile
    public let random: RandomSource

    public init(seed: Seed, displays: [String: String], profile: Profile, random: RandomSource) {
        self.seed = seed
        self.displays = displays
        self.profile = profile
        self.random = random
    }
}

/// One kind of strategy by name: the built-in ones, plus any a host program (or a test)
/// registers before loading profiles. The profile loader accepts exactly these names.
public final class StrategyRegistry<Factory: Sendable>: Sendable {
    private let entries: Mutex<[String: Factory]>

    init(_ builtIn: [String: Factory]) { entries = Mutex(builtIn) }

    public subscript(name: String) -> Factory? { entries.withLock { $0[name] } }

    /// Every name, sorted.
    public var keys: [String] { entries.withLock { $0.keys.sorted() } }

    /// Adds (or replaces) a strategy: a vendor that needs Swift is this line plus its folder.
    public func register(_ name: String, _ factory: Factory) { entries.withLock { $0[name] = factory } }
}

/// Vendor behaviour a profile file cannot state as data, selected by name (`ids: cerner`,
/// `writes.appointments: cerner`, `auth.errorStyle: epic`). A vendor's strategies live in
/// `Strategies/<Vendor>/`; registering one is a line in the table of its kind here (or a
/// `register` call). Everything else about a vendor is YAML.
public enum Strategies {
    /// `ids` — how resource ids are shown. Built without a seed for `profiles show` (tables
    /// that need the seed are then empty).
    public static let ids = StrategyRegistry<@Sendable (Seed?, Profile) -> any IDScheme>([
        "identity": { _, _ in IdentityIDs() },
        "epic": { _, _ in EpicIDs() },
        "cerner": { seed, profile in CernerIDs(seed: seed, serviceTypes: profile.serviceTypeCodes) },
        // The practice id is the profile's `auth.tenant` (athena's preview: 195900).
        "athena": { seed, profile in AthenaIDs(seed: seed, practice: profile.auth.tenant) },
    ])

    /// `writes.appointments` — Appointment write rules (nil: R4's status model).
    public static let appointments = StrategyRegistry<@Sendable (StrategyContext) -> (any AppointmentPolicy)?>([
        "r4": { _ in nil },
        "cerner": { CernerAppointments(seed: $0.seed, displays: $0.displays, tenant: $0.profile.auth.tenant) },
    ])

    /// `auth.errorStyle` — what an OAuth error carries besides `error`.
    public static let oauthErrors = StrategyRegistry<@Sendable (StrategyContext) -> OAuthDialect>([
        "rfc6749": { _ in .standard },
        "epic": { _ in EpicOAuth.dialect },
        "cerner": { CernerOAuth.dialect(tenant: $0.profile.auth.tenant, random: $0.random) },
        "athena": { _ in AthenaOAuth.dialect },
        "ecw": { _ in ECWOAuth.dialect },
    ])

    /// `proprietary.style` — a vendor's non-FHIR API, bound to one sandbox's tenant.
    public static let proprietary = StrategyRegistry<@Sendable (ProprietaryContext) -> any ProprietaryAPI>([
        "athena": { AthenaAPI(context: $0) },
        "healow": { HealowAPI(context: $0) },
    ])

    /// `subscriptions.style` — a vendor's topic-based subscription service (its topics and
    /// notifications). Built without a seed for `profiles show`.
    public static let subscriptions = StrategyRegistry<@Sendable (StrategyContext) -> any BackportService>([
        "athena": { AthenaSubscriptions(seed: $0.seed, profile: $0.profile, random: $0.random) }
    ])

    /// `auth.scopeResponse` — how granted scopes are written in token responses.
    public static let scopeWording = StrategyRegistry<@Sendable ([String]) -> String>([
        "smart": OAuthDialect.standard.scopeText,
        "epic": EpicOAuth.scopeNames,
    ])

    /// The profile's OAuth dialect: its error style with its scope wording.
    public static func oauthDialect(_ context: StrategyContext) -> OAuthDialect {
        var dialect = (oauthErrors[context.profile.auth.errorStyle] ?? { _ in .standard })(context)
        dialect.scopeText = scopeWording[context.profile.auth.scopeResponse] ?? OAuthDialect.standard.scopeText
        return dialect
    }

    /// The profile's id scheme.
    public static func idScheme(_ profile: Profile, seed: Seed?) -> any IDScheme {
        (ids[profile.ids] ?? { _, _ in IdentityIDs() })(seed, profile)
    }
}
