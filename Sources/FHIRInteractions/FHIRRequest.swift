import FHIRCore

/// A FHIR REST request, independent of the HTTP framework: the server builds one from each
/// HTTP request, pipeline steps (profile rules, auth, faults) inspect it, and `FHIRService`
/// answers it.
public struct FHIRRequest: Sendable {
    public var method: String
    /// Path segments after the FHIR base, percent-decoded.
    public var segments: [String]
    /// Query parameters in order, decoded.
    public var query: [(name: String, value: String)]
    public var headers: Headers
    public var body: [UInt8]?
    /// Absolute FHIR base URL (no trailing slash) used in links, `fullUrl` and `Location`.
    public var baseURL: String
    /// What the request's access token allows; nil for anonymous access (no enforcement).
    public var access: Access?
    /// Why an edge step refuses the request, found while rewriting it (an unknown paging
    /// context, an id that is not one of the profile's): the pipeline answers it before any
    /// check runs. Rewriting never smuggles a refusal into the query or the path.
    public var refusal: FHIRError?
    /// The edge met an id that is not one of the profile's (in the path or a search value): an
    /// instance interaction finds nothing (404) and a search matches nothing, after the
    /// request's policies (interactions, scopes) are checked as for any other id.
    public var unknownID = false
    /// References in the body to ids that are not the profile's: a write carrying one is
    /// refused (`referenceNotFound`) once its policies pass.
    public var unknownReferences: [String] = []
    /// Test control: just before this request's booking write runs, the front desk books the
    /// slot it is about to take (`SlotRace`), so the request meets a slot taken meanwhile.
    public var frontDeskTakesSlot = false
    /// The steps batch and transaction entries pass (set by the pipeline; none without one).
    public var entryEdge = EntryEdge(steps: [])

    public init(
        method: String, segments: [String], query: [(name: String, value: String)] = [], headers: Headers = .init(),
        body: [UInt8]? = nil, baseURL: String
    ) {
        self.method = method
        self.segments = segments
        self.query = query
        self.headers = headers
        self.body = body
        self.baseURL = baseURL
    }

    /// The request headers FHIR interactions read.
    public struct Headers: Sendable {
        public var ifMatch: String?
        public var ifNoneMatch: String?
        public var ifNoneExist: String?
        public var contentType: String?
        public var accept: String?
        public var prefer: Prefer
        /// `X-Hub-Secret` (WebSub): the secret a topic subscription's notifications are signed with.
        public var hubSecret: String?

        public init(
            ifMatch: String? = nil, ifNoneMatch: String? = nil, ifNoneExist: String? = nil, contentType: String? = nil,
            accept: String? = nil, prefer: Prefer = .init()
        ) {
            self.accept = accept
            self.ifMatch = ifMatch
            self.ifNoneMatch = ifNoneMatch
            self.ifNoneExist = ifNoneExist
            self.contentType = contentType
            self.prefer = prefer
        }
    }
}

/// The `Prefer` header (RFC 7240) as FHIR uses it.
public struct Prefer: Sendable, Equatable {
    public enum Return: String, Sendable {
        case minimal, representation
        case operationOutcome = "OperationOutcome"
    }

    public var returnPreference: Return?
    /// `handling=strict` (true) or `handling=lenient` (false); nil when not stated.
    public var strict: Bool?

    public init(returnPreference: Return? = nil, strict: Bool? = nil) {
        self.returnPreference = returnPreference
        self.strict = strict
    }

    /// Parses `return=minimal, handling=strict` (unknown preferences are ignored, as RFC 7240 asks).
    public init(header: String?) {
        guard let header else { return }
        for part in header.split(separator: ",") + header.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: " \"") }
            guard pair.count == 2 else { continue }
            switch pair[0].lowercased() {
            case "return": returnPreference = Return(rawValue: pair[1]) ?? returnPreference
            case "handling": strict = pair[1].lowercased() == "strict"
            default: continue
            }
        }
    }
}
