import FHIRCore

/// A FHIR REST response: status, headers and body bytes.
public struct FHIRResponse: Sendable {
    public static let fhirJSON = "application/fhir+json; charset=utf-8"

    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A FHIR JSON body.
    public static func json(_ status: Int, _ body: [UInt8], headers: [(name: String, value: String)] = []) -> FHIRResponse {
        FHIRResponse(status: status, headers: [("Content-Type", fhirJSON)] + headers, body: body)
    }

    /// The OperationOutcome for an error, with its status.
    public static func error(_ error: FHIRError) -> FHIRResponse {
        json(error.code.status, OperationOutcome.from(error).bytes)
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}
