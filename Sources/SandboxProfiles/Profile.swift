import FHIRInteractions
import SandboxAuth
import SandboxFaults

/// A vendor profile: how one mounted FHIR API looks and behaves. Data, read from
/// `Profiles/<name>.yaml`.
public struct Profile: Sendable, Equatable {
    public enum UnknownParameters: String, Sendable, CaseIterable {
        case lenient, strict
    }

    /// `name` — the profile's name and its tenant's name.
    public var name: String
    /// `description` — one line for `profiles list` and the index page.
    public var description: String
    /// `fhirBase` — the path the FHIR API is mounted at, e.g. `/fhir/r4`.
    public var fhirBase: String
    /// `search.defaultPageSize` (default 20).
    public var defaultPageSize: Int
    /// `search.maxPageSize` (default 1000).
    public var maxPageSize: Int
    /// `search.unknownParameters` (default lenient).
    public var unknownParameters: UnknownParameters
    /// `limits.maxBodyBytes` (default 4 MiB).
    public var maxBodyBytes: Int
    /// `auth` — the authorization server's rules (see AuthSettings).
    public var auth = AuthSettings()
    /// `search.total`, `search.emptyResult`, `search.rules` and `errors` — vendor rules the FHIR layer applies.
    public var rules = ProfileRules()
    /// `search.parameters` — per type, the only search parameters served (the CapabilityStatement follows).
    public var searchParameters: [String: [String]] = [:]
    /// `writes` — how writes are answered (empty bodies, If-Match, version numbering).
    public var writes = WriteShaping.Settings()
    /// `otherTenants` — a tenant-scoped vendor's answer to a tenant id it does not know: requests
    /// under `pathPrefix/<any other segment>/` get `status` with the plain-text `body`.
    public var otherTenants: OtherTenants?

    public struct OtherTenants: Sendable, Equatable {
        public var pathPrefix: String
        public var status: Int
        public var body: String
    }
    /// `ids` — how resource ids are shown (stored ids stay the seed's): a name in `Strategies.ids`.
    public var ids = "identity"
    /// `resources.exclude` — R4 types this profile does not serve (unknown type answers).
    public var excludedTypes: [String] = []
    /// `content.strictAccept` — refuse any `Accept` without JSON (not only XML-only ones).
    public var strictAccept = false
    /// `rateLimits` — the vendor's throttles (`serve --no-rate-limits` and the admin API switch them).
    public var rateLimits: [RateLimit] = []
    /// `latency` — the vendor's response times, applied when a sandbox's latency mode is `profile`.
    public var latency: LatencyModel?
    /// `context` — a query parameter every FHIR call must carry with one value (a vendor's
    /// practice context), and the vendor's refusal without it.
    public var context: RequiredContext.Rule?
    /// `proprietary` — a vendor's non-FHIR API over the same tenant (athena's `/v1/{practiceid}`).
    public var proprietary: Proprietary?

    public struct Proprietary: Sendable, Equatable {
        /// `style` — the strategy that answers it (`Strategies.proprietary`).
        public var style: String
        /// `path` — where it is mounted (`/athena/v1`).
        public var path: String
        /// `scope` — the scope every call's token needs (one of `auth.serviceScopes`); nil: each
        /// call needs the SMART scopes of the types it touches.
        public var scope: String?

        /// What a token needs, in words.
        public var scopeNeeded: String { scope.map { "scope \($0)" } ?? "SMART scopes per type" }
    }
    /// `subscriptions.style` — a vendor's topic-based (R5 backport) subscription service under the
    /// FHIR base (`Strategies.subscriptions`); nil: none.
    public var topicSubscriptions: String?
    /// `hl7.outbound` — `HOST:PORT`s every sandbox of the profile sends its HL7 v2 feed to (as
    /// `--hl7-out` does for the default sandbox).
    public var hl7Outbound: [String] = []
    /// `hl7.inboundPort` — the default sandbox listens for the profile's inbound HL7 v2 (SRM, ADT)
    /// on this port from start-up (0: a free port, printed), unless `--hl7-in-port` names the
    /// profile; nil: only when asked.
    public var hl7InboundPort: Int?
    /// `hl7.application`, `hl7.facility` — MSH-3 and MSH-4 of what the profile sends (defaults:
    /// `FHIR-SANDBOX` and the seed's facility).
    public var hl7Application: String?
    public var hl7Facility: String?
    /// `deviations` — documented ways the vendor departs from R4 that the generic black-box suite
    /// skips (by id) when it runs against this profile; anything not declared must conform.
    public var deviations: [Deviation] = []

    public struct Deviation: Sendable, Equatable {
        public var id: String
        /// Where the vendor reference documents it (`§2.3`).
        public var reference: String
        public var what: String
    }
    /// `writes.createRules` — per type, what a create must look like (422 otherwise).
    public var createRules: [String: CreateRules.Rule] = [:]
    /// `writes.duplicatePatients` — refuse a Patient create that an existing patient matches with
    /// at least this score (PatientMatch: certain 90, probable 70); nil: off.
    public var duplicatePatientScore: Int?
    /// `search.paging` — the vendor's paging links (nil: the engine's own).
    public var paging: PagingStyle.Settings?
    /// `render.Slot.locationExtension` — an extension URL naming each slot's Location (Cerner's
    /// scheduling-location); nil: none.
    public var slotLocationExtension: String?
    /// `render.Patient` — how patients are shown (identifiers, extensions, names, telecom).
    public var patientRendering = PatientRendering.Rules()
    /// `render.Appointment.identifier` — an identifier every Appointment shows (Epic's CSN).
    public var appointmentIdentifier: AppointmentIdentifiers.Rule?
    /// `render.idIdentifiers` — identifiers whose value is the resource's vendor id without a
    /// prefix (athena's patient and appointment identifiers).
    public var idIdentifiers: [IDIdentifiers.Rule] = []
    /// `visitTypes` — the vendor's code system and codes for the clinic's visit types.
    public var visitTypeCodes: CodeAliases?
    /// `serviceTypes` — the vendor's code system, codes and displays for the schedules' service
    /// types (SNOMED in the seed).
    public var serviceTypeCodes: CodeAliases?
    /// `content.utcTimes` — Slot and Appointment times in UTC with `Z` (Cerner), not the clinic's offset.
    public var utcTimes = false
    /// `content.metadataXMLByDefault` — `/metadata` without `Accept` or `_format` answers in XML (Epic).
    public var metadataXMLByDefault = false
    /// `otherBases` — further FHIR bases over the same tenant (Epic's STU3 scheduling base),
    /// each with its own release, types, interactions, operations and parameter names.
    public var otherBases: [Base] = []

    /// A further FHIR base of the profile: the same data and auth, another surface.
    public struct Base: Sendable, Equatable {
        /// `fhirBase` — where it is mounted.
        public var fhirBase: String
        /// `fhirVersion` — R4 or STU3 (resources are rendered in STU3's shape).
        public var release: FHIRRelease = .r4
        /// `resources.include` — the only types served.
        public var types: [String] = []
        /// `resources.interactions` — per type, the interactions served.
        public var interactions: [String: [String]] = [:]
        /// `resources.operations` — the operations served (`Type/$name`).
        public var operations: [String] = []
        /// `resources.advertiseOperations` — list them in the CapabilityStatement (Epic does not).
        public var advertiseOperations = true
        /// `search.parameters` — per type, the only search parameters served.
        public var searchParameters: [String: [String]] = [:]
        /// `operationParameters` — per `Type/$name`, the vendor's parameter names (alias: canonical),
        /// in the file's order (the first alias of a parameter names it in messages).
        public var operationParameters: [String: [OperationParameters.Alias]] = [:]
        /// `onlyListedOperationParameters` — operations take only the names `operationParameters`
        /// lists (a name listed as itself is taken as it is); others are ignored with the
        /// `optionalParameterInvalid` note, never acted on.
        public var onlyListedOperationParameters = false

        public init(fhirBase: String) { self.fhirBase = fhirBase }
    }

    /// The file the profile came from.
    public var file: String

    public init(
        name: String, description: String = "", fhirBase: String, defaultPageSize: Int = 20, maxPageSize: Int = 1000,
        unknownParameters: UnknownParameters = .lenient, maxBodyBytes: Int = 4 << 20, file: String = ""
    ) {
        self.name = name
        self.description = description
        self.fhirBase = fhirBase
        self.defaultPageSize = defaultPageSize
        self.maxPageSize = maxPageSize
        self.unknownParameters = unknownParameters
        self.maxBodyBytes = maxBodyBytes
        self.file = file
    }
}
