import FHIRCore

/// The outbound feed's messages (v2.5.1): SIU for Appointment changes and ADT for Patient
/// changes, built from the resources (README: "HL7 v2 message profiles" lists each field's
/// source).
public struct HL7Outbound: Sendable {
    /// MSH-3 and MSH-4: who sends.
    public var sendingApplication = "FHIR-SANDBOX"
    public var sendingFacility: String
    /// MSH-5 and MSH-6: who receives.
    public var receivingApplication = "RECEIVER"
    public var receivingFacility = ""
    public let zone: TimeZoneRule

    public init(facility: String, zone: TimeZoneRule) {
        sendingFacility = facility
        self.zone = zone
    }

    /// The trigger event of an Appointment change (nil: nothing to say).
    public static func appointmentTrigger(_ new: JSONObject?, old: JSONObject?) -> String? {
        guard let new else { return old == nil ? nil : "S17" }
        guard let old else { return "S12" }
        let status = new["status"]?.stringValue ?? ""
        let before = old["status"]?.stringValue ?? ""
        if status != before, status == "cancelled" { return "S15" }
        if status != before, status == "noshow" { return "S26" }
        if new["start"] != old["start"] || new["slot"] != old["slot"] { return "S13" }
        return "S14"
    }

    /// The trigger event of a Patient change: registered, updated, or merged into another.
    public static func patientTrigger(_ new: JSONObject?, old: JSONObject?) -> String? {
        guard let new else { return nil }
        guard let old else { return "A04" }
        if survivor(of: new) != nil, survivor(of: old) == nil { return "A40" }
        return "A08"
    }

    /// The patient a merged patient was replaced by (`link` `replaced-by`, `active: false`).
    static func survivor(of patient: JSONObject) -> String? {
        guard patient["active"]?.boolValue == false else { return nil }
        return (patient["link"]?.arrayValue ?? []).first { $0["type"]?.stringValue == "replaced-by" }?["other"]?["reference"]?
            .stringValue.flatMap(ReferenceSyntax.parse)?.id
    }

    func header(_ type: String, trigger: String, structure: String, controlID: String, now: Int64) -> HL7Message.Segment {
        var msh = HL7Message.Segment("MSH")
        msh[1] = "|"
        msh[2] = HL7Field(repetitions: [[["^~\\&"]]])
        msh[3] = HL7Field([sendingApplication])
        msh[4] = HL7Field([sendingFacility])
        msh[5] = HL7Field([receivingApplication])
        msh[6] = HL7Field([receivingFacility])
        msh[7] = HL7Field([HL7Time.format(now, zone: zone)])
        msh[9] = HL7Field([type, trigger, structure])
        msh[10] = HL7Field([controlID])
        msh[11] = "P"
        msh[12] = "2.5.1"
        return msh
    }

    /// `SIU^{trigger}`: SCH, PID (when the patient is known), RGS, AIS, AIP, AIL.
    public func siu(
        trigger: String, appointment: JSONObject, id: String, patient: JSONObject?, practitioner: JSONObject?, location: JSONObject?,
        controlID: String, now: Int64
    ) -> HL7Message {
        let start = appointment["start"]?.stringValue.map { HL7Time.format(fhir: $0, zone: zone) } ?? ""
        let end = appointment["end"]?.stringValue.map { HL7Time.format(fhir: $0, zone: zone) } ?? ""
        let minutes = appointment["minutesDuration"]?.numberText ?? ""
        var sch = HL7Message.Segment("SCH")
        sch[1] = HL7Field(placerID(appointment).map { [$0, "PLACER"] } ?? [""])
        sch[2] = HL7Field([id, sendingApplication])
        sch[6] = HL7Field([trigger, Self.eventReasons[trigger] ?? trigger, "HL70276"])
        if let reason = (appointment["reasonCode"]?.arrayValue?.first).map(Self.text) { sch[7] = HL7Field(["", reason]) }
        if let type = appointment["appointmentType"]?["coding"]?.arrayValue?.first {
            sch[8] = HL7Field([type["code"]?.stringValue ?? "", type["display"]?.stringValue ?? "", "HL70277"])
        }
        sch[9] = HL7Field([minutes])
        sch[10] = HL7Field(["min", "minutes", "ISO+"])
        sch[11] = HL7Field(["", "", "", start, end])
        let contact = practitioner.map(person) ?? [""]
        sch[16] = HL7Field(contact)
        sch[20] = HL7Field(contact)
        sch[25] = HL7Field([Self.fillerStatus[appointment["status"]?.stringValue ?? ""] ?? "Pending", "", "HL70278"])
        var segments = [header("SIU", trigger: trigger, structure: "SIU_S12", controlID: controlID, now: now), sch]
        if let patient { segments.append(pid(patient)) }
        segments.append(HL7Message.Segment("RGS", ["1", "A"]))
        var ais = HL7Message.Segment("AIS", ["1", "A"])
        let service = appointment["serviceType"]?.arrayValue?.first?["coding"]?.arrayValue?.first
        ais[3] = HL7Field(
            [
                service?["code"]?.stringValue ?? appointment["appointmentType"]?["coding"]?.arrayValue?.first?["code"]?.stringValue
                    ?? "VISIT",
                service?["display"]?.stringValue ?? appointment["description"]?.stringValue ?? "Visit",
            ])
        ais[4] = HL7Field([start])
        ais[7] = HL7Field([minutes])
        ais[8] = HL7Field(["min", "minutes", "ISO+"])
        segments.append(ais)
        if let practitioner, let id = practitioner["id"]?.stringValue {
            var aip = HL7Message.Segment("AIP", ["1", "A"])
            aip[3] = HL7Field([id] + Array(person(practitioner).dropFirst()))
            aip[6] = HL7Field([start])
            segments.append(aip)
        }
        if let location, let id = location["id"]?.stringValue {
            var ail = HL7Message.Segment("AIL", ["1", "A"])
            ail[3] = HL7Field([id, "", "", sendingFacility, "", "", "", "", location["name"]?.stringValue ?? ""])
            ail[6] = HL7Field([start])
            segments.append(ail)
        }
        return HL7Message(segments: segments)
    }

    /// `ADT^{trigger}`: EVN, PID, PV1 (and MRG for a merge: the merged patient's MRN).
    public func adt(trigger: String, patient: JSONObject, survivor: JSONObject?, controlID: String, now: Int64) -> HL7Message {
        let structure = trigger == "A40" ? "ADT_A39" : trigger == "A04" ? "ADT_A01" : "ADT_A01"
        var evn = HL7Message.Segment("EVN")
        evn[1] = HL7Field([trigger])
        evn[2] = HL7Field([HL7Time.format(now, zone: zone)])
        var segments = [header("ADT", trigger: trigger, structure: structure, controlID: controlID, now: now), evn]
        if trigger == "A40", let survivor {
            segments.append(pid(survivor))
            var mrg = HL7Message.Segment("MRG")
            mrg[1] = mrn(patient)
            segments.append(mrg)
        } else {
            segments.append(pid(patient))
            segments.append(HL7Message.Segment("PV1", ["1", "O"]))
        }
        return HL7Message(segments: segments)
    }

    /// PID-3 (MRN, `MR`), 5 (name), 7 (birth date), 8 (sex), 11 (address), 13 (phone).
    func pid(_ patient: JSONObject) -> HL7Message.Segment {
        var pid = HL7Message.Segment("PID", ["1"])
        pid[3] = mrn(patient)
        let name = (patient["name"]?.arrayValue ?? []).first { $0["use"]?.stringValue == "official" } ?? patient["name"]?.arrayValue?.first
        pid[5] = HL7Field([
            name?["family"]?.stringValue ?? "", (name?["given"]?.arrayValue ?? []).first?.stringValue ?? "",
            (name?["given"]?.arrayValue ?? []).dropFirst().compactMap(\.stringValue).joined(separator: " "),
        ])
        pid[7] = HL7Field([(patient["birthDate"]?.stringValue ?? "").filter { $0 != "-" }])
        pid[8] = HL7Field([["male": "M", "female": "F", "other": "O", "unknown": "U"][patient["gender"]?.stringValue ?? ""] ?? ""])
        if let address = patient["address"]?.arrayValue?.first {
            pid[11] = HL7Field([
                (address["line"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "), "",
                address["city"]?.stringValue ?? "", address["state"]?.stringValue ?? "", address["postalCode"]?.stringValue ?? "",
                address["country"]?.stringValue ?? "",
            ])
        }
        let phones = (patient["telecom"]?.arrayValue ?? []).filter { $0["system"]?.stringValue == "phone" }.compactMap {
            $0["value"]?.stringValue
        }
        if !phones.isEmpty { pid[13] = HL7Field(repetitions: phones.map { [[$0]] }) }
        return pid
    }

    /// The patient's MRN as a CX (`value^^^facility^MR`); the resource id when it has none.
    func mrn(_ patient: JSONObject) -> HL7Field {
        let identifiers = patient["identifier"]?.arrayValue ?? []
        let chosen =
            identifiers.first { identifier in
                (identifier["type"]?["coding"]?.arrayValue ?? []).contains { $0["code"]?.stringValue == "MR" }
            } ?? identifiers.first { ($0["system"]?.stringValue ?? "").lowercased().hasSuffix("/mrn") } ?? identifiers.first
        let value = chosen?["value"]?.stringValue ?? patient["id"]?.stringValue ?? ""
        return HL7Field([value, "", "", sendingFacility, "MR"])
    }

    /// An XCN: id^family^given.
    func person(_ resource: JSONObject) -> [String] {
        let name = resource["name"]?.arrayValue?.first
        return [
            resource["id"]?.stringValue ?? "", name?["family"]?.stringValue ?? "",
            (name?["given"]?.arrayValue ?? []).first?.stringValue ?? "",
        ]
    }

    func placerID(_ appointment: JSONObject) -> String? {
        (appointment["identifier"]?.arrayValue ?? []).first { $0["system"]?.stringValue == HL7Inbound.placerSystem }?["value"]?.stringValue
    }

    static func text(_ concept: JSON) -> String {
        concept["text"]?.stringValue ?? concept["coding"]?.arrayValue?.first?["display"]?.stringValue
            ?? concept["coding"]?.arrayValue?.first?["code"]?.stringValue ?? ""
    }

    static let eventReasons = [
        "S12": "New appointment", "S13": "Rescheduled", "S14": "Modified", "S15": "Cancelled", "S17": "Deleted", "S26": "No-show",
        "S01": "Request new appointment booking", "S03": "Request appointment modification", "S04": "Request appointment cancellation",
    ]
    /// FHIR status → HL7 table 0278 filler status.
    static let fillerStatus = [
        "proposed": "Pending", "pending": "Pending", "booked": "Booked", "arrived": "Started", "checked-in": "Started",
        "fulfilled": "Complete", "cancelled": "Cancelled", "noshow": "Noshow", "entered-in-error": "Deleted", "waitlist": "Waitlist",
    ]
}
