import FHIRCore
import FHIRInteractions

/// SRM^S01/S03/S04 and ADT^A04/A08 applied through the FHIR engine.
extension HL7Inbound {
    /// Books (S01), moves (S03) or cancels (S04) the appointment the ARQ segment describes.
    func schedule(_ message: HL7Message, trigger: String) throws(Refusal) -> (JSONObject, String) {
        guard let arq = message.segment("ARQ") else { throw Refusal("100", "Segment sequence error", "ARQ", 0, "ARQ is required") }
        let placer = arq[1].text
        guard !placer.isEmpty else {
            throw Refusal("101", "Required field missing", "ARQ", 1, "ARQ-1 (the placer appointment id) is required")
        }
        let existing =
            searchOne("Appointment", [("identifier", "\(Self.placerSystem)|\(placer)")])
            ?? (arq[2].text.isEmpty ? nil : searchOne("Appointment", [("_id", arq[2].text)]))
        switch trigger {
        case "S01":
            if existing != nil {
                throw Refusal("205", "Duplicate key identifier", "ARQ", 1, "placer appointment id \(placer) is already booked")
            }
            let patient = try patient(message)
            let (slots, start, end, practitioner, location) = try slots(message, arq: arq)
            var appointment = JSONObject([
                "resourceType": .string("Appointment"), "status": .string("booked"),
                "identifier": .array([.object(JSONObject(["system": .string(Self.placerSystem), "value": .string(placer)]))]),
                "start": .string(start), "end": .string(end),
                "slot": .array(slots.map { .object(JSONObject(["reference": .string("Slot/\($0)")])) }),
                "participant": .array(
                    [
                        participant("Patient", patient["id"]?.stringValue ?? ""), participant("Practitioner", practitioner),
                    ] + (location.map { [participant("Location", $0)] } ?? [])),
            ])
            try describe(&appointment, arq: arq, message: message)
            return try write("POST", ["Appointment"], appointment)
        case "S03":
            guard var appointment = existing, let id = appointment["id"]?.stringValue else {
                throw Refusal("204", "Unknown key identifier", "ARQ", 1, "no appointment has placer id \(placer)")
            }
            let (slots, start, end, practitioner, location) = try slots(message, arq: arq)
            appointment["start"] = .string(start)
            appointment["end"] = .string(end)
            appointment["slot"] = .array(slots.map { .object(JSONObject(["reference": .string("Slot/\($0)")])) })
            let others = (appointment["participant"]?.arrayValue ?? []).filter { participant in
                let type = participant["actor"]?["reference"]?.stringValue.flatMap(ReferenceSyntax.parse)?.type
                return type != "Practitioner" && type != "Location"
            }
            appointment["participant"] = .array(
                others + [participant("Practitioner", practitioner)] + (location.map { [participant("Location", $0)] } ?? []))
            try describe(&appointment, arq: arq, message: message)
            return try write("PUT", ["Appointment", id], appointment)
        default:
            guard var appointment = existing, let id = appointment["id"]?.stringValue else {
                throw Refusal("204", "Unknown key identifier", "ARQ", 1, "no appointment has placer id \(placer)")
            }
            appointment["status"] = .string("cancelled")
            if !arq[6].isEmpty { appointment["cancelationReason"] = .object(JSONObject(["text": .string(arq[6].component(2))])) }
            return try write("PUT", ["Appointment", id], appointment)
        }
    }

    func participant(_ type: String, _ id: String) -> JSON {
        .object(
            JSONObject([
                "actor": .object(JSONObject(["reference": .string("\(type)/\(id)")])), "required": .string("required"),
                "status": .string("accepted"),
            ]))
    }

    /// ARQ-7 reason, ARQ-8 visit type, ARQ-9/10 duration; NTE comment.
    func describe(_ appointment: inout JSONObject, arq: HL7Message.Segment, message: HL7Message) throws(Refusal) {
        if !arq[7].isEmpty {
            appointment["reasonCode"] = .array([
                .object(JSONObject(["text": .string(arq[7].component(2).isEmpty ? arq[7].text : arq[7].component(2))]))
            ])
        }
        if !arq[8].isEmpty {
            appointment["appointmentType"] = .object(
                JSONObject(["coding": .array([.object(JSONObject(["system": .string(visitTypeSystem), "code": .string(arq[8].text)]))])]))
        }
        if !arq[9].isEmpty {
            guard let minutes = Int(arq[9].text), minutes > 0 else {
                throw Refusal(
                    "102", "Data type error", "ARQ", 9, "ARQ-9 (duration) must be a whole number of minutes, not '\(arq[9].text)'")
            }
            let unit = arq[10].text.lowercased()
            guard unit.isEmpty || unit == "min" || unit == "minutes" else {
                throw Refusal("103", "Table value not found", "ARQ", 10, "ARQ-10 (duration units) must be min")
            }
            appointment["minutesDuration"] = .int(minutes)
        }
        if let note = message.segment("NTE")?[3].text, !note.isEmpty { appointment["comment"] = .string(note) }
    }

    /// The free slots at the requested start (ARQ-11.1) for the practitioner (AIP-3) and
    /// location (AIL-3), contiguous for the duration (ARQ-9, else one slot).
    func slots(
        _ message: HL7Message, arq: HL7Message.Segment
    ) throws(Refusal) -> ([String], String, String, String, String?) {
        let zone = outbound.zone
        let startText = arq[11].component(1)
        guard !startText.isEmpty else {
            throw Refusal("101", "Required field missing", "ARQ", 11, "ARQ-11 (the requested start, YYYYMMDDHHMM) is required")
        }
        guard let start = HL7Time.parse(startText, zone: zone) else {
            throw Refusal(
                "102", "Data type error", "ARQ", 11, "bad time: ARQ-11 '\(startText)' is not a date and time (YYYYMMDDHHMM[SS][+ZZZZ])")
        }
        guard let practitioner = message.segment("AIP")?[3].text, !practitioner.isEmpty else {
            throw Refusal("101", "Required field missing", "AIP", 3, "AIP-3 (the practitioner's id) is required")
        }
        guard searchOne("Practitioner", [("_id", practitioner)]) != nil else {
            throw Refusal("204", "Unknown key identifier", "AIP", 3, "no practitioner has the id \(practitioner)")
        }
        let location = message.segment("AIL")?[3].text.nilIfEmpty
        let minutes = Int(arq[9].text) ?? 0
        let end = start + Int64(max(minutes, 1)) * 60_000
        var query: [(name: String, value: String)] = [
            ("schedule.actor", "Practitioner/\(practitioner)"), ("start", "ge\(InstantFormat.iso(start, offsetSeconds: 0))"),
            ("start", "lt\(InstantFormat.iso(end, offsetSeconds: 0))"), ("_count", "50"),
        ]
        if let location { query.append(("schedule.actor", "Location/\(location)")) }
        let (status, bundle) = call("GET", ["Slot"], query: query)
        let found = status == 200 ? (bundle?["entry"]?.arrayValue ?? []).compactMap { $0["resource"]?.objectValue } : []
        let slots = found.filter { $0["resourceType"]?.stringValue == "Slot" }
        guard let first = slots.first, instant(first["start"]) == start else {
            throw Refusal("207", "Application internal error", "ARQ", 11, "bad time: no slot of \(practitioner) starts at \(startText)")
        }
        guard first["status"]?.stringValue == "free" else {
            throw Refusal(
                "207", "Application internal error", "ARQ", 11,
                "slot taken: the slot at \(startText) is \(first["status"]?.stringValue ?? "busy")")
        }
        var chosen = [first]
        while minutes > 0, let last = chosen.last, let lastEnd = instant(last["end"]), lastEnd < end,
            let next = slots.first(where: { instant($0["start"]) == lastEnd })
        {
            chosen.append(next)
        }
        let slotEnd = chosen.last?["end"]?.stringValue ?? ""
        return (
            chosen.compactMap { $0["id"]?.stringValue }, first["start"]?.stringValue ?? "", slotEnd, practitioner,
            location
        )
    }

    func instant(_ value: JSON?) -> Int64? {
        value?.stringValue.flatMap { FHIRDateTime.parse($0, form: .instant) }?.startMilliseconds(in: outbound.zone)
    }

    /// Writes through the engine; its refusals as ERRs on the ARQ field they concern.
    func write(_ method: String, _ path: [String], _ appointment: JSONObject) throws(Refusal) -> (JSONObject, String) {
        let (status, body) = call(method, path, body: .object(appointment))
        guard (200...299).contains(status), let stored = body?.objectValue, let id = stored["id"]?.stringValue else {
            let issue = body?["issue"]?.arrayValue?.first
            let text = issue?["diagnostics"]?.stringValue ?? "HTTP \(status)"
            let expression = issue?["expression"]?.arrayValue?.first?.stringValue ?? ""
            let field: (String, Int) =
                switch expression.split(separator: "[").first.map(String.init) ?? "" {
                case "Appointment.minutesDuration": ("ARQ", 9)
                case "Appointment.appointmentType": ("ARQ", 8)
                case "Appointment.participant": ("PID", 3)
                default: ("ARQ", 11)
                }
            let prefix = status == 409 ? "slot taken: " : ""
            throw Refusal(
                status == 409 ? "206" : "207", status == 409 ? "Application record locked" : "Application internal error",
                field.0, field.1, prefix + text)
        }
        return (stored, id)
    }

    /// SCH, PID, RGS, AIS, AIL, AIP of the appointment as it now is (an SRR's body).
    func scheduleSegments(_ appointment: JSONObject, id: String, trigger: String, now: Int64) -> [HL7Message.Segment] {
        func actor(_ type: String) -> JSONObject? {
            guard
                let reference = (appointment["participant"]?.arrayValue ?? []).lazy.compactMap({ $0["actor"]?["reference"]?.stringValue })
                    .compactMap(ReferenceSyntax.parse).first(where: { $0.type == type })
            else { return nil }
            return searchOne(type, [("_id", reference.id)])
        }
        let message = outbound.siu(
            trigger: trigger, appointment: appointment, id: id, patient: actor("Patient"), practitioner: actor("Practitioner"),
            location: actor("Location"), controlID: "", now: now)
        return Array(message.segments.dropFirst())
    }

    /// ADT^A04 registers a patient from PID; A08 updates the one PID-3 names.
    func register(_ message: HL7Message, update: Bool) throws(Refusal) {
        guard let pid = message.segment("PID") else { throw Refusal("100", "Segment sequence error", "PID", 0, "PID is required") }
        let mrn = pid[3].text
        guard !mrn.isEmpty else { throw Refusal("101", "Required field missing", "PID", 3, "PID-3 (the MRN) is required") }
        let existing = searchOne("Patient", [("identifier", mrn)])
        var patient = existing ?? JSONObject(["resourceType": .string("Patient")])
        if update, existing == nil {
            throw Refusal("204", "Unknown key identifier", "PID", 3, "patient unknown: no patient has MRN \(mrn)")
        }
        if !update, existing != nil { throw Refusal("205", "Duplicate key identifier", "PID", 3, "a patient with MRN \(mrn) exists") }
        if existing == nil {
            // The MRN as the registration's only identifier, typed MR (v2-0203).
            let coding = JSONObject(["system": .string("http://terminology.hl7.org/CodeSystem/v2-0203"), "code": .string("MR")])
            let type = JSONObject(["coding": .array([.object(coding)])])
            patient["identifier"] = .array([.object(JSONObject(["type": .object(type), "value": .string(mrn)]))])
        }
        if !pid[5].isEmpty {
            var name = JSONObject(["use": .string("official"), "family": .string(pid[5].component(1))])
            let given = [pid[5].component(2), pid[5].component(3)].filter { !$0.isEmpty }
            if !given.isEmpty { name["given"] = .array(given.map(JSON.string)) }
            patient["name"] = .array([.object(name)])
        }
        if !pid[7].isEmpty {
            let digits = pid[7].text.prefix(8)
            guard digits.count == 8, digits.allSatisfy(\.isNumber) else {
                throw Refusal("102", "Data type error", "PID", 7, "PID-7 (birth date) must be YYYYMMDD")
            }
            patient["birthDate"] = .string("\(digits.prefix(4))-\(digits.dropFirst(4).prefix(2))-\(digits.suffix(2))")
        }
        if !pid[8].isEmpty {
            guard let gender = ["M": "male", "F": "female", "O": "other", "U": "unknown"][pid[8].text] else {
                throw Refusal("103", "Table value not found", "PID", 8, "PID-8 (sex) must be M, F, O or U")
            }
            patient["gender"] = .string(gender)
        }
        if !pid[13].isEmpty {
            patient["telecom"] = .array([.object(JSONObject(["system": .string("phone"), "value": .string(pid[13].text)]))])
        }
        let (status, body) =
            existing.flatMap { $0["id"]?.stringValue }.map { call("PUT", ["Patient", $0], body: .object(patient)) }
            ?? call("POST", ["Patient"], body: .object(patient))
        guard (200...299).contains(status) else {
            throw Refusal(
                "207", "Application internal error", "PID", 0,
                body?["issue"]?.arrayValue?.first?["diagnostics"]?.stringValue ?? "HTTP \(status)")
        }
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
