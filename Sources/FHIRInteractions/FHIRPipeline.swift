import FHIRCore

/// One step every FHIR request passes through before the interaction runs (content
/// negotiation now; profile rules, auth and fault injection are steps too). A step either lets
/// the request through (nil) or answers it; it may also reshape the final response.
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

/// R4 format negotiation for a JSON-only server: `_format` and `Accept` asking only for XML
/// get 406; JSON (`json`, `application/json`, `application/fhir+json`) or anything else is
/// answered in JSON.
public struct JSONOnlyFormat: FHIRRequestStep {
    /// Refuse any `Accept` that does not include JSON (Cerner), not only XML-only ones.
    public let strict: Bool
    /// How the 406 looks (the profile's error dialect).
    public let dialect: ErrorDialect
    /// Answer `GET metadata` in XML when the request has no `Accept` and no `_format` (Epic).
    public let metadataXMLByDefault: Bool

    public init(strict: Bool = false, dialect: ErrorDialect = .init(), metadataXMLByDefault: Bool = false) {
        self.strict = strict
        self.dialect = dialect
        self.metadataXMLByDefault = metadataXMLByDefault
    }

    public func finish(_ response: inout FHIRResponse, for request: FHIRRequest) {
        guard metadataXMLByDefault, request.method == "GET", request.segments == ["metadata"], request.headers.accept == nil,
            !request.query.contains(where: { $0.name == "_format" }), response.status == 200,
            let json = response.jsonBody(), let xml = FHIRXML.document(json)
        else { return }
        response.body = xml
        response.headers.removeAll { $0.name.lowercased() == "content-type" }
        response.headers.append(("Content-Type", "application/fhir+xml; charset=utf-8"))
    }

    public func check(_ request: FHIRRequest) -> FHIRResponse? {
        answer(request).map(dialect.response)
    }

    func answer(_ request: FHIRRequest) -> FHIRError? {
        if let format = request.query.last(where: { $0.name == "_format" })?.value.lowercased() {
            if format == "xml" || format.contains("xml") {
                return FHIRError(.notAcceptable, "_format=\(format) is not supported: this server speaks JSON only")
            }
            if !(format == "json" || format.contains("json")) {
                return FHIRError(.notAcceptable, "_format=\(format) is not supported; use json")
            }
            return nil
        }
        guard let accept = request.headers.accept?.lowercased() else { return nil }
        let types = accept.split(separator: ",").map { $0.split(separator: ";").first.map { $0.trimmingCharacters(in: " ") } ?? "" }
        let wantsXML = types.contains { $0.contains("xml") }
        let acceptsJSON = types.contains {
            $0.contains("json") || $0 == "*/*" || $0 == "application/*" || (!strict && $0.hasPrefix("text/"))
        }
        if (wantsXML || strict) && !acceptsJSON {
            return FHIRError(.notAcceptable, "Accept: \(accept) cannot be served: this server speaks JSON only (application/fhir+json)")
        }
        return nil
    }
}
