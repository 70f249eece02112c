import FHIRCore

/// One step every FHIR request passes through before the interaction runs (a profile's edge:
/// id rewriting, rendering, paging, write shaping, content negotiation; see the vendor layer's
/// `EdgeSteps`). A step either lets the request through (nil) or answers it; it may also
/// reshape the final response.
public protocol FHIRRequestStep: Sendable {
    /// Reshapes the request before any step checks it (e.g. vendor ids to stored ids).
    func rewrite(_ request: inout FHIRRequest)
    func check(_ request: FHIRRequest) -> FHIRResponse?
    func finish(_ response: inout FHIRResponse, for request: FHIRRequest)
}

extension FHIRRequestStep {
    public func rewrite(_ request: inout FHIRRequest) {}

    public func finish(_ response: inout FHIRResponse, for request: FHIRRequest) {}
}

/// The steps, then the service.
public struct FHIRPipeline: Sendable {
    public let steps: [any FHIRRequestStep]
    public let service: FHIRService

    public init(steps: [any FHIRRequestStep], service: FHIRService) {
        self.steps = steps
        self.service = service
    }

    public func handle(_ incoming: FHIRRequest) -> FHIRResponse {
        do {
            try service.tenant.seedIfNeeded()
        } catch {
            return .error(error)
        }
        var request = incoming
        for step in steps { step.rewrite(&request) }
        var response: FHIRResponse?
        for step in steps {
            if let early = step.check(request) {
                response = early
                break
            }
        }
        var final = response ?? service.handle(request)
        for step in steps.reversed() { step.finish(&final, for: request) }
        final.flush()
        return final
    }
}
