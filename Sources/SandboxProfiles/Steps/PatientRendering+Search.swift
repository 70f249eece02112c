import FHIRCore
import FHIRInteractions
import FHIRSearch

/// Which patients a vendor's Patient search shows (Cerner §2.4): names match current names only
/// (not `use: old` or `maiden` ones), and a merged patient (`link` of type
/// `replaced-by`) is found by `_id` only. The engine's indexes are shared by every profile, so
/// the matches are narrowed here, on the page being returned. ASSUMPTION: a page can then hold
/// fewer entries than `_count`; the vendor's paging links still lead on.
extension PatientRendering {
    /// Whether `request` is a Patient search this profile narrows.
    func narrowsSearch(_ request: FHIRRequest) -> Bool {
        (rules.currentNamesOnly || rules.mergedByIdOnly) && request.segments.first == "Patient"
            && (request.segments.count == 1 || request.segments.last == "_search")
    }

    /// The search Bundle without the matches the vendor would not return.
    func narrow(_ bundle: JSONObject, for request: FHIRRequest) -> JSONObject {
        guard let entries = bundle["entry"]?.arrayValue else { return bundle }
        let byID = request.query.contains { $0.name == "_id" }
        let names = request.query.compactMap { parameter -> (part: String, modifier: String?, values: [String])? in
            let pieces = parameter.name.split(separator: ":", maxSplits: 1).map(String.init)
            guard ["name", "family", "given"].contains(pieces[0]) else { return nil }
            let modifier = pieces.count > 1 ? pieces[1] : nil
            guard modifier == nil || ["exact", "contains"].contains(modifier!) else { return nil }
            return (pieces[0], modifier, parameter.value.split(separator: ",").map(String.init))
        }
        var object = bundle
        object["entry"] = .array(
            entries.filter { entry in
                guard entry["search"]?["mode"]?.stringValue == "match", let patient = entry["resource"]?.objectValue else { return true }
                if rules.mergedByIdOnly, !byID, Self.isMerged(patient) { return false }
                if rules.currentNamesOnly, !names.isEmpty {
                    let current = (patient["name"]?.arrayValue ?? []).filter { !["old", "maiden"].contains($0["use"]?.stringValue ?? "") }
                    return names.allSatisfy { criterion in
                        current.contains { name in
                            Self.parts(of: name, criterion.part).contains { part in
                                criterion.values.contains { Self.matches(part, $0, modifier: criterion.modifier) }
                            }
                        }
                    }
                }
                return true
            })
        return object
    }

    static func isMerged(_ patient: JSONObject) -> Bool {
        (patient["link"]?.arrayValue ?? []).contains { $0["type"]?.stringValue == "replaced-by" }
    }

    /// The strings of a HumanName a `name`, `family` or `given` search looks at.
    static func parts(of name: JSON, _ part: String) -> [String] {
        let given = (name["given"]?.arrayValue ?? []).compactMap(\.stringValue)
        let family = name["family"]?.stringValue.map { [$0] } ?? []
        switch part {
        case "family": return family
        case "given": return given
        default:
            let others = ["prefix", "suffix"].flatMap { (name[$0]?.arrayValue ?? []).compactMap(\.stringValue) }
            return family + given + others + (name["text"]?.stringValue.map { [$0] } ?? [])
        }
    }

    /// R4 string matching: case- and accent-insensitive prefix; `:exact` exact; `:contains` anywhere.
    static func matches(_ text: String, _ value: String, modifier: String?) -> Bool {
        switch modifier {
        case "exact": return text == value
        case "contains": return StringFolding.fold(text).contains(StringFolding.fold(value))
        default: return StringFolding.fold(text).hasPrefix(StringFolding.fold(value))
        }
    }

    /// The answer to a read of a merged patient: `301` to the surviving record, with the
    /// `mergedRead` note. ASSUMPTION (§1.8: "documented as an HTTP redirect", medium confidence):
    /// a permanent redirect, since a merge is not undone.
    func mergedRedirect(_ json: JSON, for request: FHIRRequest, status: Int) -> FHIRResponse? {
        guard status == 200, request.method == "GET", request.segments.count == 2, request.segments[0] == "Patient",
            case .object(let patient) = json, Self.isMerged(patient),
            let survivor = (patient["link"]?.arrayValue ?? []).first(where: { $0["type"]?.stringValue == "replaced-by" })?["other"]?[
                "reference"]?.stringValue
        else { return nil }
        let note =
            dialect.note(
                .init(severity: "error", code: "processing", message: "this patient was merged: Location names the surviving record"),
                kind: "mergedRead") ?? .init(severity: "error", code: "processing", message: "this patient was merged")
        return FHIRResponse(
            status: 301, headers: [("Location", "\(request.baseURL)/\(survivor)"), ("Content-Type", "application/fhir+json")],
            body: OperationOutcome.make([note]).bytes)
    }
}
