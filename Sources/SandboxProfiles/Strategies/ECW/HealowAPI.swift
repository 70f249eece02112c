import FHIRCore
import FHIRInteractions
import SandboxSeed
import Scheduling

/// eClinicalWorks' healow FHIR Scheduling API (vendor-quirks §4.3, §4.4), a separate,
/// contract-gated base beside the read-only facade: `Schedule` searched by the provider's
/// **NPI** (`actor`), the facility id (`actor.location`) and `date=ge...` (`type` and
/// `identifier` unsupported), then — ASSUMPTION (§4.3: "presumably in the same API", shapes not
/// captured) — `Slot` search by schedule, and `Appointment` book, read, search and cancel. Reads
/// answer FHIR R4 (errors as OperationOutcome); write-backs answer eCW's numeric `status` codes
/// (§4.4) instead of an OperationOutcome. Everything runs on the tenant's full R4 service, so the
/// facade, staff actions and test control see the same bookings and no slot is booked twice.
struct HealowAPI: ProprietaryAPI {
    let ehr: FHIRService
    let horizon: SlotHorizon
    /// ASSUMPTION (§4.3: "facility `2`"): facility ids number the seed's locations from 1, in
    /// seed order.
    let facilities: [(number: Int, location: String)]

    init(context: ProprietaryContext) {
        ehr = context.ehr
        horizon = context.horizon
        let locations = context.seed.resources.compactMap { resource -> String? in
            guard resource.objectValue?["resourceType"]?.stringValue == "Location" else { return nil }
            return resource.objectValue?["id"]?.stringValue
        }
        facilities = locations.enumerated().map { ($0 + 1, $1) }
    }

    func handle(_ request: ProprietaryRequest) -> ProprietaryResponse {
        try? ehr.tenant.seedIfNeeded()
        let path = request.segments
        switch (request.method, path.count, path.first ?? "") {
        case ("GET", 1, "Schedule"): return reading { () throws(FHIRError) in try schedules(request) }
        case ("GET", 1, "Slot"): return reading { () throws(FHIRError) in try slots(request) }
        case ("GET", 1, "Appointment"): return reading { () throws(FHIRError) in try appointments(request) }
        case ("GET", 2, "Appointment"), ("GET", 2, "Slot"), ("GET", 2, "Schedule"):
            return reading { () throws(FHIRError) in try read(request, path[0], path[1]) }
        case ("POST", 1, "Appointment"): return writing { () throws(HealowStatus) in try book(request) }
        case ("PUT", 2, "Appointment"): return writing { () throws(HealowStatus) in try cancel(request, path[1]) }
        case ("POST", 1, "Patient"): return writing { () throws(HealowStatus) in try register(request) }
        default:
            let known = Self.routes.filter { $0.path == Self.shape(path) }.map(\.method)
            let error =
                known.isEmpty
                ? FHIRError(.notFound, "There is no \(request.method) /\(path.joined(separator: "/")) in the healow Scheduling API")
                : FHIRError(.methodNotAllowed, "\(request.method) is not supported here; use \(known.joined(separator: " or "))")
            return Self.outcome(error)
        }
    }

    /// Every route, for the 404/405 answers.
    static let routes: [(method: String, path: String)] = [
        ("GET", "Schedule"), ("GET", "Schedule/{id}"), ("GET", "Slot"), ("GET", "Slot/{id}"), ("GET", "Appointment"),
        ("GET", "Appointment/{id}"), ("POST", "Appointment"), ("PUT", "Appointment/{id}"), ("POST", "Patient"),
    ]

    static func shape(_ path: [String]) -> String {
        path.enumerated().map { $0 > 0 ? "{id}" : $1 }.joined(separator: "/")
    }

    func classify(method: String, segments: [String]) -> (type: String, interaction: String)? {
        guard let type = segments.first, ["Schedule", "Slot", "Appointment", "Patient"].contains(type) else { return nil }
        switch (method, segments.count) {
        case ("GET", 1): return (type, "search-type")
        case ("GET", 2): return (type, "read")
        case ("POST", 1): return (type, "create")
        case ("PUT", 2): return (type, "update")
        default: return nil
        }
    }

    /// ASSUMPTION (§4.3): the scheduling API's own refusals (token, throttles) are FHIR's.
    func refusal(status: Int, error: String, detail: String) -> ProprietaryResponse {
        let code: FHIRError.Code =
            switch status {
            case 401: .unauthorized
            case 403: .forbidden
            case 413: .payloadTooLarge
            case 429: .rateLimited
            case 503: .unavailable
            default: FHIRError.Code.table.first { $0.status == status } ?? .invalidParameter
            }
        return Self.outcome(FHIRError(code, error == detail ? detail : "\(error): \(detail)"))
    }

    func stamp(_ response: inout ProprietaryResponse) {}

    /// A read's answer: the FHIR response, or its error as an OperationOutcome.
    func reading(_ body: () throws(FHIRError) -> ProprietaryResponse) -> ProprietaryResponse {
        do { return try body() } catch { return Self.outcome(error) }
    }

    /// A write-back's answer: eCW's status body, success or not.
    func writing(_ body: () throws(HealowStatus) -> HealowStatus) -> ProprietaryResponse {
        do { return try body().response } catch { return error.response }
    }

    static func outcome(_ error: FHIRError) -> ProprietaryResponse {
        ProprietaryResponse(FHIRResponse.error(error))
    }

    /// The engine's answer to `request`, made with the caller's token and this API's base URL.
    func forward(
        _ call: ProprietaryRequest, method: String, segments: [String], query: [(name: String, value: String)] = [],
        body: [UInt8]? = nil
    ) -> FHIRResponse {
        var request = FHIRRequest(
            method: method, segments: segments, query: query,
            headers: .init(contentType: body == nil ? nil : "application/fhir+json", prefer: .init(returnPreference: .representation)),
            body: body, baseURL: call.baseURL)
        request.access = call.access
        return ehr.handle(request)
    }
}

extension ProprietaryResponse {
    /// A FHIR response as the proprietary controller sends it.
    init(_ response: FHIRResponse) {
        var response = response
        response.flush()
        self.init(status: response.status, headers: response.headers.map { ($0.name, $0.value) }, body: response.body)
    }
}

/// eCW's write-back answer (§4.4): a numeric `status` instead of an OperationOutcome. ASSUMPTION
/// (§4.4 lists the codes, not the body or the HTTP status): `{"status": 1, "statusText":
/// "SUCCESS", "message": ..., "resourceType": ..., "id": ...}`; 200 on success, 404 for an
/// unknown patient or appointment, 409 for a slot no longer free, 400 otherwise.
struct HealowStatus: Error {
    enum Code: Int {
        case success = 1
        case failure = 2
        case invalidPatient = 100
        case invalidProvider = 101
        case multiplePatientsFound = 201
        case patientAlreadyExists = 202
        case invalidDateFormat = 204
        case patientNotFound = 207

        var text: String {
            switch self {
            case .success: "SUCCESS"
            case .failure: "FAILURE"
            case .invalidPatient: "INVALID_PATIENT"
            case .invalidProvider: "INVALID_PROVIDER"
            case .multiplePatientsFound: "INVALID_MULTIPLE_PATIENT_FOUND"
            case .patientAlreadyExists: "INVALID_PATIENT_ALREADY_EXIST"
            case .invalidDateFormat: "INVALID_DATE_FORMAT"
            case .patientNotFound: "PATIENT_NOT_FOUND"
            }
        }
    }

    let code: Code
    let message: String
    var httpStatus: Int
    var created: (type: String, id: String)?

    init(_ code: Code, _ message: String, httpStatus: Int? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus ?? (code == .success ? 200 : code == .patientNotFound ? 404 : 400)
    }

    /// A failure for an engine error: its message; a conflict stays a 409, a missing resource a
    /// 404, a token that does not allow the write a 401/403.
    init(_ error: FHIRError) {
        let status = error.code.status
        let http =
            switch status {
            case 401, 403, 404: status
            case 409, 410, 412, 423: 409
            default: 400
            }
        let place = error.issues.first?.expression.first.map { " (at \($0))" } ?? ""
        self.init(.failure, error.message + place, httpStatus: http)
    }

    var response: ProprietaryResponse {
        var body = JSONObject(["status": .int(code.rawValue), "statusText": .string(code.text), "message": .string(message)])
        if let created {
            body["resourceType"] = .string(created.type)
            body["id"] = .string(created.id)
        }
        return .json(.object(body), status: httpStatus)
    }
}
