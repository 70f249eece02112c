/// An error as a value: a code that decides the HTTP status and OperationOutcome issue code
/// (in exactly one table, `FHIRError.Code.table`), a message for people, and the FHIRPath
/// expressions of the offending elements.
public struct FHIRError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is. Extensible: later modules add codes with their own rows.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public let status: Int
        /// The OperationOutcome `issue.code` (http://hl7.org/fhir/ValueSet/issue-type).
        public let issueType: String

        public init(_ name: String, status: Int, issueType: String) {
            self.name = name
            self.status = status
            self.issueType = issueType
        }

        public var description: String { name }

        // The one table of error kinds. `FHIRErrorTableTests` walks it.
        public static let malformedRequest = Code("malformedRequest", status: 400, issueType: "structure")
        public static let invalidJSON = Code("invalidJSON", status: 400, issueType: "structure")
        public static let invalidParameter = Code("invalidParameter", status: 400, issueType: "invalid")
        public static let unknownParameter = Code("unknownParameter", status: 400, issueType: "not-supported")
        public static let invalidResource = Code("invalidResource", status: 422, issueType: "invalid")
        public static let businessRule = Code("businessRule", status: 422, issueType: "business-rule")
        public static let unauthorized = Code("unauthorized", status: 401, issueType: "login")
        public static let forbidden = Code("forbidden", status: 403, issueType: "forbidden")
        public static let notFound = Code("notFound", status: 404, issueType: "not-found")
        public static let unknownType = Code("unknownType", status: 404, issueType: "not-supported")
        public static let methodNotAllowed = Code("methodNotAllowed", status: 405, issueType: "not-supported")
        public static let notAcceptable = Code("notAcceptable", status: 406, issueType: "not-supported")
        public static let conflict = Code("conflict", status: 409, issueType: "conflict")
        public static let gone = Code("gone", status: 410, issueType: "deleted")
        public static let preconditionFailed = Code("preconditionFailed", status: 412, issueType: "conflict")
        public static let payloadTooLarge = Code("payloadTooLarge", status: 413, issueType: "too-costly")
        public static let unsupportedMediaType = Code("unsupportedMediaType", status: 415, issueType: "not-supported")
        public static let tooManyMatches = Code("tooManyMatches", status: 412, issueType: "multiple-matches")
        /// A search lacks the parameter combination the profile requires (a vendor's minimum data sets).
        public static let searchCriteriaMissing = Code("searchCriteriaMissing", status: 400, issueType: "required")
        /// A search matches more than the profile serves (a vendor's cap on Patient matches).
        public static let tooManyResults = Code("tooManyResults", status: 400, issueType: "too-costly")
        /// The resource is being modified by someone else (a vendor's 423; an admin lock here).
        public static let locked = Code("locked", status: 423, issueType: "lock-error")
        /// A page link whose paging session is gone (a vendor's expired paging session).
        public static let pageExpired = Code("pageExpired", status: 410, issueType: "expired")
        /// A create would duplicate an existing record (a vendor's duplicate-patient check).
        public static let duplicate = Code("duplicate", status: 409, issueType: "duplicate")
        /// A write the profile only takes with `If-Match` came without one (412, apart from
        /// `preconditionFailed`: a vendor may answer a stale version differently).
        public static let ifMatchRequired = Code("ifMatchRequired", status: 412, issueType: "required")
        /// A written resource refers to a resource by an id that is not one of the profile's (a
        /// vendor's "the reference provided was not found").
        public static let referenceNotFound = Code("referenceNotFound", status: 422, issueType: "not-found")
        /// A request or its answer goes past one of the server's documented limits (entries per
        /// batch, response size).
        public static let limitExceeded = Code("limitExceeded", status: 400, issueType: "too-costly")
        /// The sandbox holds as much data as it may (`--max-sandbox-mb`).
        public static let insufficientStorage = Code("insufficientStorage", status: 507, issueType: "too-costly")
        public static let rateLimited = Code("rateLimited", status: 429, issueType: "throttled")
        public static let internalError = Code("internalError", status: 500, issueType: "exception")
        public static let unavailable = Code("unavailable", status: 503, issueType: "transient")

        /// Every code defined here, for the table test and documentation.
        public static let table: [Code] = [
            .malformedRequest, .invalidJSON, .invalidParameter, .unknownParameter, .invalidResource, .businessRule,
            .unauthorized, .forbidden, .notFound, .unknownType, .methodNotAllowed, .notAcceptable, .conflict, .gone,
            .preconditionFailed, .payloadTooLarge, .unsupportedMediaType, .tooManyMatches, .searchCriteriaMissing, .tooManyResults,
            .locked, .pageExpired, .duplicate, .ifMatchRequired, .referenceNotFound, .limitExceeded, .insufficientStorage, .rateLimited,
            .internalError, .unavailable,
        ]

        /// The code an HTTP error status stands for (the first in `table` with that status;
        /// an unknown 4xx is `malformedRequest`, an unknown 5xx `internalError`). The one
        /// status-to-code mapping: for framework errors and for responses read back into errors.
        public static func forStatus(_ status: Int) -> Code {
            table.first { $0.status == status } ?? (status >= 500 ? .internalError : .malformedRequest)
        }
    }

    /// One problem; an error may carry several (validation reports them all).
    public struct Issue: Sendable, Equatable {
        public var severity: String
        public var code: String
        public var message: String
        public var expression: [String]
        /// `issue.details`: a vendor code (system, code) and its text, when a profile's error dialect adds one.
        public var details: Details?

        public struct Details: Sendable, Equatable {
            public var system: String?
            public var code: String
            public var text: String?

            public init(system: String?, code: String, text: String?) {
                self.system = system
                self.code = code
                self.text = text
            }
        }

        public init(severity: String = "error", code: String, message: String, expression: [String] = [], details: Details? = nil) {
            self.severity = severity
            self.code = code
            self.message = message
            self.expression = expression
            self.details = details
        }
    }

    public var code: Code
    public var issues: [Issue]
    public var file: String
    public var line: Int

    public init(
        _ code: Code, _ message: String, expression: [String] = [], file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.issues = [Issue(code: code.issueType, message: message, expression: expression)]
        self.file = file
        self.line = line
    }

    public init(_ code: Code, issues: [Issue], file: String = #fileID, line: Int = #line) {
        self.code = code
        self.issues = issues
        self.file = file
        self.line = line
    }

    public var message: String { issues.map(\.message).joined(separator: "; ") }
    public var description: String { "\(code): \(message)" }

    public static func == (lhs: FHIRError, rhs: FHIRError) -> Bool {
        lhs.code == rhs.code && lhs.issues == rhs.issues
    }
}
