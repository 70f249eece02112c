import FHIRCore
import FHIRSearch
import FHIRStore

/// `Patient/$match` (R4): scores existing patients against a candidate on family and given
/// name (case- and accent-insensitive), birth date and phone digits, so a client can avoid
/// creating a duplicate. Grades: certain ≥ 0.9, probable ≥ 0.7, possible ≥ 0.45.
public struct PatientMatch: OperationHandler {
    public var name: String { "match" }
    public var type: String { "Patient" }
    public var definition: String { "http://hl7.org/fhir/OperationDefinition/Patient-match" }
    public var allowsGet: Bool { false }
    /// Searches patients.
    public var access: [(type: String, action: Access.Action)] { [("Patient", .search)] }

    /// The most matches `$match` returns; a larger `count` is clamped to it.
    public static let maxCount = 100

    public init() {}

    public func invoke(_ invocation: OperationInvocation, service: FHIRService) throws(FHIRError) -> FHIRResponse {
        let input = invocation.parameters
        guard let patient = input.resources("resource").first, patient["resourceType"]?.stringValue == "Patient" else {
            throw FHIRError(.invalidParameter, "$match needs a Patient in the 'resource' parameter", expression: ["resource"])
        }
        let onlyCertain = input.string("onlyCertainMatches") == "true"
        var count = 10
        if let text = input.string("count") {
            guard let value = Int(text), value >= 1 else {
                throw FHIRError(.invalidParameter, "count must be a positive integer, not '\(text)'", expression: ["count"])
            }
            count = min(value, Self.maxCount)
        }
        let parser = service.searchParser()
        var scored = try service.read { reader throws(FHIRError) in
            try Self.scores(of: patient, parser: parser) { query throws(FHIRError) in try reader.bodies(try reader.search(query)) }
        }
        scored.removeAll { onlyCertain && $0.score < 90 }
        // A patient-level token sees only its own patient among the matches.
        if let confined = invocation.compartment("Patient", .search) { scored.removeAll { $0.id != confined } }
        scored.sort { ($0.score, $1.id) > ($1.score, $0.id) }
        var bundle = BundleBuilder(type: "searchset", id: service.random.uuid(), timestamp: InstantFormat.iso(service.clock.now()))
        bundle.total = min(scored.count, count)
        for match in scored.prefix(count) {
            var entry = BundleBuilder.Entry(
                fullURL: "\(invocation.request.baseURL)/Patient/\(match.id)", resource: match.body, searchMode: "match")
            entry.searchScore = match.score == 100 ? "1" : "0." + (match.score < 10 ? "0" : "") + String(match.score)
            entry.matchGrade = match.score >= 90 ? "certain" : match.score >= 70 ? "probable" : "possible"
            bundle.entries.append(entry)
        }
        return .json(200, bundle.bytes())
    }

    /// Existing patients that resemble `patient`, scored out of 100 (45 and up kept): family 35,
    /// given 25 (initial only 10), birth date 30, phone 20. `search` runs a Patient query and
    /// returns the matches' bodies (in a read or inside a write transaction).
    ///
    /// `minimum` above 60 means a candidate must agree on two of family, birth date and phone
    /// (no single one with the given name reaches it), so candidates are fetched by pairs of
    /// indexed criteria instead of one criterion at a time: the duplicate check stays an index
    /// lookup however many patients share a birth date.
    public static func scores(
        of patient: JSONObject, parser: SearchQueryParser, minimum: Int = 45,
        search: (SearchQuery) throws(FHIRError) -> [(VersionKey, [UInt8])]
    ) throws(FHIRError) -> [(score: Int, id: String, body: [UInt8])] {
        let name = patient["name"]?.arrayValue?.first
        let family = name?["family"]?.stringValue.map(StringFolding.fold)
        let given = (name?["given"]?.arrayValue?.first?.stringValue).map(StringFolding.fold)
        let birthDate = patient["birthDate"]?.stringValue
        let phones = Set(
            (patient["telecom"]?.arrayValue ?? []).filter { $0["system"]?.stringValue == "phone" }.compactMap { $0["value"]?.stringValue }
                .map(Self.digits).filter { $0.count >= 7 })
        guard family != nil || birthDate != nil || !phones.isEmpty else {
            throw FHIRError(
                .invalidParameter, "the Patient needs a family name, a birth date or a phone to match on", expression: ["resource"])
        }
        var criteria: [[(name: String, value: String)]] = []
        if let family { criteria.append([("family", family)]) }
        if let birthDate { criteria.append([("birthdate", birthDate)]) }
        for phone in phones { criteria.append([("phone", String(phone.suffix(10)))]) }
        if minimum > 60 {
            var pairs: [[(name: String, value: String)]] = []
            for first in criteria.indices {
                for second in criteria.indices where second > first && criteria[first][0].name != criteria[second][0].name {
                    pairs.append(criteria[first] + criteria[second])
                }
            }
            criteria = pairs
        }
        var candidates: [(VersionKey, [UInt8])] = []
        var seen = Set<String>()
        for parameters in criteria {
            let query = try parser.parse(type: "Patient", parameters: parameters, strict: true, now: 0)
            for (key, body) in try search(query) where seen.insert(key.id).inserted { candidates.append((key, body)) }
        }
        var scored: [(score: Int, id: String, body: [UInt8])] = []
        for (key, body) in candidates {
            guard let existing = (try? JSONParser.parse(body))?.objectValue else { continue }
            var score = 0
            let names = existing["name"]?.arrayValue ?? []
            if let family, names.contains(where: { $0["family"]?.stringValue.map(StringFolding.fold) == family }) { score += 35 }
            if let given {
                let givens = names.flatMap { ($0["given"]?.arrayValue ?? []).compactMap(\.stringValue).map(StringFolding.fold) }
                if givens.contains(given) {
                    score += 25
                } else if givens.contains(where: { $0.first == given.first }) {
                    score += 10
                }
            }
            if let birthDate, existing["birthDate"]?.stringValue == birthDate { score += 30 }
            let existingPhones = Set(
                (existing["telecom"]?.arrayValue ?? []).compactMap { $0["value"]?.stringValue }.map(Self.digits).map {
                    String($0.suffix(10))
                })
            if phones.contains(where: { existingPhones.contains(String($0.suffix(10))) }) { score += 20 }
            score = min(score, 100)
            guard score >= max(45, minimum) else { continue }
            scored.append((score, key.id, body))
        }
        return scored
    }

    /// A demographic Patient search answered as a weighted match (a vendor's "close to $match,
    /// not an exact AND filter"): the search's `family`, `given`, `birthdate`, `phone` make a
    /// patient to match; candidates scoring at least `minimum` come back best first, narrowed by
    /// `gender` when given (ids, best first). Nil when the search is not demographic (it names `_id` or
    /// `identifier`, or none of those elements).
    public static func weighted(
        _ parameters: [(name: String, value: String)], minimum: Int, parser: SearchQueryParser,
        search: (SearchQuery) throws(FHIRError) -> [(VersionKey, [UInt8])]
    ) throws(FHIRError) -> [String]? {
        func value(_ name: String) -> String? { parameters.last { $0.name == name }?.value }
        guard !parameters.contains(where: { ["_id", "identifier"].contains($0.name) }) else { return nil }
        var patient = JSONObject()
        var name = JSONObject()
        if let family = value("family") { name["family"] = .string(family) }
        if let given = value("given") { name["given"] = .array([.string(given)]) }
        if !name.isEmpty { patient["name"] = .array([.object(name)]) }
        if let birthDate = value("birthdate") { patient["birthDate"] = .string(birthDate) }
        if let phone = value("phone") ?? value("telecom") {
            patient["telecom"] = .array([.object(JSONObject(["system": .string("phone"), "value": .string(phone)]))])
        }
        guard patient["name"]?.arrayValue?.first?["family"] != nil || patient["birthDate"] != nil || patient["telecom"] != nil else {
            return nil
        }
        let gender = value("gender")
        return try scores(of: patient, parser: parser, minimum: minimum, search: search)
            .filter { match in
                guard let gender else { return true }
                return (try? JSONParser.parse(match.body))?.objectValue?["gender"]?.stringValue == gender
            }
            .sorted { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
            .map(\.id)
    }

    static func digits(_ text: String) -> String { String(text.unicodeScalars.filter { ("0"..."9").contains($0) }.map(Character.init)) }
}

/// A profile's duplicate-patient rule (`writes.duplicatePatients`): creating a Patient that an existing one
/// matches with at least `threshold` points (PatientMatch's scoring) is refused as `duplicate`.
/// A write hook, inside the create's transaction.
public struct DuplicatePatients: WriteHook {
    public let threshold: Int
    let parser: SearchQueryParser

    public init(threshold: Int, parser: SearchQueryParser) {
        self.threshold = threshold
        self.parser = parser
    }

    public func willStore(_ resource: JSONObject, old: JSONObject?, id: String, tx: StoreTransaction, now: Int64) throws(FHIRError)
        -> JSONObject
    {
        guard old == nil, resource["name"] != nil || resource["birthDate"] != nil else { return resource }
        let matches = try PatientMatch.scores(of: resource, parser: parser, minimum: threshold) { query throws(FHIRError) in
            var found: [(VersionKey, [UInt8])] = []
            for key in try tx.search(query) {
                if let stored = try tx.current(key.type, key.id), !stored.deleted, let body = stored.body { found.append((key, body)) }
            }
            return found
        }
        if let match = matches.filter({ $0.score >= threshold && $0.id != id }).max(by: { $0.score < $1.score }) {
            throw FHIRError(
                .duplicate, "this patient matches Patient/\(match.id) (score \(match.score) of 100): search or $match before creating",
                expression: ["Patient"])
        }
        return resource
    }

    public func willDelete(_ old: JSONObject, id: String, tx: StoreTransaction, now: Int64) throws(FHIRError) {}
}
