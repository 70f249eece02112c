import Testing

@testable import FHIRCore

/// Walks the one table of error codes: every code maps to a sensible status and a valid
/// OperationOutcome issue type, and renders as a valid OperationOutcome.
@Suite struct ErrorTableTests {
    static let issueTypes: Set<String> = [
        "invalid", "structure", "required", "value", "invariant", "security", "login", "unknown", "expired", "forbidden",
        "suppressed", "processing", "not-supported", "duplicate", "multiple-matches", "not-found", "deleted", "too-long",
        "code-invalid", "extension", "too-costly", "business-rule", "conflict", "transient", "lock-error", "no-store",
        "exception", "timeout", "incomplete", "throttled", "informational",
    ]

    @Test(arguments: FHIRError.Code.table)
    func codeMapsToStatusAndIssueType(code: FHIRError.Code) throws {
        #expect((400...599).contains(code.status))
        #expect(Self.issueTypes.contains(code.issueType))
        let outcome = OperationOutcome.from(FHIRError(code, "message", expression: ["Patient.x"]))
        #expect(StructuralValidator().validate(outcome).isEmpty)
        #expect(outcome["issue"]?.arrayValue?.first?["code"]?.stringValue == code.issueType)
    }

    @Test func codesAreUnique() {
        #expect(Set(FHIRError.Code.table.map(\.name)).count == FHIRError.Code.table.count)
        #expect(FHIRError.Code.table.filter { $0.status >= 500 }.map(\.name) == ["insufficientStorage", "internalError", "unavailable"])
    }

    /// The one status-to-code mapping: every status in the table maps back to a code with that
    /// status; statuses outside it to the generic 4xx/5xx codes.
    @Test func statusesMapBackToCodes() {
        for code in FHIRError.Code.table { #expect(FHIRError.Code.forStatus(code.status).status == code.status) }
        #expect(FHIRError.Code.forStatus(412) == .preconditionFailed)
        #expect(FHIRError.Code.forStatus(404) == .notFound)
        #expect(FHIRError.Code.forStatus(414) == .malformedRequest)
        #expect(FHIRError.Code.forStatus(502) == .internalError)
    }
}
