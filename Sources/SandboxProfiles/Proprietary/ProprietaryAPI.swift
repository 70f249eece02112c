import FHIRCore
import FHIRInteractions
import SandboxSeed
import Scheduling

/// A vendor's non-FHIR API over the same tenant (athena's `/v1/{practiceid}/...`): the server
/// authenticates the caller, applies test control and journals the exchange; the strategy the
/// profile names (`proprietary.style`) answers. Writes go through the tenant's `FHIRService`,
/// so the booking engine's slot compare-and-set holds across both surfaces.
public protocol ProprietaryAPI: Sendable {
    func handle(_ request: ProprietaryRequest) -> ProprietaryResponse
    /// What a call is in FHIR terms (the type it touches, `read`/`search-type`/`create`/`update`),
    /// for fault rules, rate limits and latency classes; nil when it is none of those.
    func classify(method: String, segments: [String]) -> (type: String, interaction: String)?
    /// The vendor's error body for a call the server refuses before the strategy sees it (no or
    /// a bad token, test control's faults and rate limits, a body over the size limit).
    func refusal(status: Int, error: String, detail: String) -> ProprietaryResponse
    /// Headers every answer carries (a vendor's request id).
    func stamp(_ response: inout ProprietaryResponse)
}

/// One call to a proprietary API, as the server read it.
public struct ProprietaryRequest: Sendable {
    public var method: String
    /// The path after the API's mount path, split on `/` (percent-decoded).
    public var segments: [String]
    public var query: [(name: String, value: String)]
    /// The body's fields when it is `application/x-www-form-urlencoded` (nil: another body or none).
    public var form: [(name: String, value: String)]?
    public var body: [UInt8]?
    public var contentType: String?
    /// The absolute URL of the API's mount (origin, sandbox prefix and path), for paging links.
    public var baseURL: String
    /// The caller's token.
    public var access: Access
    /// Test control's `slot-taken`: the front desk books the slot a booking names just before it.
    public var frontDeskTakesSlot = false

    public init(
        method: String, segments: [String], query: [(name: String, value: String)], body: [UInt8]?, contentType: String?,
        baseURL: String, access: Access
    ) {
        self.method = method
        self.segments = segments
        self.query = query
        self.body = body
        self.contentType = contentType
        self.baseURL = baseURL
        self.access = access
        let media = contentType?.split(separator: ";").first.map { String($0.filter { $0 != " " }).lowercased() }
        if media == "application/x-www-form-urlencoded" || (media == nil && body?.isEmpty != false) {
            form = QueryString.parse(String(decoding: body ?? [], as: UTF8.self))
        }
    }

    /// The value of a query or form parameter (the form first; the last one when repeated).
    public func value(_ name: String) -> String? {
        (form ?? []).last { $0.name == name }?.value ?? query.last { $0.name == name }?.value
    }
}

/// A proprietary API's answer: a status, headers and a body (JSON as the vendor writes it).
public struct ProprietaryResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func json(_ value: JSON, status: Int = 200) -> ProprietaryResponse {
        ProprietaryResponse(status: status, headers: [("Content-Type", "application/json")], body: value.bytes)
    }
}

/// What a proprietary API is built from when a profile is bound to a sandbox.
public struct ProprietaryContext: Sendable {
    /// The tenant's main FHIR service (writes, reads, the clock).
    public let service: FHIRService
    /// The whole R4 surface over the same tenant, hooks and slots, without the vendor's FHIR
    /// rules: for an API that serves types the vendor's FHIR base leaves out.
    public let ehr: FHIRService
    public let seed: Seed
    public let profile: Profile
    /// How the profile shows FHIR ids.
    public let ids: any IDScheme
    /// Keeps the slot table reaching the planning horizon (extend it before reading slots).
    public let horizon: SlotHorizon

    public init(service: FHIRService, ehr: FHIRService, seed: Seed, profile: Profile, ids: any IDScheme, horizon: SlotHorizon) {
        self.service = service
        self.ehr = ehr
        self.seed = seed
        self.profile = profile
        self.ids = ids
        self.horizon = horizon
    }
}
