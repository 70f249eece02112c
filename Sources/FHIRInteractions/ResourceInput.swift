import FHIRCore

/// Turning a request body into a checked resource.
extension FHIRService {
    /// Parses and validates `body` as a `type` resource. Syntax and shape errors are 400;
    /// values that parse but break R4 rules (codes, formats, required elements) are 422.
    func resource(from body: [UInt8]?, type: String, contentType: String?, validating: Bool = true) throws(FHIRError) -> JSONObject {
        try Self.checkJSONContentType(contentType)
        guard let body, !body.isEmpty else {
            throw FHIRError(.malformedRequest, "the request body is empty; a \(type) resource is required")
        }
        let json: JSON
        do {
            json = try JSONParser.parse(body)
        } catch {
            throw FHIRError(.invalidJSON, "the body is not valid JSON: \(error.description)")
        }
        guard case .object(let object) = json else {
            throw FHIRError(.malformedRequest, "the body must be a JSON object (a FHIR resource), not \(json.typeName)")
        }
        guard let resourceType = object["resourceType"]?.stringValue else {
            throw FHIRError(.malformedRequest, "resourceType is missing from the body", expression: ["resourceType"])
        }
        guard resourceType == type else {
            throw FHIRError(
                .malformedRequest, "the body is a \(resourceType) but this URL takes a \(type)",
                expression: ["\(resourceType).resourceType"])
        }
        if validating { try validate(json) }
        return object
    }

    /// Structural validation with the 400/422 split described above.
    func validate(_ json: JSON) throws(FHIRError) {
        let issues = validator.validate(json)
        guard !issues.isEmpty else { return }
        let malformed = issues.contains { $0.code == "structure" }
        throw FHIRError(malformed ? .malformedRequest : .invalidResource, issues: issues)
    }

    static func checkJSONContentType(_ contentType: String?) throws(FHIRError) {
        guard let contentType else { return }
        let media = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: " ").lowercased() } ?? ""
        if media == "application/fhir+json" || media == "application/json" || media == "application/json+fhir" { return }
        if media.contains("xml") {
            throw FHIRError(.unsupportedMediaType, "XML is not supported by this server; send application/fhir+json")
        }
        throw FHIRError(.unsupportedMediaType, "unsupported Content-Type '\(contentType)'; send application/fhir+json")
    }
}
