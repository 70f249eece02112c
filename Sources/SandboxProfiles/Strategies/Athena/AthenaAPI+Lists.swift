import FHIRCore
import FHIRInteractions
import FHIRSearch
import FHIRStore
import SandboxSeed
import Scheduling

/// Booked and changed appointments, call notes, and how an appointment is written in answers
/// (vendor-quirks §3.4).
extension AthenaAPI {
    /// An appointment as booking answers and the booked list write it: ids as JSON strings,
    /// `duration` a number (§3.4 type drift, `BookAppointment.json`).
    func rendered(_ appointment: JSONObject) throws(AthenaFailure) -> JSON {
        let id = appointment["id"]?.stringValue ?? ""
        let start = instant(appointment["start"]) ?? 0
        let end = instant(appointment["end"]) ?? start
        var location: String?
        var practitioner: String?
        for participant in appointment["participant"]?.arrayValue ?? [] {
            guard let reference = participant["actor"]?["reference"]?.stringValue.flatMap(ReferenceSyntax.parse) else { continue }
            if reference.type == "Location" { location = location ?? reference.id }
            if reference.type == "Practitioner" { practitioner = practitioner ?? reference.id }
        }
        if location == nil || practitioner == nil, let slot = try? AppointmentBooking.slotIDs(appointment).first,
            let row = try? service.read({ reader throws(FHIRError) in try reader.slots(ids: [slot]) }).first,
            let template = template(row.schedule)
        {
            location = location ?? template.location
            practitioner = practitioner ?? template.practitioner
        }
        let code = appointment["appointmentType"]?["coding"]?.arrayValue?.first { $0["system"]?.stringValue == AppointmentType.system }?[
            "code"]?
            .stringValue
        let type = code.flatMap { seed.appointmentType($0) }
        let minutes = appointment["minutesDuration"]?.numberText.flatMap { Int($0) } ?? Int((end - start) / 60_000)
        var item = JSONObject([
            "date": .string(Self.date(seed.localDay(start))), "appointmentid": .string(numberText(id, "Appointment")),
            "starttime": .string(time(start)),
            "departmentid": .string(location.flatMap { department(location: $0) }.map { String($0.number) } ?? ""),
            "appointmentstatus": .string(Self.status(appointment["status"]?.stringValue ?? "")),
            "patientid": .string(Self.patient(of: appointment).map { numberText($0, "Patient") } ?? ""), "duration": .int(minutes),
            "appointmenttypeid": .string(code.map { String(typeNumber($0)) } ?? ""),
            "appointmenttype": .string(type?.display ?? appointment["appointmentType"]?["text"]?.stringValue ?? ""),
            "providerid": .string(practitioner.map { numberText($0, "Practitioner") } ?? ""), "chargeentrynotrequired": .bool(false),
            "supervisingproviderid": .int(0), "patientappointmenttypename": .string(type?.display ?? ""),
        ])
        if let created = instant(appointment["created"]) { item["scheduleddatetime"] = .string(stamp(created)) }
        if let updated = instant(appointment["meta"]?["lastUpdated"]) { item["lastmodified"] = .string(stamp(updated)) }
        if let note = appointment["comment"]?.stringValue { item["bookingnote"] = .string(note) }
        if let reason = appointment["cancelationReason"]?["text"]?.stringValue { item["cancelreasonname"] = .string(reason) }
        return .object(item)
    }

    func instant(_ value: JSON?) -> Int64? {
        value?.stringValue.flatMap { FHIRDateTime.parse($0, form: .instant) }?.startMilliseconds(in: seed.zone)
    }

    /// §3.4 `appointment_status.go`: `x` cancelled, `f` future, `o` open, `2` checked in, `3`
    /// checked out, `4` charge entered. ASSUMPTION: a no-show is `x` (athena lists no code for
    /// it) and a fulfilled visit `3`; `4` is never reached in the sandbox.
    static func status(_ status: String) -> String {
        switch status {
        case "cancelled", "noshow", "entered-in-error": "x"
        case "arrived", "checked-in": "2"
        case "fulfilled": "3"
        default: "f"
        }
    }

    /// Resources by stored id (live ones, in the given order).
    func load(_ type: String, _ ids: [String]) throws(AthenaFailure) -> [JSONObject] {
        do {
            return try service.read { reader throws(FHIRError) in
                try reader.bodies(try reader.keys(type, ids: ids)).compactMap { try? JSONParser.parse($0.1).objectValue }
            }
        } catch {
            throw AthenaFailure(error)
        }
    }

    /// A search with the engine's own parameters (whatever the FHIR base lets clients use).
    func search(_ type: String, _ parameters: [(name: String, value: String)]) throws(AthenaFailure) -> [JSONObject] {
        do {
            let query = try SearchQueryParser(registry: .r4, zone: seed.zone).parse(
                type: type, parameters: parameters, strict: true, now: now())
            return try service.read { reader throws(FHIRError) in
                try reader.bodies(try reader.search(query)).compactMap { try? JSONParser.parse($0.1).objectValue }
            }
        } catch {
            throw AthenaFailure(error)
        }
    }

    /// `GET /appointments/booked`: `startdate` and `enddate` required (inclusive); filters
    /// `providerid`, `departmentid`, `patientid`, `appointmentstatus`; limit 1000, max 10000.
    func booked(_ request: ProprietaryRequest) throws(AthenaFailure) -> ProprietaryResponse {
        guard let first = try day(request, "startdate"), let last = try day(request, "enddate") else {
            throw AthenaFailure(
                "Missing required field: startdate and enddate.", detail: "startdate and enddate (mm/dd/yyyy) are required.")
        }
        let from = seed.instant(day: first, time: TimeOfDay(minutes: 0))
        let until = seed.instant(day: last + 1, time: TimeOfDay(minutes: 0))
        let list = try search(
            "Appointment", [(name: "date", value: "ge" + InstantFormat.iso(from)), (name: "date", value: "lt" + InstantFormat.iso(until))])
        return try listed(list, request: request, path: "appointments/booked")
    }

    /// `GET /appointments/changed`: appointments changed between `showprocessedstartdatetime` and
    /// `showprocessedenddatetime` (`MM/DD/YYYY HH:mm:ss`). ASSUMPTION (§3.4): without a change
    /// subscription; the start defaults to the beginning of today, the end to now.
    func changed(_ request: ProprietaryRequest) throws(AthenaFailure) -> ProprietaryResponse {
        let now = now()
        let from = try instant(request, "showprocessedstartdatetime") ?? seed.instant(day: seed.localDay(now), time: TimeOfDay(minutes: 0))
        let until = try instant(request, "showprocessedenddatetime") ?? now
        let list = try search(
            "Appointment",
            [(name: "_lastUpdated", value: "ge" + InstantFormat.iso(from)), (name: "_lastUpdated", value: "le" + InstantFormat.iso(until))])
        return try listed(list, request: request, path: "appointments/changed")
    }

    func listed(_ list: [JSONObject], request: ProprietaryRequest, path: String) throws(AthenaFailure) -> ProprietaryResponse {
        let providers = try integers(request, "providerid").map { Set($0.map(String.init)) }
        let departmentFilter = try integers(request, "departmentid").map { Set($0.map(String.init)) }
        let patient = request.value("patientid").flatMap { $0.isEmpty ? nil : $0 }
        let statuses = request.value("appointmentstatus").map { Set($0.split(separator: ",").map(String.init)) }
        var items: [(Int64, JSON)] = []
        for appointment in list where appointment["status"]?.stringValue != "proposed" {
            let item = try rendered(appointment)
            if let providers, !providers.contains(item["providerid"]?.stringValue ?? "") { continue }
            if let departmentFilter, !departmentFilter.contains(item["departmentid"]?.stringValue ?? "") { continue }
            if let patient, item["patientid"]?.stringValue != patient { continue }
            if let statuses, !statuses.contains(item["appointmentstatus"]?.stringValue ?? "") { continue }
            items.append((instant(appointment["start"]) ?? 0, item))
        }
        items.sort { $0.0 < $1.0 }
        return try page(items.map(\.1), key: "appointments", request: request, path: path, defaultLimit: 1000, maxLimit: 10000)
    }

    /// `POST /appointments/{id}/notes` with `notetext` (required) and `displayonschedule`:
    /// stored as a Communication that is part of the appointment (what a voice agent's call
    /// note becomes). ASSUMPTION (§3.4): answers `{"success": true}`.
    func addNote(_ request: ProprietaryRequest, _ text: String) throws(AthenaFailure) -> ProprietaryResponse {
        let request = try form(request)
        let note = try required(request, "notetext")
        let display = try flag(request, "displayonschedule")
        let id = try bookedAppointment(text)
        _ = try write { writer throws(FHIRError) in
            let appointment = try current(id, text, writer)
            var communication = JSONObject([
                "resourceType": .string("Communication"), "status": .string("completed"),
                "partOf": .array([.object(JSONObject(["reference": .string("Appointment/\(id)")]))]),
                "sent": .string(seed.format(writer.now)), "payload": .array([.object(JSONObject(["contentString": .string(note)]))]),
                "extension": .array([.object(JSONObject(["url": .string(Self.displayOnSchedule), "valueBoolean": .bool(display)]))]),
            ])
            if let patient = Self.patient(of: appointment) {
                communication["subject"] = .object(JSONObject(["reference": .string("Patient/\(patient)")]))
            }
            return try writer.put("Communication", id: nil, communication).id
        }
        return .json(.object(JSONObject(["success": .bool(true)])))
    }

    static let displayOnSchedule = "https://fhir-sandbox.example.org/StructureDefinition/athena-displayonschedule"

    /// `GET /appointments/{id}/notes`: `{"notes": [{"noteid", "notetext", "displayonschedule",
    /// "created"}], "totalcount"}`.
    func notes(_ request: ProprietaryRequest, _ text: String) throws(AthenaFailure) -> ProprietaryResponse {
        let id = try bookedAppointment(text)
        guard try !load("Appointment", [id]).isEmpty else {
            throw AthenaFailure(status: 404, "The appointment ID is invalid.", detail: "There is no booked appointment \(text).")
        }
        let notes = try search("Communication", [(name: "part-of", value: "Appointment/\(id)")]).sorted {
            ($0["sent"]?.stringValue ?? "") < ($1["sent"]?.stringValue ?? "")
        }
        // ASSUMPTION (§3.4): note ids number the appointment's notes from 1, in order.
        let items: [JSON] = notes.enumerated().map { index, note in
            let display = note["extension"]?.arrayValue?.first { $0["url"]?.stringValue == Self.displayOnSchedule }?["valueBoolean"]
            return .object(
                JSONObject([
                    "noteid": .string(String(index + 1)),
                    "notetext": .string(note["payload"]?.arrayValue?.first?["contentString"]?.stringValue ?? ""),
                    "displayonschedule": .string(display?.boolValue == true ? "true" : "false"),
                    "created": .string(instant(note["sent"]).map(stamp) ?? ""),
                ]))
        }
        return .json(.object(JSONObject(["totalcount": .int(items.count), "notes": .array(items)])))
    }
}
