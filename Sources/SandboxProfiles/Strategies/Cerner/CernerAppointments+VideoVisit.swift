import FHIRCore
import FHIRStore

/// Video-visit links on an Appointment (vendor-quirks §2.3, "Patch an appointment"): a patch puts
/// the provider's link in `contained[0]` and the patient's in `contained[1]`; an appointment
/// already patched for links refuses further `add`s with 409.
///
/// ASSUMPTION (§2.3: the contained resource's shape is not documented): each link is an R4
/// `Endpoint` whose `address` is the link (http or https); an appointment is a video visit when
/// one of its Location participants is virtual (`Location.type` v3-RoleCode `VI`, the seed's
/// telehealth location); links cannot be removed; the first links patch adds the array
/// (`add /contained` with both links: RFC 6902 needs the array before `add /contained/0`). Not reproduced: the rule that a links patch
/// needs both Appointment.read and Appointment.write (the write scope is enforced, the read scope
/// is not checked) and the refusal of a patch that mixes `add` and `replace` (the policy sees the
/// patched resource, not the operations).
extension CernerAppointments {
    static let linkRoles = ["provider", "patient"]

    func checkVideoLinks(_ appointment: JSONObject, old: JSONObject, tx: StoreTransaction) throws(FHIRError) {
        let links = appointment["contained"]?.arrayValue ?? []
        let before = old["contained"]?.arrayValue ?? []
        guard links != before else { return }
        guard try isVideoVisit(appointment, tx: tx) else {
            throw FHIRError(
                .businessRule, "video visit links can only be patched on a video visit appointment (one at a virtual location)",
                expression: ["Appointment.contained"])
        }
        if !before.isEmpty, links.count > before.count {
            throw FHIRError(
                .conflict,
                "this appointment was already patched for video visit links: replace them (replace /contained/0/address), do not add",
                expression: ["Appointment.contained"])
        }
        guard links.count >= before.count else {
            throw FHIRError(.businessRule, "video visit links cannot be removed", expression: ["Appointment.contained"])
        }
        guard links.count <= Self.linkRoles.count else {
            throw FHIRError(
                .businessRule, "an appointment has at most two video visit links: contained[0] the provider's, contained[1] the patient's",
                expression: ["Appointment.contained"])
        }
        for (index, link) in links.enumerated() {
            let address = link["address"]?.stringValue ?? ""
            guard link["resourceType"]?.stringValue == "Endpoint", address.hasPrefix("https://") || address.hasPrefix("http://") else {
                throw FHIRError(
                    .businessRule,
                    "contained[\(index)] is the \(Self.linkRoles[index])'s video visit link: an Endpoint whose address is an http(s) URL",
                    expression: ["Appointment.contained[\(index)]"])
            }
        }
    }

    /// Whether one of the appointment's Location participants is virtual.
    func isVideoVisit(_ appointment: JSONObject, tx: StoreTransaction) throws(FHIRError) -> Bool {
        for participant in appointment["participant"]?.arrayValue ?? [] {
            guard let reference = participant["actor"]?["reference"]?.stringValue.flatMap(ReferenceSyntax.parse),
                reference.type == "Location", let stored = try tx.current("Location", reference.id), let body = stored.body,
                let location = try? JSONParser.parse(body)
            else { continue }
            let codes = (location["type"]?.arrayValue ?? []).flatMap { $0["coding"]?.arrayValue ?? [] }
            if codes.contains(where: {
                $0["system"]?.stringValue == "http://terminology.hl7.org/CodeSystem/v3-RoleCode" && $0["code"]?.stringValue == "VI"
            }) {
                return true
            }
        }
        return false
    }
}
