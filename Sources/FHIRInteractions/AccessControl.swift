import FHIRCore
import FHIRSearch
import FHIRStore

/// Scope enforcement for requests that carry an `Access`: which permission each interaction
/// needs, and the patient compartment that confines patient-level grants.
extension FHIRService {
    /// R4 Patient compartment (CompartmentDefinition/patient): the parameters through which a
    /// resource of each type belongs to a patient. Types not listed (Practitioner, Location,
    /// Schedule, Slot, ...) are not patient data and are not confined.
    static let patientCompartment: [String: [String]] = [
        "AllergyIntolerance": ["patient", "recorder", "asserter"],
        "Appointment": ["actor"],
        "AppointmentResponse": ["actor"],
        "CarePlan": ["patient", "performer"],
        "Communication": ["subject", "sender", "recipient"],
        "Condition": ["patient", "asserter"],
        "Coverage": ["policy-holder", "subscriber", "beneficiary", "payor"],
        "CoverageEligibilityRequest": ["patient"],
        "CoverageEligibilityResponse": ["patient"],
        "DocumentReference": ["subject", "author"],
        "Encounter": ["patient"],
        "MedicationRequest": ["subject"],
        "Observation": ["subject", "performer"],
        "Procedure": ["patient", "performer"],
        "ServiceRequest": ["subject", "performer"],
    ]

    /// The type and permission a route needs; nil when it needs none (metadata, batch: its
    /// entries are checked one by one).
    static func requirement(_ route: Route) -> (type: String, action: Access.Action)? {
        switch route {
        case .capabilities, .batch, .operation: return nil
        case .systemHistory: return ("*", .read)
        case .search(let type): return (type, .search)
        case .create(let type): return (type, .create)
        case .typeHistory(let type), .read(let type, _), .vread(let type, _, _), .instanceHistory(let type, _): return (type, .read)
        case .update(let type, _), .patch(let type, _): return (type, .update)
        case .delete(let type, _): return (type, .delete)
        }
    }

    /// Checks the route's permission; the decision says whether results must stay inside a
    /// patient's compartment. Anonymous requests are not checked.
    func authorize(_ route: Route, _ request: FHIRRequest) throws(FHIRError) -> Access.Decision {
        guard let access = request.access, let (type, action) = Self.requirement(route) else { return .allowed }
        let decision = try access.require(type, action)
        guard case .compartment(let patient) = decision else { return decision }
        switch route {
        case .read(let type, let id), .vread(let type, let id, _), .instanceHistory(let type, let id), .delete(let type, let id),
            .patch(let type, let id):
            if try !inCompartment(type, ids: [id], patient: patient).contains(id), try exists(type, id) {
                throw Self.outsideCompartment(type, id, patient)
            }
        case .typeHistory, .systemHistory:
            throw FHIRError(.forbidden, "history across resources is not available to a patient-level token")
        default: break
        }
        return decision
    }

    /// Whether `type/id` currently exists (a missing resource stays a 404, not a 403).
    private func exists(_ type: String, _ id: String) throws(FHIRError) -> Bool {
        if let provider = providers[type] {
            let now = clock.now()
            return try store.read { reader throws(FHIRError) in try provider.read(id, reader: reader, now: now) } != nil
        }
        return try store.read(type, id) != nil
    }

    public static func outsideCompartment(_ type: String, _ id: String, _ patient: String) -> FHIRError {
        FHIRError(.forbidden, "\(type)/\(id) is outside the compartment of Patient/\(patient), the patient this token is for")
    }

    /// Of `ids` (all of `type`), those in `patient`'s compartment.
    func inCompartment(_ type: String, ids: [String], patient: String) throws(FHIRError) -> Set<String> {
        try store.read { reader throws(FHIRError) in try self.inCompartment(type, ids: ids, patient: patient, reader: reader) }
    }

    func inCompartment(_ type: String, ids: [String], patient: String, reader: StoreReader) throws(FHIRError) -> Set<String> {
        if type == "Patient" { return Set(ids.filter { $0 == patient }) }
        guard let parameters = Self.patientCompartment[type] else { return Set(ids) }
        var members = Set<String>()
        for name in parameters where registry.parameter(name, of: type) != nil {
            let query = try searchParser().parse(
                type: type, parameters: [(name: name, value: "Patient/\(patient)")], strict: true, now: clock.now())
            members.formUnion(try reader.search(query).map(\.id))
        }
        return members.intersection(ids)
    }

    /// Keeps the keys a compartment decision allows (search results and their includes).
    func confine(_ keys: [VersionKey], to decision: Access.Decision, reader: StoreReader) throws(FHIRError) -> [VersionKey] {
        guard case .compartment(let patient) = decision else { return keys }
        var allowed: [String: Set<String>] = [:]
        for (type, group) in Dictionary(grouping: keys, by: \.type) {
            allowed[type] = try inCompartment(type, ids: group.map(\.id), patient: patient, reader: reader)
        }
        return keys.filter { allowed[$0.type]?.contains($0.id) == true }
    }

    /// A resource written under a patient-level grant must be that patient (Patient) or refer
    /// to that patient and no other.
    public static func checkWrite(_ resource: JSONObject, type: String, id: String?, decision: Access.Decision) throws(FHIRError) {
        guard case .compartment(let patient) = decision else { return }
        if type == "Patient" {
            guard id == patient else {
                throw FHIRError(.forbidden, "a token for Patient/\(patient) can only write that Patient resource")
            }
            return
        }
        guard patientCompartment[type] != nil else { return }
        var patients = Set<String>()
        collectPatientReferences(.object(resource), into: &patients)
        guard patients == [patient] else {
            throw FHIRError(
                .forbidden,
                "a token for Patient/\(patient) can only write \(type) resources that refer to that patient"
                    + (patients.isEmpty ? "" : " (this one refers to \(patients.sorted().map { "Patient/\($0)" }.joined(separator: ", ")))")
            )
        }
    }

    private static func collectPatientReferences(_ json: JSON, into patients: inout Set<String>) {
        switch json {
        case .object(let object):
            if let reference = object["reference"]?.stringValue {
                // Relative (Patient/id) or absolute (.../Patient/id[/_history/n]) references.
                let parts = reference.split(separator: "/")
                if let index = parts.lastIndex(of: "Patient"), index + 1 < parts.count { patients.insert(String(parts[index + 1])) }
            }
            for member in object { collectPatientReferences(member.value, into: &patients) }
        case .array(let items):
            for item in items { collectPatientReferences(item, into: &patients) }
        default: break
        }
    }
}
