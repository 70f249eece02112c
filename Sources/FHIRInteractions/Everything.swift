import FHIRCore
import FHIRSearch
import FHIRStore

/// `Patient/[id]/$everything` and `Encounter/[id]/$everything` (R4): the focus resource and what
/// belongs to it, as one searchset. For a patient, every resource in its compartment
/// (CompartmentDefinition/patient) of the types this server serves; for an encounter, its
/// patient and every resource that names the encounter through an `encounter` parameter.
/// `_type` narrows the types, `_since` keeps versions written at or after an instant. Not
/// paged: the whole record comes back in one Bundle (`start`, `end` and `_count` are refused by
/// name rather than ignored). The token's scopes decide which types appear; a patient-level
/// token may only ask for its own patient.
public struct Everything: OperationHandler {
    public let type: String
    public var name: String { "everything" }
    public var definition: String { "http://hl7.org/fhir/OperationDefinition/\(type)-everything" }
    public var allowsGet: Bool { true }
    public var access: [(type: String, action: Access.Action)] { [(type, .read)] }

    /// The parameters a call may carry.
    static let accepted: Set<String> = ["_type", "_since"]

    public init(type: String) { self.type = type }

    public func invoke(_ invocation: OperationInvocation, service: FHIRService) throws(FHIRError) -> FHIRResponse {
        guard let id = invocation.id else {
            throw FHIRError(.invalidParameter, "$everything is an instance operation: call \(type)/[id]/$everything")
        }
        for (name, _) in invocation.parameters.values where !Self.accepted.contains(name) {
            throw FHIRError(
                .unknownParameter, "$everything does not support '\(name)' here (supported: _type, _since); the whole record is one page",
                expression: [name])
        }
        let wanted = try types(invocation.parameters.string("_type"), service: service)
        var since: Int64?
        if let text = invocation.parameters.string("_since") {
            guard let instant = FHIRDateTime.parse(text, form: .instant)?.startMilliseconds(in: service.zone) else {
                throw FHIRError(.invalidParameter, "_since must be an instant with a time zone, not '\(text)'", expression: ["_since"])
            }
            since = instant
        }
        let access = invocation.request.access
        func allowed(_ type: String, patient: String?) -> Bool {
            guard let access else { return true }
            switch access.decide(type, .read) {
            case .allowed: return true
            case .denied: return false
            case .compartment(let confined): return patient == confined
            }
        }
        let served = served(service)
        let rows: [(VersionKey, [UInt8])] = try service.read { reader throws(FHIRError) in
            guard let focus = try reader.keys(type, ids: [id]).first else {
                throw FHIRError(.notFound, "\(type)/\(id) is not known on this server")
            }
            var patient = type == "Patient" ? id : nil
            if type == "Encounter" {
                patient = try reader.referencedIDs(from: [focus], parameter: "patient", targetType: "Patient").first
            }
            if case .compartment(let confined)? = access?.decide(type, .read), patient != confined {
                throw FHIRService.outsideCompartment(type, id, confined)
            }
            var keys = [focus]
            var seen: Set<VersionKey> = [focus]
            func add(_ found: [VersionKey]) {
                for key in found where seen.insert(key).inserted { keys.append(key) }
            }
            if type == "Patient" {
                for (member, parameters) in FHIRService.patientCompartment.sorted(by: { $0.key < $1.key })
                where served.contains(member) && allowed(member, patient: id) {
                    for parameter in parameters where service.registry.parameter(parameter, of: member) != nil {
                        add(try reader.revIncluded([focus], sourceType: member, parameter: parameter))
                    }
                }
            } else {
                if let patient, served.contains("Patient"), allowed("Patient", patient: patient) {
                    add(try reader.keys("Patient", ids: [patient]))
                }
                for member in served.sorted()
                where service.registry.parameter("encounter", of: member) != nil && allowed(member, patient: patient) {
                    add(try reader.revIncluded([focus], sourceType: member, parameter: "encounter"))
                }
            }
            return try reader.bodies(keys.filter { key in key == focus || wanted.map { $0.contains(key.type) } ?? true })
        }
        var bundle = BundleBuilder(type: "searchset", id: service.random.uuid(), timestamp: InstantFormat.iso(service.clock.now()))
        for (key, body) in rows {
            if let since, key.type != type || key.id != id {
                let updated = (try? JSONParser.parse(body))?["meta"]?["lastUpdated"]?.stringValue
                    .flatMap { FHIRDateTime.parse($0, form: .instant)?.startMilliseconds(in: service.zone) }
                guard (updated ?? .min) >= since else { continue }
            }
            bundle.entries.append(
                BundleBuilder.Entry(
                    fullURL: "\(invocation.request.baseURL)/\(key.type)/\(key.id)", resource: body,
                    searchMode: key.type == type && key.id == id ? "match" : "include"))
        }
        bundle.total = bundle.entries.count
        bundle.links = [("self", "\(invocation.request.baseURL)/\(type)/\(id)/$everything")]
        return .json(200, bundle.bytes())
    }

    /// The types this service serves and lets be searched (a profile's interactions, when it lists them).
    func served(_ service: FHIRService) -> Set<String> {
        let interactions = service.settings.rules.interactions
        return Set(
            service.registry.resourceTypes.filter { type in
                interactions.isEmpty || interactions[type].map { $0.contains("search-type") || $0.contains("read") } ?? false
            })
    }

    /// `_type`'s types (nil: all), each one this server serves.
    func types(_ text: String?, service: FHIRService) throws(FHIRError) -> Set<String>? {
        guard let text else { return nil }
        let names = text.split(separator: ",").map { String($0).trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
        let served = served(service)
        for name in names where !served.contains(name) {
            throw FHIRError(.invalidParameter, "_type names '\(name)', which this server does not serve", expression: ["_type"])
        }
        return Set(names)
    }
}
