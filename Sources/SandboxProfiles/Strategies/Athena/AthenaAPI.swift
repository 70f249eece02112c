import FHIRCore
import FHIRInteractions
import Foundation
import SandboxAuth
import SandboxSeed
import Scheduling

/// athenaOne's proprietary REST API, `/v1/{practiceid}/...` (vendor-quirks §3.4, §3.6, §3.8):
/// scheduling lives here, not in FHIR. Form-encoded writes, `MM/DD/YYYY` dates and naive local
/// `HH:mm` times, list envelopes with `totalcount`/`next`/`previous`, errors as
/// `{"error", "detailedmessage"}`, some failures as 200 `{"success": false}`, and the type drift
/// between the open-slot list (numbers) and booking answers (strings). Every write goes through
/// the tenant's FHIR service, so bookings here and on the FHIR side share the slot table.
struct AthenaAPI: ProprietaryAPI {
    /// A department: one of the seed's locations.
    struct Department {
        let number: Int
        let location: JSONObject
        var id: String { location["id"]?.stringValue ?? "" }
    }

    let service: FHIRService
    let horizon: SlotHorizon
    let seed: Seed
    let ids: AthenaIDs
    let practice: String
    /// The scope every call needs (`proprietary.scope`).
    let scope: String
    let departments: [Department]
    let practitioners: [String: JSONObject]
    /// Visit types numbered from 1 in the seed's order (their `appointmenttypeid`, and their
    /// `reasonid`: ASSUMPTION (§3.4), each visit type is also a web-schedulable reason).
    let types: [(number: Int, type: AppointmentType)]

    init(context: ProprietaryContext) {
        service = context.service
        horizon = context.horizon
        seed = context.seed
        practice = context.profile.auth.tenant
        ids = AthenaIDs(seed: context.seed, practice: practice)
        scope = context.profile.proprietary?.scope ?? "athena/service/Athenanet.MDP.*"
        var locations: [JSONObject] = []
        var practitioners: [String: JSONObject] = [:]
        for resource in context.seed.resources {
            guard let object = resource.objectValue, let id = object["id"]?.stringValue else { continue }
            switch object["resourceType"]?.stringValue {
            case "Location": locations.append(object)
            case "Practitioner": practitioners[id] = object
            default: break
            }
        }
        let ids = ids
        departments = locations.map { location in
            Department(number: Int(ids.number(location["id"]?.stringValue ?? "", type: "Location")) ?? 0, location: location)
        }.sorted { $0.number < $1.number }
        self.practitioners = practitioners
        types = context.seed.appointmentTypes.enumerated().map { ($0 + 1, $1) }
    }

    func handle(_ request: ProprietaryRequest) -> ProprietaryResponse {
        do throws(AthenaFailure) {
            guard request.access.scopes.contains(scope) else {
                throw AthenaFailure(
                    status: 401, "Unauthorized", detail: "The access token was not granted the scope \(scope), which this API needs.")
            }
            guard let first = request.segments.first, !first.isEmpty else {
                throw AthenaFailure(status: 404, "Invalid URL", detail: "The path must start with the practice id: /v1/\(practice)/...")
            }
            guard first == practice else {
                // ASSUMPTION (§3.4): a practice the app is not enabled for is refused like this.
                throw AthenaFailure(status: 403, "Forbidden", detail: "This application is not enabled for practice \(first).")
            }
            try? service.tenant.seedIfNeeded()
            return try route(request, Array(request.segments.dropFirst()))
        } catch {
            return error.response
        }
    }

    func route(_ request: ProprietaryRequest, _ path: [String]) throws(AthenaFailure) -> ProprietaryResponse {
        let method = request.method
        switch (method, path.count, path.first ?? "") {
        case ("GET", 2, "appointments") where path[1] == "open": return try openSlots(request)
        case ("GET", 2, "appointments") where path[1] == "booked": return try booked(request)
        case ("GET", 2, "appointments") where path[1] == "changed": return try changed(request)
        case ("PUT", 3, "appointments") where path[1] == "booked": return try updateBooked(request, path[2])
        case ("GET", 2, "appointments"): return try appointment(request, path[1])
        case ("PUT", 2, "appointments"): return try book(request, path[1])
        case ("PUT", 3, "appointments") where path[2] == "reschedule": return try reschedule(request, path[1])
        case ("PUT", 3, "appointments") where path[2] == "cancel": return try cancel(request, path[1])
        case ("PUT", 3, "appointments") where path[2] == "freeze": return try freeze(request, path[1])
        case ("POST", 3, "appointments") where path[2] == "checkin": return try checkIn(request, path[1])
        case ("POST", 3, "appointments") where path[2] == "notes": return try addNote(request, path[1])
        case ("GET", 3, "appointments") where path[2] == "notes": return try notes(request, path[1])
        case ("GET", 1, "appointmenttypes"): return try appointmentTypes(request)
        case ("GET", 1, "departments"): return try departmentList(request)
        case ("GET", 1, "providers"): return try providers(request)
        case ("GET", 1, "patients"): return try patients(request)
        case ("POST", 1, "patients"): return try createPatient(request)
        case ("GET", 2, "patients"): return try patient(path[1])
        default:
            let known = Self.routes.filter { $0.path == Self.shape(path) }
            if !known.isEmpty {
                throw AthenaFailure(
                    status: 405, "Method not allowed",
                    detail: "\(method) is not supported here; use \(known.map(\.method).joined(separator: " or ")).")
            }
            throw AthenaFailure(status: 404, "Invalid URL", detail: "There is no \(method) /\(path.joined(separator: "/")) in this API.")
        }
    }

    /// Bookings, reschedules, cancellations and freezes are Appointment updates (what test
    /// control's `slot-taken` races); notes are Communication creates.
    func classify(method: String, segments: [String]) -> (type: String, interaction: String)? {
        let path = Array(segments.dropFirst())
        switch (method, path.first ?? "") {
        case ("GET", "appointments"):
            return ("Appointment", path.count == 2 && !["open", "booked", "changed"].contains(path[1]) ? "read" : "search-type")
        case ("PUT", "appointments"): return ("Appointment", "update")
        case ("POST", "appointments"): return path.last == "notes" ? ("Communication", "create") : ("Appointment", "update")
        case ("GET", "patients"): return ("Patient", path.count == 2 ? "read" : "search-type")
        case ("POST", "patients"): return ("Patient", "create")
        case ("GET", "appointmenttypes"), ("GET", "departments"), ("GET", "providers"):
            return (path[0] == "providers" ? "Practitioner" : path[0] == "departments" ? "Location" : "HealthcareService", "search-type")
        default: return nil
        }
    }

    func refusal(status: Int, error: String, detail: String) -> ProprietaryResponse {
        AthenaFailure(status: status, error, detail: detail).response
    }

    /// athena's responses carry X-Request-Id (§3.2).
    func stamp(_ response: inout ProprietaryResponse) {
        response.headers.append(("X-Request-Id", UUID().uuidString.lowercased()))
    }

    /// Every route, for the 405 answer: the method and the path with `{id}` for ids.
    static let routes: [(method: String, path: String)] = [
        ("GET", "appointments/open"), ("GET", "appointments/booked"), ("GET", "appointments/changed"),
        ("PUT", "appointments/booked/{id}"), ("GET", "appointments/{id}"), ("PUT", "appointments/{id}"),
        ("PUT", "appointments/{id}/reschedule"), ("PUT", "appointments/{id}/cancel"), ("PUT", "appointments/{id}/freeze"),
        ("POST", "appointments/{id}/checkin"), ("POST", "appointments/{id}/notes"), ("GET", "appointments/{id}/notes"),
        ("GET", "appointmenttypes"), ("GET", "departments"), ("GET", "providers"), ("GET", "patients"), ("POST", "patients"),
        ("GET", "patients/{id}"),
    ]

    static func shape(_ path: [String]) -> String {
        let fixed: Set<String> = ["open", "booked", "changed", "reschedule", "cancel", "freeze", "checkin", "notes"]
        return path.enumerated().map { index, part in index > 0 && !fixed.contains(part) ? "{id}" : part }.joined(separator: "/")
    }
}

/// An error in athena's shape: `{"error": ..., "detailedmessage": ...}` with an HTTP status.
struct AthenaFailure: Error {
    let status: Int
    let error: String
    let detail: String?

    init(status: Int = 400, _ error: String, detail: String? = nil) {
        self.status = status
        self.error = error
        self.detail = detail
    }

    /// An engine error restated (its message, the field it names).
    init(_ error: FHIRError) {
        let status =
            switch error.code.status {
            case 404: 404
            case 409, 412: 409
            case 401, 403: error.code.status
            default: 400
            }
        self.init(status: status, error.message, detail: error.issues.first?.expression.first.map { "See \($0)." })
    }

    var response: ProprietaryResponse {
        var body = JSONObject(["error": .string(error)])
        if let detail { body["detailedmessage"] = .string(detail) }
        return .json(.object(body), status: status)
    }
}
