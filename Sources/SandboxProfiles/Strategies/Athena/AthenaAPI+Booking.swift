import FHIRCore
import FHIRInteractions
import FHIRStore
import SandboxSeed
import Scheduling

/// Booking and the appointment lifecycle (vendor-quirks §3.4): book by a form-encoded PUT on
/// the open appointment's id, reschedule, cancel, check in, and update a booked appointment.
/// The stored Appointment is an R4 one; the booking hook moves the slots by compare-and-set,
/// so nothing here, on the FHIR side, in a staff action or over HL7 books a slot twice.
extension AthenaAPI {
    /// `PUT /appointments/{appointmentid}`: `patientid` required; `appointmenttypeid` or
    /// `reasonid` picks the visit type (ASSUMPTION: neither takes the first type the slot fits);
    /// answers a one-element array with `appointmentstatus: "f"` and ids as strings.
    func book(_ request: ProprietaryRequest, _ text: String) throws(AthenaFailure) -> ProprietaryResponse {
        let request = try form(request)
        let patient = try patient(of: request)
        let (slot, generation) = try openAppointment(text)
        let type = try requestedType(request)
        let departmentNumber = try integer(request, "departmentid")
        for name in ["nopatientcase", "ignoreschedulablepermission", "donotsendconfirmationemail", "urgent"] { _ = try flag(request, name) }
        let note = request.value("bookingnote")
        if request.frontDeskTakesSlot {
            // Test control's slot-taken: someone at the front desk books it first (for another patient).
            let desk = StaffDesk(service: service)
            if let other = try? desk.anotherPatient(than: patient) { _ = try? desk.book(slot: slot, patient: other) }
        }
        let stored = try write { writer throws(FHIRError) in
            try book(
                slot: slot, generation: generation, text: text, patient: patient, type: type, department: departmentNumber, note: note,
                writer: writer)
        }
        return .json(.array([try rendered(stored)]))
    }

    /// The visit type a booking names (`appointmenttypeid`, else a `reasonid` other than -1).
    func requestedType(_ request: ProprietaryRequest) throws(AthenaFailure) -> AppointmentType? {
        if let number = try integer(request, "appointmenttypeid") {
            guard let type = visitType(number: number) else {
                throw AthenaFailure("Invalid appointmenttypeid.", detail: "There is no appointment type \(number).")
            }
            return type
        }
        if let reason = try integer(request, "reasonid"), reason != -1 {
            guard let type = visitType(number: reason) else {
                throw AthenaFailure("Invalid reasonid.", detail: "There is no reason \(reason).")
            }
            return type
        }
        return nil
    }

    /// The stored patient `patientid` names; 400 naming it otherwise.
    func patient(of request: ProprietaryRequest) throws(AthenaFailure) -> String {
        let text = try required(request, "patientid")
        guard let patient = stored(text, "Patient") else {
            throw AthenaFailure("Invalid patientid.", detail: "There is no patient \(text) in this practice.")
        }
        return patient
    }

    /// Books `slot` (its open appointment of `generation`) inside a write; the stored Appointment.
    func book(
        slot: String, generation: Int, text: String, patient: String, type wanted: AppointmentType?, department: Int?, note: String?,
        writer: FHIRWriter
    ) throws(FHIRError) -> JSONObject {
        guard try writer.current("Patient", patient) != nil else {
            throw FHIRError(.invalidParameter, "There is no patient \(numberText(patient, "Patient")) in this practice.")
        }
        guard try Self.generation(of: slot, writer) == generation, let row = try writer.transaction.slots([slot]).first,
            row.status == "free" || row.status == "busy-tentative", let template = template(row.schedule)
        else { throw FHIRError(.conflict, "Appointment \(text) is not an open appointment; list open appointments again.") }
        if let department, self.department(location: template.location)?.number != department {
            throw FHIRError(.invalidParameter, "Appointment \(text) is not in department \(department).")
        }
        var filter = SlotFilter()
        filter.schedules = [row.schedule]
        filter.times = [[.range(from: row.start, before: row.start + 4 * 3_600_000)]]
        let list = try writer.transaction.slots(filter).sorted { $0.start < $1.start }
        let candidates = wanted.map { [$0] } ?? seed.appointmentTypes.filter { row.types.contains($0.code) }
        guard let (type, run) = candidates.lazy.compactMap({ type in Self.run(list, from: 0, type: type).map { (type, $0) } }).first else {
            let name = wanted?.display ?? "any appointment type"
            throw FHIRError(
                .invalidParameter, "Appointment \(text) does not take \(name) (the slot or the time after it is not free for it).")
        }
        var appointment = JSONObject([
            "resourceType": .string("Appointment"), "status": .string("booked"),
            "appointmentType": .object(
                JSONObject([
                    "coding": .array([
                        .object(
                            JSONObject([
                                "system": .string(AppointmentType.system), "code": .string(type.code), "display": .string(type.display),
                            ]))
                    ]), "text": .string(type.display),
                ])),
            "start": .string(seed.format(run[0].start)), "end": .string(seed.format(run[run.count - 1].end)),
            "minutesDuration": .int(type.minutes), "created": .string(seed.format(writer.now)),
            "slot": .array(run.map { .object(JSONObject(["reference": .string("Slot/\($0.id)")])) }),
            "participant": .array([
                participant("Patient", patient), participant("Practitioner", template.practitioner),
                participant("Location", template.location),
            ]),
        ])
        if let note, !note.isEmpty { appointment["comment"] = .string(note) }
        let stored = try writer.put("Appointment", id: AthenaIDs.bookedID(slot: slot, generation: generation), appointment)
        return (try? JSONParser.parse(stored.body ?? []))?.objectValue ?? appointment
    }

    func participant(_ type: String, _ id: String) -> JSON {
        .object(JSONObject(["actor": .object(JSONObject(["reference": .string("\(type)/\(id)")])), "status": .string("accepted")]))
    }

    /// The stored Appointment an athena appointment id names (booked, cancelled, ...); 404 otherwise.
    func bookedAppointment(_ text: String) throws(AthenaFailure) -> String {
        guard let id = stored(text, "Appointment") else {
            throw AthenaFailure(status: 404, "The appointment ID is invalid.", detail: "There is no booked appointment \(text).")
        }
        return id
    }

    func current(_ id: String, _ text: String, _ writer: FHIRWriter) throws(FHIRError) -> JSONObject {
        guard let appointment = try writer.current("Appointment", id)?.resource else {
            throw FHIRError(.notFound, "There is no booked appointment \(text).")
        }
        return appointment
    }

    /// `PUT /appointments/{id}/cancel` with `patientid` (required) and `cancellationreason`.
    /// ASSUMPTION (§3.4: the params are unverified): the patient must be the appointment's; the
    /// answer is `{"status": "x"}`; the appointment keeps its id and its time is offered again
    /// under a new open appointment id.
    func cancel(_ request: ProprietaryRequest, _ text: String) throws(AthenaFailure) -> ProprietaryResponse {
        let request = try form(request)
        let patient = try patient(of: request)
        let id = try bookedAppointment(text)
        let reason = request.value("cancellationreason").flatMap { $0.isEmpty ? nil : $0 } ?? "Cancelled through the API"
        _ = try write { writer throws(FHIRError) in try cancel(id, text: text, patient: patient, reason: reason, writer: writer) }
        return .json(.object(JSONObject(["status": .string("x")])))
    }

    func cancel(_ id: String, text: String, patient: String, reason: String, writer: FHIRWriter) throws(FHIRError) -> JSONObject {
        var appointment = try current(id, text, writer)
        guard Self.patient(of: appointment) == patient else {
            throw FHIRError(.invalidParameter, "Appointment \(text) is not patient \(numberText(patient, "Patient"))'s.")
        }
        guard let status = appointment["status"]?.stringValue, AppointmentStatusModel.occupying.contains(status) else {
            throw FHIRError(.conflict, "Appointment \(text) is not a future appointment; it cannot be cancelled.")
        }
        appointment["status"] = .string("cancelled")
        appointment["cancelationReason"] = .object(JSONObject(["text": .string(reason)]))
        appointment["meta"] = nil
        let stored = try writer.put("Appointment", id: id, SchedulingContext.participants(appointment, status: "declined"))
        return (try? JSONParser.parse(stored.body ?? []))?.objectValue ?? appointment
    }

    static func patient(of appointment: JSONObject) -> String? {
        for participant in appointment["participant"]?.arrayValue ?? [] {
            if let reference = participant["actor"]?["reference"]?.stringValue.flatMap(ReferenceSyntax.parse), reference.type == "Patient" {
                return reference.id
            }
        }
        return nil
    }

    /// `PUT /appointments/{id}/reschedule`: `newappointmentid` and `patientid` required; the old
    /// appointment is cancelled and the new one booked with its type, in one transaction.
    func reschedule(_ request: ProprietaryRequest, _ text: String) throws(AthenaFailure) -> ProprietaryResponse {
        let request = try form(request)
        let patient = try patient(of: request)
        let id = try bookedAppointment(text)
        let newText = try required(request, "newappointmentid")
        let (slot, generation) = try openAppointment(newText)
        _ = try integer(request, "appointmentcancelreasonid")
        for name in ["nopatientcase", "ignoreschedulablepermission"] { _ = try flag(request, name) }
        let reason = request.value("reschedulereason").flatMap { $0.isEmpty ? nil : $0 } ?? "Rescheduled"
        let requested = try requestedType(request)
        let stored = try write { writer throws(FHIRError) in
            let old = try current(id, text, writer)
            let code = old["appointmentType"]?["coding"]?.arrayValue?.first?["code"]?.stringValue
            let type = requested ?? code.flatMap { seed.appointmentType($0) }
            _ = try cancel(id, text: text, patient: patient, reason: "Rescheduled: \(reason)", writer: writer)
            return try book(
                slot: slot, generation: generation, text: newText, patient: patient, type: type, department: nil,
                note: old["comment"]?.stringValue, writer: writer)
        }
        var item = try rendered(stored).objectValue ?? JSONObject()
        item["rescheduledappointmentid"] = .string(text)
        return .json(.array([.object(item)]))
    }

    /// `POST /appointments/{id}/checkin`. ASSUMPTION (§3.4): answers `{"success": true}`; only a
    /// future appointment checks in (status `2`).
    func checkIn(_ request: ProprietaryRequest, _ text: String) throws(AthenaFailure) -> ProprietaryResponse {
        let id = try bookedAppointment(text)
        _ = try write { writer throws(FHIRError) in
            var appointment = try current(id, text, writer)
            guard appointment["status"]?.stringValue == "booked" else {
                throw FHIRError(.conflict, "Appointment \(text) is not a future appointment; it cannot be checked in.")
            }
            appointment["status"] = .string("checked-in")
            appointment["meta"] = nil
            return try writer.put("Appointment", id: id, appointment).id
        }
        return .json(.object(JSONObject(["success": .bool(true)])))
    }

    /// `PUT /appointments/booked/{id}`: answers a bare `1` (§3.4). ASSUMPTION: it takes
    /// `bookingnote` (the appointment's note); other fields are refused by name.
    func updateBooked(_ request: ProprietaryRequest, _ text: String) throws(AthenaFailure) -> ProprietaryResponse {
        let request = try form(request)
        let id = try bookedAppointment(text)
        for field in request.form ?? [] where field.name != "bookingnote" {
            throw AthenaFailure("Invalid field: \(field.name).", detail: "Only bookingnote can be updated on a booked appointment here.")
        }
        let note = try required(request, "bookingnote")
        _ = try write { writer throws(FHIRError) in
            var appointment = try current(id, text, writer)
            appointment["comment"] = .string(note)
            appointment["meta"] = nil
            return try writer.put("Appointment", id: id, appointment).id
        }
        return ProprietaryResponse(status: 200, headers: [("Content-Type", "application/json")], body: Array("1".utf8))
    }

    /// `GET /appointments/{id}`: a one-element array (an open appointment id that was never
    /// booked is 404).
    func appointment(_ request: ProprietaryRequest, _ text: String) throws(AthenaFailure) -> ProprietaryResponse {
        let id = try bookedAppointment(text)
        if let found = try load("Appointment", [id]).first { return .json(.array([try rendered(found)])) }
        // An open appointment (a free or frozen slot not booked under this id): status `o`.
        if let (slot, generation) = Int64(text).flatMap({ ids.slot(appointmentID: $0) }), let open = try openAppointment(slot, generation) {
            return .json(.array([open]))
        }
        throw AthenaFailure(status: 404, "The appointment ID is invalid.", detail: "There is no appointment \(text) in this practice.")
    }

    /// An open slot as an appointment with status `o` (ids as strings, like every single
    /// appointment answer); nil when the slot is taken or the id's generation is not current.
    func openAppointment(_ slot: String, _ generation: Int) throws(AthenaFailure) -> JSON? {
        let rows: [SlotRow]
        do {
            rows = try service.read { reader throws(FHIRError) in try reader.slots(ids: [slot]) }
        } catch {
            throw AthenaFailure(error)
        }
        guard let row = rows.first, row.status == "free" || row.status == "busy-tentative",
            (try generations([slot])[slot] ?? 0) == generation,
            let template = template(row.schedule)
        else { return nil }
        let minutes = Int((row.end - row.start) / 60_000)
        let type =
            types.first { row.types.contains($0.type.code) && $0.type.minutes == minutes }
            ?? types.first { row.types.contains($0.type.code) }
        var item = JSONObject([
            "date": .string(Self.date(seed.localDay(row.start))),
            "appointmentid": .string(String(ids.appointmentID(slot: slot, generation: generation) ?? 0)),
            "starttime": .string(time(row.start)),
            "departmentid": .string(department(location: template.location).map { String($0.number) } ?? ""),
            "appointmentstatus": .string("o"), "duration": .int(minutes),
            "providerid": .string(numberText(template.practitioner, "Practitioner")),
            "appointmenttypeid": .string(type.map { String($0.number) } ?? ""), "appointmenttype": .string(type?.type.display ?? ""),
            "patientappointmenttypename": .string(type?.type.display ?? ""),
        ])
        if row.status == "busy-tentative" { item["frozenyn"] = .string("Y") }
        return .object(item)
    }
}
