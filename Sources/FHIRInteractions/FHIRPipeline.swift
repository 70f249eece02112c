import FHIRCore

/// One step every FHIR request passes through before the interaction runs (a profile's edge:
/// id rewriting, rendering, paging, write shaping, content negotiation; the vendor layer's
/// `EdgeStep` lists them in order). A step either lets the request through (nil) or answers it;
/// it may also reshape the final response. A step answers an error with `.error(_:)`: the
/// pipeline's exit renders it in the profile's dialect.
public protocol FHIRRequestStep: Sendable {
    /// Reshapes the request before any step checks it (e.g. vendor ids to stored ids).
    func rewrite(_ request: inout FHIRRequest)
    func check(_ request: FHIRRequest) -> FHIRResponse?
    func finish(_ response: inout FHIRResponse, for request: FHIRRequest)
    /// Whether batch and transaction entries pass this step too (`rewrite` and `check`, each
    /// entry as its own request): the policies a profile sets on requests hold for entries.
    /// Steps that work on the whole Bundle (id rewriting) or on the tenant (slot horizon) do not.
    var appliesToEntries: Bool { get }
}

extension FHIRRequestStep {
    public func rewrite(_ request: inout FHIRRequest) {}

    public func finish(_ response: inout FHIRResponse, for request: FHIRRequest) {}

    public var appliesToEntries: Bool { false }
}

/// The steps a batch or transaction entry passes before it runs (those that apply to entries,
/// in edge order). The pipeline hands it to the service with the request.
public struct EntryEdge: Sendable {
    public let steps: [any FHIRRequestStep]

    public init(steps: [any FHIRRequestStep]) { self.steps = steps }

    /// Rewrites the entry's request, then checks it; an answer refuses the entry.
    public func pass(_ request: inout FHIRRequest) -> FHIRResponse? {
        for step in steps { step.rewrite(&request) }
        for step in steps {
            if let refusal = step.check(request) { return refusal }
        }
        return nil
    }
}

/// The steps, then the service, then the one error exit.
public struct FHIRPipeline: Sendable {
    public let steps: [any FHIRRequestStep]
    public let service: FHIRService
    let entryEdge: EntryEdge

    public init(steps: [any FHIRRequestStep], service: FHIRService) {
        self.steps = steps
        self.service = service
        entryEdge = EntryEdge(steps: steps.filter(\.appliesToEntries))
    }

    public func handle(_ incoming: FHIRRequest) -> FHIRResponse {
        do {
            try service.tenant.seedIfNeeded()
        } catch {
            return exit(.error(error))
        }
        var request = incoming
        request.entryEdge = entryEdge
        for step in steps { step.rewrite(&request) }
        var response = request.refusal.map(FHIRResponse.error)
        if response == nil {
            for step in steps {
                if let early = step.check(request) {
                    response = early
                    break
                }
            }
        }
        var final = response ?? service.handle(request)
        for step in steps.reversed() { step.finish(&final, for: request) }
        final.flush()
        return exit(final)
    }

    /// The edge's one error exit: an error response in the profile's dialect. Everything that
    /// answers for this base with an error (steps, the engine, the HTTP layer's 401 and 413)
    /// leaves through it.
    public func exit(_ response: FHIRResponse) -> FHIRResponse { service.settings.rules.dialect.exit(response) }
}
