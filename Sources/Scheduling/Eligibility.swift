import FHIRCore
import FHIRInteractions
import FHIRSearch
import FHIRStore
import SandboxSeed

/// Answers a `CoverageEligibilityRequest` (purpose `validation` and/or `benefits`) the way a
/// clearinghouse does, synchronously, from the seed's payer rules (`payers.yaml`): once the
/// request is stored, a `CoverageEligibilityResponse` naming it is stored in the same transaction.
/// The coverage is `insurance[0].coverage` — a `Coverage/{id}` reference, or a member id as
/// `identifier` — or, without one, the patient's active coverage. The response says whether it
/// is in force on `servicedDate` (else `created`), whether the `provider` is in the payer's
/// network, and for each visit type asked (`item.productOrService` in the clinic's visit-type
/// system; with `benefits` and no items, every type) whether it is covered and its copay. An
/// unknown member id, or a coverage of another patient, is `outcome: error` with the reason.
public struct EligibilityDesk: WriteHook {
    let seed: Seed
    let parser: SearchQueryParser

    public init(seed: Seed, registry: SearchRegistry) {
        self.seed = seed
        parser = SearchQueryParser(registry: registry, zone: seed.zone)
    }

    public func willStore(
        _ resource: JSONObject, old: JSONObject?, id: String, tx: StoreTransaction, now: Int64
    ) throws(FHIRError) -> JSONObject {
        guard old == nil else {
            throw FHIRError(
                .businessRule, "an eligibility request is answered once; send a new one", expression: ["CoverageEligibilityRequest"])
        }
        return resource
    }

    public func willDelete(_ old: JSONObject, id: String, tx: StoreTransaction, now: Int64) throws(FHIRError) {}

    public func didCreate(_ request: JSONObject, id: String, writer: FHIRWriter) throws(FHIRError) {
        try writer.put("CoverageEligibilityResponse", id: nil, try response(to: request, id: id, writer: writer))
    }

    /// The response to `request` (stored as `CoverageEligibilityRequest/{id}`).
    func response(to request: JSONObject, id: String, writer: FHIRWriter) throws(FHIRError) -> JSONObject {
        let now = writer.now
        let patient = request["patient"]?["reference"]?.stringValue.flatMap(ReferenceSyntax.parse)
        let date = Self.instant(request["servicedDate"] ?? request["servicedPeriod"]?["start"], seed.zone) ?? now
        var response = JSONObject()
        response["resourceType"] = .string("CoverageEligibilityResponse")
        response["status"] = .string("active")
        response["purpose"] = request["purpose"]
        response["patient"] = request["patient"]
        if let served = request["servicedDate"] { response["servicedDate"] = served }
        if let served = request["servicedPeriod"] { response["servicedPeriod"] = served }
        response["created"] = .string(InstantFormat.iso(now))
        if let provider = request["provider"] { response["requestor"] = provider }
        response["request"] = .object(JSONObject(["reference": .string("CoverageEligibilityRequest/\(id)")]))
        response["insurer"] = request["insurer"]

        func fail(_ reason: String) -> JSONObject {
            var failed = response
            failed["outcome"] = .string("error")
            failed["disposition"] = .string(reason)
            failed["error"] = .array([.object(JSONObject(["code": .object(JSONObject(["text": .string(reason)]))]))])
            return failed
        }
        guard let patient, patient.type == "Patient" else { return fail("the request names no Patient") }
        let named = request["insurance"]?.arrayValue?.first?["coverage"]
        guard let (coverageID, coverage) = try self.coverage(named, patient: patient.id, writer: writer) else {
            let member = named?["identifier"]?["value"]?.stringValue
            return fail(
                member.map { "no coverage with member id \($0)" }
                    ?? (named == nil ? "Patient/\(patient.id) has no active coverage" : "the coverage named is not known"))
        }
        let beneficiary = coverage["beneficiary"]?["reference"]?.stringValue.flatMap(ReferenceSyntax.parse)
        guard beneficiary?.id == patient.id else { return fail("Coverage/\(coverageID) does not cover Patient/\(patient.id)") }

        let payer = (coverage["payor"]?.arrayValue ?? []).compactMap { $0["reference"]?.stringValue.flatMap(ReferenceSyntax.parse) }
            .first { $0.type == "Organization" }?.id
        if let payer { response["insurer"] = .object(JSONObject(["reference": .string("Organization/\(payer)")])) }
        let starts = Self.instant(coverage["period"]?["start"], seed.zone) ?? .min
        let ends =
            (coverage["period"]?["end"]?.stringValue).flatMap { FHIRDateTime.parse($0, form: .search)?.range(in: seed.zone).hi } ?? .max
        let inForce = coverage["status"]?.stringValue == "active" && starts <= date && date < ends
        let day = String(seed.format(date).prefix(10))
        var insurance = JSONObject()
        insurance["coverage"] = .object(JSONObject(["reference": .string("Coverage/\(coverageID)")]))
        insurance["inforce"] = .bool(inForce)
        if let period = coverage["period"] { insurance["benefitPeriod"] = period }

        let rule = seed.payers.first { $0.organization == payer }
        let provider = request["provider"]?["reference"]?.stringValue.flatMap(ReferenceSyntax.parse)
        let inNetwork = provider.map { $0.type != "Practitioner" || !(rule?.outOfNetwork.contains($0.id) ?? false) } ?? true
        var notes: [String] = [inForce ? "Coverage is in force on \(day)." : "Coverage is not in force on \(day)."]
        if let provider, !inNetwork { notes.append("\(provider.type)/\(provider.id) is out of this payer's network.") }
        if inForce {
            var items: [JSON] = []
            let asked = (request["item"]?.arrayValue ?? []).compactMap { $0["productOrService"] }
            let wanted = (request["purpose"]?.arrayValue ?? []).contains { $0.stringValue == "benefits" }
            let concepts = asked.isEmpty && wanted ? seed.appointmentTypes.map { ClinicRenderer.appointmentType($0) } : asked
            for concept in concepts {
                items.append(.object(item(concept, rule: rule, provider: request["provider"], inNetwork: inNetwork, notes: &notes)))
            }
            if !items.isEmpty { insurance["item"] = .array(items) }
        }
        response["outcome"] = .string("complete")
        response["disposition"] = .string(notes.joined(separator: " "))
        response["insurance"] = .array([.object(insurance)])
        return response
    }

    /// One benefit line: whether the visit type is covered, the network, and the copay.
    func item(_ concept: JSON, rule: PayerRule?, provider: JSON?, inNetwork: Bool, notes: inout [String]) -> JSONObject {
        let code = (concept["coding"]?.arrayValue ?? []).first { $0["system"]?.stringValue == AppointmentType.system }?["code"]?.stringValue
        let type = code.flatMap(seed.appointmentType)
        var item = JSONObject()
        item["productOrService"] = concept
        if let provider { item["provider"] = provider }
        let copay = type.flatMap { rule?.copays[$0.code] }
        let covered = copay != nil
        item["excluded"] = .bool(!covered)
        item["name"] = .string(type?.display ?? code ?? concept["text"]?.stringValue ?? "service")
        item["network"] = Self.coded("http://terminology.hl7.org/CodeSystem/benefit-network", inNetwork ? "in" : "out")
        item["unit"] = Self.coded("http://terminology.hl7.org/CodeSystem/benefit-unit", "individual")
        item["term"] = Self.coded("http://terminology.hl7.org/CodeSystem/benefit-term", "annual")
        if let copay, inNetwork {
            item["benefit"] = .array([
                .object(
                    JSONObject([
                        "type": Self.coded("http://terminology.hl7.org/CodeSystem/benefit-type", "copay"),
                        "allowedMoney": .object(JSONObject(["value": .int(copay), "currency": .string("USD")])),
                    ]))
            ])
        }
        let name = type?.display ?? code ?? "this service"
        item["description"] = .string(
            !covered ? "\(name) is not covered by this plan." : inNetwork ? "\(name): copay \(copay ?? 0) USD." : "\(name): out of network."
        )
        if !covered { notes.append("\(name) is not covered.") }
        return item
    }

    /// The coverage a request names (`Coverage/{id}`, or `identifier` with a member id), or the
    /// patient's active one when it names none.
    func coverage(_ named: JSON?, patient: String, writer: FHIRWriter) throws(FHIRError) -> (String, JSONObject)? {
        if let text = named?["reference"]?.stringValue {
            guard let reference = ReferenceSyntax.parse(text), reference.type == "Coverage",
                let stored = try writer.current("Coverage", reference.id)
            else { return nil }
            return (reference.id, stored.resource)
        }
        var parameters: [(name: String, value: String)]
        if let identifier = named?["identifier"], let value = identifier["value"]?.stringValue {
            parameters = [(name: "identifier", value: (identifier["system"]?.stringValue.map { "\($0)|" } ?? "") + value)]
        } else if named == nil {
            parameters = [(name: "beneficiary", value: "Patient/\(patient)"), (name: "status", value: "active")]
        } else {
            return nil
        }
        parameters.append((name: "_sort", value: "-_lastUpdated"))
        let query = try parser.parse(type: "Coverage", parameters: parameters, strict: true, now: 0)
        guard let key = try writer.transaction.search(query).first, let stored = try writer.current("Coverage", key.id) else { return nil }
        return (key.id, stored.resource)
    }

    static func instant(_ value: JSON?, _ zone: TimeZoneRule) -> Int64? {
        value?.stringValue.flatMap { FHIRDateTime.parse($0, form: .search) }?.range(in: zone).lo
    }

    static func coded(_ system: String, _ code: String) -> JSON {
        .object(JSONObject(["coding": .array([.object(JSONObject(["system": .string(system), "code": .string(code)]))])]))
    }
}

/// `CoverageEligibilityRequest/$submit`: the request (the body, or the `resource` parameter) is
/// stored and answered at once; the result is the CoverageEligibilityResponse.
public struct EligibilitySubmit: OperationHandler {
    public init() {}
    public var name: String { "submit" }
    public var type: String { "CoverageEligibilityRequest" }
    public var definition: String { "http://hl7.org/fhir/OperationDefinition/CoverageEligibilityRequest-submit" }
    public var allowsGet: Bool { false }
    public var access: [(type: String, action: Access.Action)] {
        [("CoverageEligibilityRequest", .create), ("CoverageEligibilityResponse", .read)]
    }

    public func invoke(_ invocation: OperationInvocation, service: FHIRService) throws(FHIRError) -> FHIRResponse {
        guard invocation.id == nil else { throw FHIRError(.methodNotAllowed, "$submit is a type-level operation") }
        guard var request = invocation.parameters.resources("resource").first,
            request["resourceType"]?.stringValue == "CoverageEligibilityRequest"
        else {
            throw FHIRError(.invalidParameter, "$submit needs a CoverageEligibilityRequest (the body, or the resource parameter)")
        }
        request["id"] = nil
        let answer: [UInt8] = try service.write(as: invocation.request.access) { writer throws(FHIRError) in
            let stored = try writer.put("CoverageEligibilityRequest", id: nil, request)
            let query = try SearchQueryParser(registry: .r4, zone: service.zone).parse(
                type: "CoverageEligibilityResponse", parameters: [(name: "request", value: "CoverageEligibilityRequest/\(stored.id)")],
                strict: true, now: 0)
            guard let key = try writer.transaction.search(query).first, let body = try writer.transaction.current(key.type, key.id)?.body
            else { throw FHIRError(.internalError, "the eligibility response was not stored") }
            return body
        }
        return FHIRResponse(status: 200, headers: [("Content-Type", "application/fhir+json; charset=utf-8")], body: answer)
    }
}
