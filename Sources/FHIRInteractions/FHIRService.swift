import FHIRCore
import FHIRSearch
import FHIRStore

/// Settings of the FHIR REST layer.
public struct FHIRServiceSettings: Sendable {
    /// Page size when `_count` is absent.
    public var defaultPageSize = 20
    /// Largest page served, whatever `_count` asks for.
    public var maxPageSize = 1000
    /// Largest history page.
    public var maxHistory = 1000
    /// Reject unknown search parameters when the client does not say `Prefer: handling=...`.
    public var strictByDefault = false
    /// The profile's vendor rules (search criteria, totals, empty results, error dialect).
    public var rules = ProfileRules()
    /// Vendor names for operation parameters, by `Type/$name`, in preference order.
    public var operationParameters: [String: [OperationParameters.Alias]] = [:]
    /// Whether operations take only the parameters `operationParameters` lists (an alias, or a
    /// name listed as itself); others are ignored with an `optionalParameterInvalid` note.
    public var onlyListedOperationParameters = false
    /// A vendor's codes for the clinic's visit types: its code system and, per vendor code, the
    /// clinic's code (nil: the clinic's own codes only).
    public var visitTypeCodes: CodeAliases?
    /// Per type, an identifier derived from the id that searches by `identifier` find.
    public var derivedIdentifiers: [String: DerivedIdentifier] = [:]
    /// How the versions a client sees relate to the stored ones (a profile that counts from 0,
    /// or shows `10-1`); `If-Match` is read through them and messages quote the client's labels.
    public var versions = VersionLabels()
    /// Most entries one batch or transaction Bundle may carry.
    public var maxBundleEntries = 500
    /// Largest batch or transaction response, in bytes.
    public var maxResponseBytes = 16 << 20

    public init() {}
}

/// A vendor's code system for values the engine knows under its own codes.
public struct CodeAliases: Sendable, Equatable {
    public var system: String
    /// Vendor code → the engine's code.
    public var codes: [String: String]
    /// Vendor code → its display, where the vendor names it.
    public var displays: [String: String]

    public init(system: String, codes: [String: String], displays: [String: String] = [:]) {
        self.system = system
        self.codes = codes
        self.displays = displays
    }

    /// The vendor code for an engine code.
    public func vendorCode(for code: String) -> String? { codes.first { $0.value == code }?.key }
}

/// Answers FHIR REST requests for one tenant: classify the route, run one interaction,
/// turn errors into OperationOutcomes. Synchronous: the store is reached under a lock
/// without async hops.
public struct FHIRService: Sendable {
    public let tenant: Tenant
    public let clock: SandboxClock
    public let random: RandomSource
    public let registry: SearchRegistry
    public let zone: TimeZoneRule
    public let validator: StructuralValidator
    public let settings: FHIRServiceSettings
    public let capabilities: CapabilityStatementBuilder
    /// Types served by a provider instead of the generic store.
    public let providers: [String: any ResourceProvider]
    /// Hooks run before a type's versions are stored or deleted.
    public let hooks: [String: any WriteHook]
    /// Operations by `Type/$name`.
    public let operations: [String: any OperationHandler]

    public init(
        tenant: Tenant, clock: SandboxClock, random: RandomSource, registry: SearchRegistry, zone: TimeZoneRule,
        validator: StructuralValidator = StructuralValidator(), settings: FHIRServiceSettings = .init(),
        capabilities: CapabilityStatementBuilder, providers: [String: any ResourceProvider] = [:], hooks: [String: any WriteHook] = [:],
        operations: [any OperationHandler] = []
    ) {
        self.operations = Dictionary(operations.map { ("\($0.type)/$\($0.name)", $0) }, uniquingKeysWith: { first, _ in first })
        self.providers = providers
        self.hooks = hooks
        self.tenant = tenant
        self.clock = clock
        self.random = random
        self.registry = registry
        self.zone = zone
        self.validator = validator
        self.settings = settings
        self.capabilities = capabilities
    }

    var store: ResourceStore { tenant.store }

    /// Answers `request`; never throws: every failure becomes an error response (R4's
    /// OperationOutcome, which the pipeline's exit renders in the profile's dialect).
    public func handle(_ request: FHIRRequest) -> FHIRResponse {
        do {
            return try dispatch(request)
        } catch {
            return .error(error)
        }
    }

    func dispatch(_ request: FHIRRequest) throws(FHIRError) -> FHIRResponse {
        let route = try Route.classify(method: request.method, segments: request.segments, supports: registry.supports)
        let decision = try checkPolicies(route, request, resource: request.body.flatMap { (try? JSONParser.parse($0))?.objectValue })
        if request.unknownID, let (type, id) = route.instance {
            throw FHIRError(.notFound, "\(type)/\(id) is not known on this server")
        }
        if let reference = request.unknownReferences.first, route.writes {
            throw FHIRError(.referenceNotFound, "\(reference) is not a resource on this server (ids here are the ones it issued)")
        }
        switch route {
        case .capabilities: return capabilities.response(baseURL: request.baseURL, now: clock.now())
        case .batch: return try batch(request)
        case .systemHistory: return try history(request, type: nil, id: nil)
        case .search(let type): return try search(request, type: type, decision: decision)
        case .create(let type): return try create(request, type: type)
        case .typeHistory(let type): return try history(request, type: type, id: nil)
        case .read(let type, let id): return try read(request, type: type, id: id)
        case .vread(let type, let id, let version): return try vread(request, type: type, id: id, version: version)
        case .update(let type, let id): return try update(request, type: type, id: id)
        case .patch(let type, let id): return try patch(request, type: type, id: id)
        case .delete(let type, let id): return try delete(request, type: type, id: id)
        case .instanceHistory(let type, let id): return try history(request, type: type, id: id)
        case .operation(let name, let type, let id):
            return try operation(request, name: name, type: type, id: id)
        }
    }

    /// What every request and every batch or transaction entry must pass before it runs: the
    /// profile's interactions (per type and system-wide), a provider's interactions, the
    /// access token's scopes and compartment, and admin locks. `resource` is the body being
    /// written, if it parses (one that does not is left to the interaction, which names the
    /// syntax error), read only under a patient-level grant. Returns the access decision.
    func checkPolicies(_ route: Route, _ request: FHIRRequest, resource: @autoclosure () -> JSONObject?) throws(FHIRError)
        -> Access.Decision
    {
        if let code = route.systemInteractionCode, let allowed = settings.rules.systemInteractions, !allowed.contains(code) {
            throw FHIRError(
                .methodNotAllowed,
                "\(code) is not offered on this server"
                    + (allowed.isEmpty ? "" : " (system interactions: \(allowed.joined(separator: ", ")))"))
        }
        if let type = route.resourceType, let allowed = settings.rules.interactions[type], let code = route.interactionCodes.first,
            !allowed.contains(code)
        {
            throw FHIRError(.methodNotAllowed, "\(type) supports \(allowed.joined(separator: ", ")) only on this server")
        }
        if let type = route.resourceType, let provider = providers[type],
            let code = route.interactionCodes.first, !provider.interactions.contains(code)
        {
            throw FHIRError(
                .methodNotAllowed,
                "\(type) supports \(provider.interactions.joined(separator: ", ")) only"
                    + (type == "Slot" ? "; slots come from schedule templates: book one by creating an Appointment that references it" : "")
            )
        }
        let decision = try authorize(route, request)
        try checkLock(route)
        // Under a patient-level grant a written body must stay in the compartment.
        if decision != .allowed, let resource = resource() {
            if case .create(let type) = route { try Self.checkWrite(resource, type: type, id: nil, decision: decision) }
            if case .update(let type, let id) = route { try Self.checkWrite(resource, type: type, id: id, decision: decision) }
        }
        return decision
    }

    /// Writes to a resource locked through the admin API are `locked` (423).
    func checkLock(_ route: Route) throws(FHIRError) {
        let target: (String, String)?
        switch route {
        case .update(let type, let id), .patch(let type, let id), .delete(let type, let id): target = (type, id)
        default: target = nil
        }
        guard let (type, id) = target, let until = tenant.locks.lockedUntil(type, id, now: clock.now()) else { return }
        throw FHIRError(
            .locked, "\(type)/\(id) is being modified by someone else (locked until \(InstantFormat.iso(until))); try again later")
    }

    /// Whether unknown parameters are errors for this request.
    func isStrict(_ request: FHIRRequest) -> Bool { request.headers.prefer.strict ?? settings.strictByDefault }

    /// The search parser for this service's registry and zone.
    public func searchParser() -> SearchQueryParser {
        SearchQueryParser(registry: registry, zone: zone, maxCount: settings.maxPageSize)
    }
}
