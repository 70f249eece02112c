import FHIRCore
import FHIRInteractions
import FHIRSearch
import FHIRStore
import Scheduling

/// The scheduling API's write-backs, answered with eCW's numeric statuses (vendor-quirks §4.4).
/// ASSUMPTION (§4.3: shapes not captured): a booking is `POST Appointment` with an R4
/// Appointment naming its slot(s) and the patient (by reference or identifier), optionally the
/// provider (by reference or NPI); a cancellation is `PUT Appointment/{id}` with `status:
/// cancelled`; a new chart is `POST Patient`. The engine's booking hook moves the slots by
/// compare-and-set, so a slot taken meanwhile is a 409 FAILURE, never a double booking.
extension HealowAPI {
    /// `POST Appointment`: book.
    func book(_ call: ProprietaryRequest) throws(HealowStatus) -> HealowStatus {
        var appointment = try resource(call, "Appointment")
        let status = appointment["status"]?.stringValue ?? "booked"
        guard status == "booked" else {
            throw HealowStatus(.failure, "status must be booked (or left out) to book an appointment, not '\(status)'")
        }
        appointment["status"] = .string("booked")
        for field in ["start", "end"] {
            guard let value = appointment[field] else { continue }
            guard let text = value.stringValue, FHIRDateTime.parse(text, form: .instant) != nil else {
                throw HealowStatus(
                    .invalidDateFormat, "\(field) must be a date-time with seconds and a time zone, like 2026-04-14T09:00:00-05:00")
            }
        }
        let slots = (appointment["slot"]?.arrayValue ?? []).compactMap { $0["reference"]?.stringValue }
        guard !slots.isEmpty else { throw HealowStatus(.failure, "slot is required: book a Slot from Slot?schedule={id}") }
        var participants = appointment["participant"]?.arrayValue ?? []
        guard let patientIndex = participants.firstIndex(where: { Self.actorType($0) == "Patient" }) else {
            throw HealowStatus(
                .invalidPatient, "participant must name the patient (actor Patient/{id}, or the patient's identifier with type Patient)")
        }
        let patient = try resolvePatient(participants[patientIndex])
        participants[patientIndex] = Self.participant(participants[patientIndex], reference: "Patient/\(patient)")
        let practitioner = try scheduledPractitioner(slot: slots[0])
        if let index = participants.firstIndex(where: { Self.actorType($0) == "Practitioner" }) {
            let named = try resolvePractitioner(participants[index])
            guard named == practitioner else {
                throw HealowStatus(
                    .invalidProvider,
                    "The provider named is not the one whose schedule \(slots[0]) is on (Practitioner/\(practitioner ?? "?"))")
            }
            participants[index] = Self.participant(participants[index], reference: "Practitioner/\(named)")
        } else if let practitioner {
            // ASSUMPTION (§4.3): the EHR's appointment names the provider whose schedule it is on.
            participants.append(Self.participant(.object(JSONObject()), reference: "Practitioner/\(practitioner)"))
        }
        appointment["participant"] = .array(participants)
        if call.frontDeskTakesSlot, let slot = slots.first?.split(separator: "/").last {
            // Test control's slot-taken: the front desk books it first, for another patient.
            let desk = StaffDesk(service: ehr)
            if let other = try? desk.anotherPatient(than: patient) { _ = try? desk.book(slot: String(slot), patient: other) }
        }
        return try create(call, appointment, "Appointment booked")
    }

    /// `PUT Appointment/{id}` with `status: cancelled`: cancel (the slots open again).
    func cancel(_ call: ProprietaryRequest, _ id: String) throws(HealowStatus) -> HealowStatus {
        let change = try resource(call, "Appointment")
        guard change["status"]?.stringValue == "cancelled" else {
            throw HealowStatus(
                .failure, "Only cancellation is supported here: send status cancelled (to reschedule, cancel and book another slot)")
        }
        if let named = change["id"]?.stringValue, named != id {
            throw HealowStatus(.failure, "The body's id \(named) is not the appointment in the URL (\(id))")
        }
        let current = forward(call, method: "GET", segments: ["Appointment", id])
        guard current.status == 200, var stored = (try? JSONParser.parse(current.body))?.objectValue else {
            throw current.status == 404 ? HealowStatus(.failure, "There is no appointment \(id)", httpStatus: 404) : Self.failure(current)
        }
        guard stored["status"]?.stringValue != "cancelled" else {
            throw HealowStatus(.failure, "Appointment \(id) is already cancelled", httpStatus: 409)
        }
        stored["status"] = .string("cancelled")
        if let reason = change["cancelationReason"] { stored["cancelationReason"] = reason }
        stored["meta"] = nil
        let answer = forward(call, method: "PUT", segments: ["Appointment", id], body: JSON.object(stored).bytes)
        guard answer.status == 200 || answer.status == 201 else { throw Self.failure(answer) }
        var cancelled = HealowStatus(.success, "Appointment cancelled")
        cancelled.created = ("Appointment", id)
        return cancelled
    }

    /// `POST Patient`: a new chart; the same name and birth date as an existing one is 202.
    func register(_ call: ProprietaryRequest) throws(HealowStatus) -> HealowStatus {
        let patient = try resource(call, "Patient")
        let name = patient["name"]?.arrayValue?.first
        guard let family = name?["family"]?.stringValue, let given = name?["given"]?.arrayValue?.first?.stringValue else {
            throw HealowStatus(.invalidPatient, "name needs a family and a given name")
        }
        guard let birthDate = patient["birthDate"]?.stringValue, FHIRDateTime.parse(birthDate, form: .date)?.precision == .day else {
            throw HealowStatus(.invalidDateFormat, "birthDate must be a full date, YYYY-MM-DD")
        }
        let existing = try search("Patient", [("family", family), ("given", given), ("birthdate", birthDate)])
        if let first = existing.first {
            throw HealowStatus(.patientAlreadyExists, "A patient with this name and date of birth already exists (Patient/\(first))")
        }
        return try create(call, patient, "Patient created")
    }

    /// Creates `resource` through the engine: SUCCESS naming the new id, or the engine's refusal.
    func create(_ call: ProprietaryRequest, _ resource: JSONObject, _ message: String) throws(HealowStatus) -> HealowStatus {
        let type = resource["resourceType"]?.stringValue ?? ""
        let answer = forward(call, method: "POST", segments: [type], body: JSON.object(resource).bytes)
        guard answer.status == 201, let id = Self.id(of: answer) else { throw Self.failure(answer) }
        var created = HealowStatus(.success, message)
        created.created = (type, id)
        return created
    }

    /// The request body as a resource of `type`.
    func resource(_ call: ProprietaryRequest, _ type: String) throws(HealowStatus) -> JSONObject {
        guard let body = call.body, !body.isEmpty, let object = (try? JSONParser.parse(body))?.objectValue else {
            throw HealowStatus(.failure, "The body must be a FHIR \(type) in JSON")
        }
        guard object["resourceType"]?.stringValue == type else {
            throw HealowStatus(
                .failure, "The body must be a FHIR \(type), not \(object["resourceType"]?.stringValue ?? "an object without resourceType")")
        }
        return object
    }

    /// The stored patient a participant names: by reference (207 when unknown) or identifier
    /// (201 when several charts carry it).
    func resolvePatient(_ participant: JSON) throws(HealowStatus) -> String {
        let actor = participant["actor"]
        if let reference = actor?["reference"]?.stringValue {
            let parts = reference.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == "Patient", !parts[1].isEmpty else {
                throw HealowStatus(.invalidPatient, "The patient reference must be Patient/{id}, not '\(reference)'")
            }
            guard try !search("Patient", [("_id", String(parts[1]))]).isEmpty else {
                throw HealowStatus(.patientNotFound, "There is no patient \(reference) in this practice")
            }
            return String(parts[1])
        }
        guard let identifier = actor?["identifier"], let value = identifier["value"]?.stringValue else {
            throw HealowStatus(.invalidPatient, "The patient participant needs actor.reference or actor.identifier")
        }
        let token = identifier["system"]?.stringValue.map { "\($0)|\(value)" } ?? value
        let found = try search("Patient", [("identifier", token)])
        guard !found.isEmpty else { throw HealowStatus(.patientNotFound, "No patient has the identifier \(token)") }
        guard found.count == 1 else {
            throw HealowStatus(.multiplePatientsFound, "\(found.count) patients have the identifier \(token); name the patient by id")
        }
        return found[0]
    }

    /// The practitioner a participant names, by reference or NPI; 101 when unknown.
    func resolvePractitioner(_ participant: JSON) throws(HealowStatus) -> String {
        let actor = participant["actor"]
        let found: [String]
        if let reference = actor?["reference"]?.stringValue, reference.hasPrefix("Practitioner/") {
            found = try search("Practitioner", [("_id", String(reference.dropFirst(13)))])
        } else if let npi = actor?["identifier"]?["value"]?.stringValue {
            found = try search("Practitioner", [("identifier", "\(Self.npiSystem)|\(npi)")])
        } else {
            throw HealowStatus(.invalidProvider, "The provider participant needs actor.reference or actor.identifier (the NPI)")
        }
        guard found.count == 1 else { throw HealowStatus(.invalidProvider, "The provider named is not one of this practice's") }
        return found[0]
    }

    /// The practitioner whose schedule a slot is on (nil: the slot is unknown; the booking says so).
    func scheduledPractitioner(slot reference: String) throws(HealowStatus) -> String? {
        let id = String(reference.split(separator: "/").last ?? "")
        do {
            try horizon.extend()
            guard let row = try ehr.read({ reader throws(FHIRError) in try reader.slots(ids: [id]) }).first else { return nil }
            let query = try ehr.searchParser().parse(type: "Schedule", parameters: [("_id", row.schedule)], strict: true, now: 0)
            let bodies = try ehr.read { reader throws(FHIRError) in try reader.bodies(try reader.search(query)) }
            let actors = bodies.first.flatMap { (try? JSONParser.parse($0.1))?["actor"]?.arrayValue } ?? []
            return actors.compactMap { $0["reference"]?.stringValue }.first { $0.hasPrefix("Practitioner/") }.map {
                String($0.dropFirst(13))
            }
        } catch {
            throw HealowStatus(error)
        }
    }

    /// Ids of stored `type` resources matching `parameters`.
    func search(_ type: String, _ parameters: [(name: String, value: String)]) throws(HealowStatus) -> [String] {
        do {
            let query = try ehr.searchParser().parse(type: type, parameters: parameters, strict: true, now: ehr.clock.now())
            return try ehr.read { reader throws(FHIRError) in try reader.search(query).map(\.id) }
        } catch {
            throw HealowStatus(error)
        }
    }

    static func actorType(_ participant: JSON) -> String? {
        let actor = participant["actor"]
        if let reference = actor?["reference"]?.stringValue { return reference.split(separator: "/").first.map(String.init) }
        return actor?["type"]?.stringValue
    }

    static func participant(_ participant: JSON, reference: String) -> JSON {
        guard case .object(var object) = participant else { return participant }
        object["actor"] = .object(JSONObject(["reference": .string(reference)]))
        if object["status"] == nil { object["status"] = .string("accepted") }
        return .object(object)
    }

    static func id(of response: FHIRResponse) -> String? {
        (try? JSONParser.parse(response.body))?["id"]?.stringValue
    }

    /// An engine refusal restated as a FAILURE (its message; 409 for a slot taken).
    static func failure(_ response: FHIRResponse) -> HealowStatus {
        if let error = response.error { return HealowStatus(error) }
        let message = (try? JSONParser.parse(response.body))?["issue"]?.arrayValue?.first?["diagnostics"]?.stringValue
        return HealowStatus(
            .failure, message ?? "The request failed (HTTP \(response.status))", httpStatus: response.status >= 500 ? 400 : response.status)
    }
}
