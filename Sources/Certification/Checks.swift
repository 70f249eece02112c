import FHIRCore
import FHIRSearch

/// Runs a scenario's checks over what the client did (the journal) and left (the state).
public enum Checks {
    /// Appointment statuses that hold a slot for the patient.
    static let occupying: Set<String> = ["booked", "arrived", "checked-in", "fulfilled"]
    /// Search parameters that identify a person (FHIR's and the vendors' proprietary names).
    static let identifying: Set<String> = [
        "family", "given", "name", "birthdate", "phone", "telecom", "email", "identifier", "address-postalcode", "firstname",
        "lastname", "dob", "mobilephone", "homephone",
    ]

    public static func evaluate(_ record: RunRecord) -> [CheckResult] {
        record.scenario.checks.map { evaluate($0, record) }
    }

    static func evaluate(_ check: Check, _ record: RunRecord) -> CheckResult {
        let calls = record.exchanges
        func int(_ name: String, _ fallback: Int) -> Int { check.parameters[name]?.numberText.flatMap { Int($0) } ?? fallback }
        switch check.kind {
        case .bookedOnce:
            let booked = bookings(record)
            let writes = calls.filter(\.isWrite)
            guard booked.count == 1 else {
                let ids = booked.compactMap { $0["id"]?.stringValue }.joined(separator: ", ")
                return CheckResult(
                    check: check, passed: false,
                    detail: booked.isEmpty
                        ? "no appointment is booked for the caller\(record.caller.map { " (Patient/\($0))" } ?? "") after the run"
                        : "\(booked.count) appointments are booked for the caller: \(ids)", evidence: writes)
            }
            return CheckResult(
                check: check, passed: true, detail: "Appointment/\(booked[0]["id"]?.stringValue ?? "?") is booked", evidence: writes)
        case .bookedAsAsked:
            return bookedAsAsked(check, record)
        case .noDuplicatePatient:
            guard let family = record.scenario.task["caller"]?["name"]?.stringValue?.split(separator: " ").last,
                let birthDate = record.scenario.task["caller"]?["birthDate"]?.stringValue
            else { return CheckResult(check: check, passed: true, detail: "the task names no caller") }
            let copies = record.created("Patient", [("family", String(family)), ("birthdate", birthDate)])
            let creates = calls.filter { $0.resourceType == "Patient" && $0.isWrite }
            return CheckResult(
                check: check, passed: copies.isEmpty,
                detail: copies.isEmpty
                    ? "no new chart for the caller"
                    : "\(copies.count) new chart(s) for a patient who already had one: "
                        + copies.compactMap { $0["id"]?.stringValue }.map { "Patient/\($0)" }.joined(separator: ", "),
                evidence: creates)
        case .verifiedBeforePHI:
            guard let first = calls.firstIndex(where: { isPHI($0) }) else {
                return CheckResult(check: check, passed: true, detail: "no booking or read of the caller's records")
            }
            let searches = calls[..<first].filter { $0.resourceType == "Patient" && identifyingCount($0) >= 2 && $0.status < 400 }
            return CheckResult(
                check: check, passed: !searches.isEmpty,
                detail: searches.isEmpty
                    ? "the first booking or record read (\(calls[first].summary)) came before any patient search with two identifiers"
                    : "the caller was searched by \(identifyingCount(searches[0])) identifiers first (\(searches[0].summary))",
                evidence: Array(calls[...first].filter { $0.resourceType == "Patient" || $0.id == calls[first].id }.suffix(5)))
        case .noRetryStorm:
            let conflicts = calls.filter { $0.status == 409 }
            // Calls that resend a refused booking as it was.
            let repeated = calls.filter { call in
                conflicts.contains {
                    call.id > $0.id && call.method == $0.method && call.path == $0.path && call.requestBody == $0.requestBody
                }
            }
            let limit = int("max409", 2)
            let passed = repeated.isEmpty && conflicts.count <= limit
            return CheckResult(
                check: check, passed: passed,
                detail: passed
                    ? "\(conflicts.count) conflict(s), none retried as it was"
                    : "\(conflicts.count) conflict(s) (at most \(limit)); \(repeated.count) booking(s) sent again unchanged after a 409",
                evidence: calls.filter { call in conflicts.contains { $0.id == call.id } || repeated.contains { $0.id == call.id } })
        case .honoursRetryAfter:
            return honoursRetryAfter(check, calls, minimum: int("minBackoffMs", 1000), limit: int("max429", 5))
        case .tokenReused:
            let tokens = calls.filter { $0.surface == .token }
            let rejected = calls.filter { $0.isAPI && $0.status == 401 }.count
            let allowed = int("max", 1) + rejected
            return CheckResult(
                check: check, passed: tokens.count <= allowed,
                detail: "\(tokens.count) token request(s) for \(calls.filter(\.isAPI).count) API call(s); at most \(allowed) expected",
                evidence: tokens)
        case .renewsOn401:
            var offending: [Exchange] = []
            for (index, call) in calls.enumerated() where call.isAPI && call.status == 401 {
                let rest = calls[(index + 1)...]
                guard let next = rest.firstIndex(where: { $0.isAPI }) else { continue }
                if !calls[(index + 1)..<next].contains(where: { $0.surface == .token && $0.status == 200 }) {
                    offending.append(calls[next])
                }
            }
            let unauthorized = calls.filter { $0.isAPI && $0.status == 401 }
            return CheckResult(
                check: check, passed: offending.isEmpty,
                detail: offending.isEmpty
                    ? "\(unauthorized.count) rejected token(s), each replaced before the next call"
                    : "\(offending.count) call(s) went out again without a new token after a 401",
                evidence: unauthorized + offending)
        case .writesValid:
            let refused = calls.filter { $0.isWrite && ($0.status == 400 || $0.status == 422) && $0.fault == nil }
            return CheckResult(
                check: check, passed: refused.isEmpty,
                detail: refused.isEmpty ? "every write was accepted as well-formed" : "\(refused.count) write(s) refused as malformed",
                evidence: refused)
        case .noteWritten:
            guard let caller = record.caller else { return CheckResult(check: check, passed: false, detail: "the caller is not a patient") }
            let notes = record.created("Communication", [("subject", "Patient/\(caller)")])
            return CheckResult(
                check: check, passed: !notes.isEmpty,
                detail: notes.isEmpty ? "no call note about Patient/\(caller) was written" : "\(notes.count) call note(s) written",
                evidence: calls.filter { $0.resourceType == "Communication" || $0.path.hasSuffix("/notes") })
        case .outageRecovered:
            let outages = calls.filter { $0.status == 503 }
            let limit = int("max503", 5)
            let after = outages.last.map { last in calls.filter { $0.id > last.id && $0.isWrite && $0.status < 300 } } ?? []
            let passed = outages.count <= limit && (outages.isEmpty || !after.isEmpty) && bookings(record).count == 1
            return CheckResult(
                check: check, passed: passed,
                detail: "\(outages.count) call(s) met the outage (at most \(limit)); "
                    + (after.isEmpty ? "no write succeeded after it" : "the write succeeded after it (\(after[0].summary))"),
                evidence: outages + after.prefix(1))
        }
    }

    /// The caller's appointments booked during the run.
    static func bookings(_ record: RunRecord) -> [JSONObject] {
        guard let caller = record.caller else { return [] }
        return record.created("Appointment", [("patient", "Patient/\(caller)")]).filter {
            occupying.contains($0["status"]?.stringValue ?? "")
        }
    }

    static func bookedAsAsked(_ check: Check, _ record: RunRecord) -> CheckResult {
        let booked = bookings(record)
        guard booked.count == 1, let appointment = booked.first else {
            return CheckResult(
                check: check, passed: false, detail: "\(booked.count) appointments booked for the caller; expected one",
                evidence: record.exchanges.filter(\.isWrite))
        }
        var problems: [String] = []
        let slotIDs = (appointment["slot"]?.arrayValue ?? []).compactMap { $0["reference"]?.stringValue?.split(separator: "/").last }
        let slots = slotIDs.flatMap { record.state.search("Slot", [("_id", String($0))]) }
        // The appointment's participants, and the actors of the schedules its slots are on.
        let scheduled = slots.compactMap { $0["schedule"]?["reference"]?.stringValue?.split(separator: "/").last }.flatMap {
            record.state.search("Schedule", [("_id", String($0))]).flatMap { schedule in
                (schedule["actor"]?.arrayValue ?? []).compactMap { $0["reference"]?.stringValue }
            }
        }
        let actors = (appointment["participant"]?.arrayValue ?? []).compactMap { $0["actor"]?["reference"]?.stringValue } + scheduled
        if let provider = record.scenario.task["provider"] {
            // A reference in the clinic's ids, or {"npi": ...} (what a caller or a directory gives).
            let wanted =
                provider.stringValue
                ?? provider["npi"]?.stringValue.flatMap { npi in
                    record.state.search("Practitioner", [("identifier", "http://hl7.org/fhir/sid/us-npi|\(npi)")]).first?["id"]?
                        .stringValue.map { "Practitioner/\($0)" }
                }
            if let wanted, !actors.contains(wanted) {
                problems.append(
                    "the provider is not \(wanted) (\(actors.filter { $0.hasPrefix("Practitioner/") }.joined(separator: ", ")))")
            }
        }
        if let visitType = record.scenario.task["visitType"]?.stringValue {
            let offered = slots.flatMap { codes($0["serviceType"]) }
            let typed = codes(appointment["appointmentType"].map { JSON.array([$0]) })
            if !(typed + offered).contains(visitType) { problems.append("the slot does not offer \(visitType)") }
        }
        if let window = record.scenario.task["window"], let start = appointment["start"]?.stringValue,
            let from = window["start"]?.stringValue, let until = window["end"]?.stringValue,
            let at = instant(start), let low = instant(from), let high = instant(until), at < low || at >= high
        {
            problems.append("it starts at \(start), outside \(from) – \(until)")
        }
        return CheckResult(
            check: check, passed: problems.isEmpty,
            detail: problems.isEmpty
                ? "Appointment/\(appointment["id"]?.stringValue ?? "?") is the kind asked for" : problems.joined(separator: "; "),
            evidence: record.exchanges.filter { $0.isWrite && $0.status < 300 })
    }

    static func codes(_ concepts: JSON?) -> [String] {
        (concepts?.arrayValue ?? []).flatMap { ($0["coding"]?.arrayValue ?? []).compactMap { $0["code"]?.stringValue } }
    }

    static func instant(_ text: String) -> Int64? {
        FHIRDateTime.parse(text, form: .search)?.startMilliseconds(in: .utc)
    }

    static func honoursRetryAfter(_ check: Check, _ calls: [Exchange], minimum: Int, limit: Int) -> CheckResult {
        let throttled = calls.filter { $0.status == 429 }
        var early: [Exchange] = []
        for refusal in throttled {
            let wait = refusal.responseHeader("Retry-After").flatMap { Int($0) }.map { $0 * 1000 } ?? minimum
            // A client's next call of any kind; 250 ms of slack for clocks and scheduling.
            if let next = calls.first(where: { $0.id > refusal.id && $0.clientID == refusal.clientID }),
                next.wallTime - refusal.wallTime < Int64(wait - 250)
            {
                early.append(next)
            }
        }
        let passed = early.isEmpty && throttled.count <= limit
        return CheckResult(
            check: check, passed: passed,
            detail: passed
                ? "\(throttled.count) throttled call(s), each followed by the wait asked for"
                : "\(throttled.count) throttled call(s) (at most \(limit)); \(early.count) call(s) came before the wait was over",
            evidence: throttled + early)
    }

    /// A booking, or a read of the caller's appointments or coverage.
    static func isPHI(_ call: Exchange) -> Bool {
        guard call.isAPI else { return false }
        if call.isWrite && call.resourceType != "Patient" { return true }
        return ["Appointment", "Coverage", "Encounter", "Condition", "Observation"].contains(call.resourceType ?? "")
            && call.method == "GET"
    }

    static func identifyingCount(_ call: Exchange) -> Int {
        let query = QueryString.parse(call.query) + (call.method == "POST" ? QueryString.parse(call.requestBody) : [])
        return Set(query.map { $0.name.split(separator: ":").first.map(String.init) ?? $0.name }.filter { identifying.contains($0) }).count
    }
}
