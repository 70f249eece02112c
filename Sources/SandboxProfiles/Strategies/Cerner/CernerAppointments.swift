import FHIRCore
import FHIRStore
import SandboxSeed
import Scheduling

/// Oracle Health (Cerner Millennium) Appointment writes (vendor-quirks §2.3), the strategy a
/// profile selects with `writes.appointments: cerner`:
/// - create: `implicitRules`/`modifierExtension` refused; `status` booked or proposed;
///   `reasonCode` exactly one entry; no `participant.type`. **booked**: one slot and one
///   participant, the Patient, `accepted` — the slot implies time, practitioner and location,
///   which are filled in. **proposed**: one `serviceType`, the Patient and Locations
///   `needs-action`, one `requestedPeriod` with start and end.
/// - update (JSON Patch): Cerner's status transitions; `slot` must accompany proposed → booked;
///   `cancelationReason` only together with `cancelled`; a replaced slot (reschedule) moves
///   time, practitioner and location with it; video-visit links in `contained` (see
///   `checkVideoLinks`).
/// - every version: the `is-cancelable` and `is-reschedulable` extensions, and the Patient
///   participant's type (codeSet 14250 `4572`).
struct CernerAppointments: AppointmentPolicy {
    let seed: Seed
    let displays: [String: String]
    /// The tenant's code-set system for participant types (its tenant id is the profile's `auth.tenant`).
    let participantTypes: String

    init(seed: Seed, displays: [String: String], tenant: String) {
        self.seed = seed
        self.displays = displays
        participantTypes = "https://fhir.cerner.com/\(tenant)/codeSet/14250"
    }

    static let structureDefinitions = "https://fhir-ehr.cerner.com/r4/StructureDefinition/"

    /// §2.3 "Allowed status transitions".
    static let transitions: [String: Set<String>] = [
        "proposed": ["booked", "cancelled"],
        "booked": ["arrived", "checked-in", "cancelled"],
        "arrived": ["checked-in", "cancelled"],
        "checked-in": ["fulfilled", "cancelled"],
    ]

    static func allows(from current: String, to next: String) -> Bool {
        current == next || transitions[current]?.contains(next) == true
    }

    func prepare(_ resource: JSONObject, old: JSONObject?, tx: StoreTransaction) throws(FHIRError) -> JSONObject {
        var appointment = resource
        let status = appointment["status"]?.stringValue ?? ""
        if let old {
            try checkUpdate(appointment, old: old)
            try checkVideoLinks(appointment, old: old, tx: tx)
            if (old["slot"]?.arrayValue ?? []) != (appointment["slot"]?.arrayValue ?? []), !(appointment["slot"]?.arrayValue ?? []).isEmpty
            {
                try fillFromSlot(&appointment, tx: tx)
            }
        } else {
            try checkCreate(appointment)
            if status == "booked" { try fillFromSlot(&appointment, tx: tx) }
        }
        typePatient(&appointment)
        setExtensions(&appointment)
        return appointment
    }

    func checkCreate(_ appointment: JSONObject) throws(FHIRError) {
        for element in ["implicitRules", "modifierExtension"] where appointment[element] != nil {
            throw FHIRError(.businessRule, "\(element) is not supported", expression: ["Appointment.\(element)"])
        }
        let status = appointment["status"]?.stringValue ?? ""
        guard status == "booked" || status == "proposed" else {
            throw FHIRError(.businessRule, "status must be booked or proposed on create, not \(status)", expression: ["Appointment.status"])
        }
        if let reasons = appointment["reasonCode"]?.arrayValue, reasons.count != 1 {
            throw FHIRError(.businessRule, "reasonCode must contain exactly one CodeableConcept", expression: ["Appointment.reasonCode"])
        }
        let participants = appointment["participant"]?.arrayValue ?? []
        for (index, participant) in participants.enumerated() where participant["type"] != nil {
            throw FHIRError(.businessRule, "participant.type must not be set", expression: ["Appointment.participant[\(index)].type"])
        }
        func actorType(_ participant: JSON) -> String? {
            participant["actor"]?["reference"]?.stringValue.flatMap(ReferenceSyntax.parse)?.type
        }
        if status == "booked" {
            guard appointment["slot"]?.arrayValue?.count == 1 else {
                throw FHIRError(.businessRule, "a booked appointment references exactly one slot", expression: ["Appointment.slot"])
            }
            guard participants.count == 1, actorType(participants[0]) == "Patient",
                participants[0]["status"]?.stringValue == "accepted"
            else {
                throw FHIRError(
                    .businessRule, "a booked appointment has exactly one participant: the Patient, with status accepted",
                    expression: ["Appointment.participant"])
            }
        } else {
            guard appointment["serviceType"]?.arrayValue?.count == 1 else {
                throw FHIRError(
                    .businessRule, "a proposed appointment has exactly one serviceType", expression: ["Appointment.serviceType"])
            }
            let patients = participants.filter { actorType($0) == "Patient" }
            let locations = participants.filter { actorType($0) == "Location" }
            guard patients.count == 1, !locations.isEmpty, patients.count + locations.count == participants.count,
                participants.allSatisfy({ $0["status"]?.stringValue == "needs-action" })
            else {
                throw FHIRError(
                    .businessRule, "a proposed appointment has one Patient and one or more Locations, all with status needs-action",
                    expression: ["Appointment.participant"])
            }
            guard let periods = appointment["requestedPeriod"]?.arrayValue, periods.count == 1, periods[0]["start"] != nil,
                periods[0]["end"] != nil
            else {
                throw FHIRError(
                    .businessRule, "a proposed appointment has exactly one requestedPeriod with start and end",
                    expression: ["Appointment.requestedPeriod"])
            }
        }
    }

    func checkUpdate(_ appointment: JSONObject, old: JSONObject) throws(FHIRError) {
        let status = appointment["status"]?.stringValue ?? ""
        let oldStatus = old["status"]?.stringValue ?? ""
        guard Self.allows(from: oldStatus, to: status) else {
            throw FHIRError(.businessRule, "an appointment cannot go from \(oldStatus) to \(status)", expression: ["Appointment.status"])
        }
        if oldStatus == "proposed", status == "booked", (appointment["slot"]?.arrayValue ?? []).isEmpty {
            throw FHIRError(.businessRule, "booking a proposed appointment needs add /slot", expression: ["Appointment.slot"])
        }
        if appointment["cancelationReason"] != old["cancelationReason"], status != "cancelled" {
            throw FHIRError(
                .businessRule, "cancelationReason can only be added together with replace /status cancelled",
                expression: ["Appointment.cancelationReason"])
        }
        if let reasons = appointment["reasonCode"]?.arrayValue, reasons.count != 1 {
            throw FHIRError(.businessRule, "reasonCode must contain exactly one CodeableConcept", expression: ["Appointment.reasonCode"])
        }
    }

    /// Time, duration, service type, practitioner and location from the (first) slot.
    func fillFromSlot(_ appointment: inout JSONObject, tx: StoreTransaction) throws(FHIRError) {
        let ids = try AppointmentBooking.slotIDs(appointment)
        let rows = try tx.slots(ids).sorted { $0.start < $1.start }
        guard let first = rows.first, let last = rows.last, rows.count == Set(ids).count else {
            throw FHIRError(.businessRule, "Appointment.slot names a slot that does not exist", expression: ["Appointment.slot"])
        }
        // §2.3: start/end in UTC with Z.
        appointment["start"] = .string(InstantFormat.iso(first.start, offsetSeconds: 0))
        appointment["end"] = .string(InstantFormat.iso(last.end, offsetSeconds: 0))
        appointment["minutesDuration"] = .int(Int((last.end - first.start) / 60_000))
        guard let template = seed.schedules.first(where: { $0.id == first.schedule }) else { return }
        if let service = seed.concept(template.serviceType, displays) {
            appointment["serviceType"] = service
            if let text = service.arrayValue?.first?["coding"]?.arrayValue?.first?["display"]?.stringValue {
                appointment["description"] = .string(text)
            }
        }
        var participants = (appointment["participant"]?.arrayValue ?? []).filter { participant in
            let type = participant["actor"]?["reference"]?.stringValue.flatMap(ReferenceSyntax.parse)?.type
            return type != "Practitioner" && type != "Location"
        }
        let status = participants.first?["status"] ?? .string("accepted")
        for actor in [seed.reference("Practitioner", template.practitioner), seed.reference("Location", template.location)] {
            participants.append(.object(JSONObject(["actor": actor, "required": .string("required"), "status": status])))
        }
        appointment["participant"] = .array(participants)
    }

    /// §2.3: the Patient participant carries type codeSet 14250 `4572` "Patient" in reads.
    func typePatient(_ appointment: inout JSONObject) {
        guard let participants = appointment["participant"]?.arrayValue else { return }
        appointment["participant"] = .array(
            participants.map { participant in
                guard case .object(var object) = participant, object["type"] == nil,
                    object["actor"]?["reference"]?.stringValue.flatMap(ReferenceSyntax.parse)?.type == "Patient"
                else { return participant }
                let coding = JSONObject([
                    "system": .string(participantTypes), "code": .string("4572"), "display": .string("Patient"),
                ])
                object.set(
                    "type", .array([.object(JSONObject(["coding": .array([.object(coding)]), "text": .string("Patient")]))]),
                    after: "extension")
                return .object(object)
            })
    }

    /// §2.3: `is-cancelable` and `is-reschedulable` follow the status (kept: other extensions,
    /// e.g. a client's `action-comment`).
    func setExtensions(_ appointment: inout JSONObject) {
        let status = appointment["status"]?.stringValue ?? ""
        let computed = ["is-cancelable", "is-reschedulable"].map { Self.structureDefinitions + $0 }
        var extensions = (appointment["extension"]?.arrayValue ?? []).filter { !computed.contains($0["url"]?.stringValue ?? "") }
        let cancelable = Self.transitions[status]?.contains("cancelled") == true
        let reschedulable = status == "booked" && !(appointment["slot"]?.arrayValue ?? []).isEmpty
        extensions.append(.object(JSONObject(["url": .string(computed[0]), "valueBoolean": .bool(cancelable)])))
        extensions.append(.object(JSONObject(["url": .string(computed[1]), "valueBoolean": .bool(reschedulable)])))
        appointment.set("extension", .array(extensions), after: "meta")
    }
}
