import FHIRCore

/// A FHIR REST response: status, headers and body bytes.
public struct FHIRResponse: Sendable {
    public static let fhirJSON = "application/fhir+json; charset=utf-8"

    public var status: Int
    public var headers: [(name: String, value: String)]
    /// The body bytes. Finish steps that reshape a JSON body share one parsed copy instead
    /// (`jsonBody()`/`setJSONBody(_:)`); the pipeline writes it back once (`flush()`).
    public var body: [UInt8] {
        didSet { parsed = nil }
    }
    /// A parsed (and possibly reshaped) JSON body not yet written to `body`.
    private var parsed: JSON?
    /// The error this response answers with, when it is one: the edge's exit renders it in
    /// the profile's error dialect (status and body) once, whoever produced it.
    public var error: FHIRError?

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A FHIR JSON body.
    public static func json(_ status: Int, _ body: [UInt8], headers: [(name: String, value: String)] = []) -> FHIRResponse {
        FHIRResponse(status: status, headers: [("Content-Type", fhirJSON)] + headers, body: body)
    }

    /// The OperationOutcome for an error, with its status (R4's shape until the edge's exit
    /// renders it in the profile's dialect).
    public static func error(_ error: FHIRError) -> FHIRResponse {
        var response = json(error.code.status, OperationOutcome.from(error).bytes)
        response.error = error
        return response
    }

    /// The JSON body, parsed once for every finish step (nil: not JSON, or empty).
    public mutating func jsonBody() -> JSON? {
        if let parsed { return parsed }
        guard header("Content-Type")?.contains("json") == true, !body.isEmpty, let json = try? JSONParser.parse(body) else {
            return nil
        }
        parsed = json
        return json
    }

    /// Replaces the JSON body (written to `body` by `flush()`).
    public mutating func setJSONBody(_ json: JSON) { parsed = json }

    /// Writes a reshaped JSON body back to `body`.
    public mutating func flush() {
        guard let json = parsed else { return }
        body = json.bytes
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}
