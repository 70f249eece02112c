import FHIRCore
import FHIRInteractions
import FHIRSearch
import FHIRStore
import Scheduling

/// The scheduling API's reads (vendor-quirks §4.3): Schedule by provider NPI, facility and
/// date; Slot by schedule (ASSUMPTION); Appointment read and search by patient (ASSUMPTION).
/// Continuation pages (`_page_token`) are the engine's and pass through unchanged.
extension HealowAPI {
    static let npiSystem = "http://hl7.org/fhir/sid/us-npi"

    /// `GET Schedule?actor={NPI}[&actor.location={facility}][&date=geYYYY-MM-DD]`.
    func schedules(_ call: ProprietaryRequest) throws(FHIRError) -> ProprietaryResponse {
        if isContinuation(call) { return ProprietaryResponse(forward(call, method: "GET", segments: ["Schedule"], query: call.query)) }
        for (name, _) in call.query where !["actor", "actor.location", "date", "_count"].contains(name) {
            let why =
                ["type", "identifier"].contains(name)
                ? "is not supported by the healow Scheduling API's Schedule search"
                : "is not a Schedule search parameter of the healow Scheduling API"
            throw FHIRError(
                .unknownParameter, "'\(name)' \(why) (search by actor = the provider's NPI, actor.location = the facility id, date)",
                expression: [name])
        }
        guard let actor = value(call, "actor") else {
            throw FHIRError(.searchCriteriaMissing, "actor (the provider's NPI) is required, e.g. actor=1413124951", expression: ["actor"])
        }
        let npis = actor.split(separator: ",").map(String.init)
        for npi in npis where npi.count != 10 || !npi.allSatisfy(\.isASCII) || !npi.allSatisfy(\.isNumber) {
            throw FHIRError(
                .invalidParameter, "actor is the provider's NPI (10 digits), not '\(npi)'; Practitioner references are not accepted here",
                expression: ["actor"])
        }
        var query: [(name: String, value: String)] = []
        let practitioners = try practitioners(npis: npis)
        query.append(("actor", practitioners.map { "Practitioner/\($0)" }.joined(separator: ",")))
        var known = !practitioners.isEmpty
        if let text = value(call, "actor.location") {
            guard let number = Int(text), number > 0 else {
                throw FHIRError(
                    .invalidParameter, "actor.location is a facility id (a number), not '\(text)'", expression: ["actor.location"])
            }
            let location = facilities.first { $0.number == number }?.location
            known = known && location != nil
            query.append(("actor", "Location/\(location ?? "")"))
        }
        if let date = value(call, "date") {
            let prefixes = ["ge", "gt", "le", "lt", "eq"]
            let bare = prefixes.contains(String(date.prefix(2))) ? String(date.dropFirst(2)) : date
            guard FHIRDateTime.parse(bare, form: .date)?.precision == .day else {
                throw FHIRError(
                    .invalidParameter, "date must be a day with a prefix, like date=ge2026-04-13, not '\(date)'", expression: ["date"])
            }
            query.append(("date", date))
        }
        if let count = value(call, "_count") { query.append(("_count", count)) }
        guard known else { return emptySearch(call, type: "Schedule") }
        return restated(forward(call, method: "GET", segments: ["Schedule"], query: query), call: call, type: "Schedule")
    }

    /// `GET Slot?schedule={id}[&start=ge...][&start=lt...][&status=...]`: ASSUMPTION (§4.3), free
    /// slots unless `status` says otherwise.
    func slots(_ call: ProprietaryRequest) throws(FHIRError) -> ProprietaryResponse {
        try horizon.extend()
        if isContinuation(call) { return ProprietaryResponse(forward(call, method: "GET", segments: ["Slot"], query: call.query)) }
        try only(call, ["schedule", "start", "status", "_count"], type: "Slot")
        guard let schedule = value(call, "schedule") else {
            throw FHIRError(
                .searchCriteriaMissing, "schedule is required: find the provider's Schedule first (Schedule?actor={NPI})",
                expression: ["schedule"])
        }
        var query = call.query.filter { $0.name != "schedule" }
        query.append(
            (
                "schedule",
                schedule.split(separator: ",").map { $0.hasPrefix("Schedule/") ? String($0) : "Schedule/\($0)" }.joined(separator: ",")
            ))
        if value(call, "status") == nil { query.append(("status", "free")) }
        return restated(forward(call, method: "GET", segments: ["Slot"], query: query), call: call, type: "Slot")
    }

    /// `GET Appointment?patient={id}[&date=...][&status=...]`: ASSUMPTION (§4.3), a patient's
    /// appointments.
    func appointments(_ call: ProprietaryRequest) throws(FHIRError) -> ProprietaryResponse {
        if isContinuation(call) { return ProprietaryResponse(forward(call, method: "GET", segments: ["Appointment"], query: call.query)) }
        try only(call, ["patient", "date", "status", "_count"], type: "Appointment")
        guard value(call, "patient") != nil else {
            throw FHIRError(.searchCriteriaMissing, "patient is required (Appointment?patient={id})", expression: ["patient"])
        }
        return restated(forward(call, method: "GET", segments: ["Appointment"], query: call.query), call: call, type: "Appointment")
    }

    func read(_ call: ProprietaryRequest, _ type: String, _ id: String) throws(FHIRError) -> ProprietaryResponse {
        if type == "Slot" { try horizon.extend() }
        return ProprietaryResponse(forward(call, method: "GET", segments: [type, id]))
    }

    /// Stored practitioners with these NPIs.
    func practitioners(npis: [String]) throws(FHIRError) -> [String] {
        let parser = ehr.searchParser()
        let query = try parser.parse(
            type: "Practitioner", parameters: [("identifier", npis.map { "\(Self.npiSystem)|\($0)" }.joined(separator: ","))],
            strict: true, now: 0)
        return try ehr.read { reader throws(FHIRError) in try reader.search(query).map(\.id) }
    }

    func isContinuation(_ call: ProprietaryRequest) -> Bool { call.query.contains { $0.name == "_page_token" } }

    func value(_ call: ProprietaryRequest, _ name: String) -> String? { call.query.last { $0.name == name }?.value }

    func only(_ call: ProprietaryRequest, _ names: Set<String>, type: String) throws(FHIRError) {
        for (name, _) in call.query where !names.contains(name) {
            throw FHIRError(
                .unknownParameter,
                "'\(name)' is not a \(type) search parameter of the healow Scheduling API (\(names.sorted().joined(separator: ", ")))",
                expression: [name])
        }
    }

    /// A search answer whose `self` link is the request as the client sent it (the engine's
    /// shows the translated criteria).
    func restated(_ response: FHIRResponse, call: ProprietaryRequest, type: String) -> ProprietaryResponse {
        var response = response
        guard response.status == 200, case .object(var bundle)? = response.jsonBody(), case .array(var links)? = bundle["link"] else {
            return ProprietaryResponse(response)
        }
        links = links.map { link in
            guard link["relation"]?.stringValue == "self", case .object(var object) = link else { return link }
            object["url"] = .string(selfURL(call, type: type))
            return .object(object)
        }
        bundle["link"] = .array(links)
        response.setJSONBody(.object(bundle))
        return ProprietaryResponse(response)
    }

    func selfURL(_ call: ProprietaryRequest, type: String) -> String {
        call.baseURL + "/" + type + (call.query.isEmpty ? "" : "?" + QueryString.encode(call.query))
    }

    /// No match (an NPI or facility this practice does not have): an empty searchset.
    func emptySearch(_ call: ProprietaryRequest, type: String) -> ProprietaryResponse {
        var bundle = BundleBuilder(type: "searchset", id: ehr.random.uuid(), timestamp: InstantFormat.iso(ehr.clock.now()))
        bundle.total = 0
        bundle.links = [("self", selfURL(call, type: type))]
        return ProprietaryResponse(FHIRResponse.json(200, bundle.bytes()))
    }
}
