import FHIRCore
import FHIRInteractions
import Foundation

/// R4 format negotiation for a JSON-only server: `_format` and `Accept` asking only for XML
/// get 406; JSON (`json`, `application/json`, `application/fhir+json`) or anything else is
/// answered in JSON.
public struct JSONOnlyFormat: FHIRRequestStep {
    /// Refuse any `Accept` that does not include JSON, not only XML-only ones (`content.strictAccept`).
    public let strict: Bool
    /// Answer `GET metadata` in XML when the request has no `Accept` and no `_format`
    /// (`content.metadataXMLByDefault`).
    public let metadataXMLByDefault: Bool

    public init(strict: Bool = false, metadataXMLByDefault: Bool = false) {
        self.strict = strict
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
        answer(request).map(FHIRResponse.error)
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
