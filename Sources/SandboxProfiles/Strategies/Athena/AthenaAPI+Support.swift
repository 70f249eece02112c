import FHIRCore
import FHIRInteractions
import FHIRSearch
import SandboxSeed

/// Parameters, dates, list envelopes and the clinic's numbers as athena shows them.
extension AthenaAPI {
    /// `mm/dd/yyyy` as a local day (days since 1970-01-01); 400 naming the field otherwise.
    func day(_ request: ProprietaryRequest, _ name: String) throws(AthenaFailure) -> Int? {
        guard let text = request.value(name), !text.isEmpty else { return nil }
        guard let day = Self.day(text) else {
            throw AthenaFailure("Invalid \(name).", detail: "\(name) must be a date in mm/dd/yyyy form, not '\(text)'.")
        }
        return day
    }

    static func day(_ text: String) -> Int? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 2, parts[1].count == 2, parts[2].count == 4, let month = Int(parts[0]),
            let date = Int(parts[1]), let year = Int(parts[2]), (1...12).contains(month),
            (1...CivilCalendar.daysInMonth(year: year, month: month)).contains(date)
        else { return nil }
        return CivilCalendar.daysFromCivil(year: year, month: month, day: date)
    }

    /// `mm/dd/yyyy` of a local day.
    static func date(_ day: Int) -> String {
        let (year, month, date) = CivilCalendar.civilFromDays(day)
        return "\(InstantFormat.pad(month, 2))/\(InstantFormat.pad(date, 2))/\(InstantFormat.pad(year, 4))"
    }

    /// `HH:mm` local.
    func time(_ instant: Int64) -> String {
        let minutes = Int((instant - seed.instant(day: seed.localDay(instant), time: TimeOfDay(minutes: 0))) / 60_000)
        return "\(InstantFormat.pad(minutes / 60, 2)):\(InstantFormat.pad(minutes % 60, 2))"
    }

    /// `mm/dd/yyyy HH:mm:ss` local (athena's timestamps).
    func stamp(_ instant: Int64) -> String {
        let day = seed.localDay(instant)
        let seconds = Int((instant - seed.instant(day: day, time: TimeOfDay(minutes: 0))) / 1000)
        return Self.date(day) + " \(InstantFormat.pad(seconds / 3600, 2)):\(InstantFormat.pad(seconds / 60 % 60, 2)):"
            + InstantFormat.pad(seconds % 60, 2)
    }

    /// `mm/dd/yyyy HH:mm:ss` (or without the time) as an instant.
    func instant(_ request: ProprietaryRequest, _ name: String) throws(AthenaFailure) -> Int64? {
        guard let text = request.value(name), !text.isEmpty else { return nil }
        let parts = text.split(separator: " ")
        let clock = parts.count == 2 ? parts[1].split(separator: ":").compactMap { Int($0) } : [0, 0, 0]
        guard parts.count <= 2, let day = Self.day(String(parts[0])), clock.count == 3, clock[0] < 24, clock[1] < 60, clock[2] < 60 else {
            throw AthenaFailure("Invalid \(name).", detail: "\(name) must be mm/dd/yyyy HH:mm:ss, not '\(text)'.")
        }
        return seed.instant(day: day, time: TimeOfDay(minutes: clock[0] * 60 + clock[1])) + Int64(clock[2]) * 1000
    }

    func integer(_ request: ProprietaryRequest, _ name: String) throws(AthenaFailure) -> Int? {
        guard let text = request.value(name), !text.isEmpty else { return nil }
        guard let value = Int(text) else { throw AthenaFailure("Invalid \(name).", detail: "\(name) must be an integer, not '\(text)'.") }
        return value
    }

    /// A comma list of integers (`providerid=1,2`).
    func integers(_ request: ProprietaryRequest, _ name: String) throws(AthenaFailure) -> [Int]? {
        guard let text = request.value(name), !text.isEmpty else { return nil }
        var values: [Int] = []
        for part in text.split(separator: ",") {
            guard let value = Int(part.filter { $0 != " " }) else {
                throw AthenaFailure("Invalid \(name).", detail: "\(name) must be a comma-separated list of integers, not '\(text)'.")
            }
            values.append(value)
        }
        return values
    }

    /// athena's booleans: `true`/`false` (and `1`/`0`); absent is false.
    func flag(_ request: ProprietaryRequest, _ name: String) throws(AthenaFailure) -> Bool {
        guard let text = request.value(name)?.lowercased(), !text.isEmpty else { return false }
        switch text {
        case "true", "1", "y", "yes": return true
        case "false", "0", "n", "no": return false
        default: throw AthenaFailure("Invalid \(name).", detail: "\(name) must be true or false, not '\(text)'.")
        }
    }

    func required(_ request: ProprietaryRequest, _ name: String) throws(AthenaFailure) -> String {
        guard let value = request.value(name), !value.isEmpty else {
            throw AthenaFailure("Missing required field: \(name).", detail: "\(name) is required.")
        }
        return value
    }

    /// Writes are form-encoded (§3.4): a JSON body is refused, naming the content type.
    func form(_ request: ProprietaryRequest) throws(AthenaFailure) -> ProprietaryRequest {
        guard request.form != nil else {
            throw AthenaFailure(
                status: 415, "Unsupported content type.",
                detail: "Send the fields as application/x-www-form-urlencoded, not \(request.contentType ?? "this body").")
        }
        return request
    }

    /// A list envelope (§3.4): `totalcount`, the page under `key`, and `next`/`previous` paths
    /// that repeat the request's parameters with another `offset`. `limit` defaults to
    /// `defaultLimit` and may not exceed `maxLimit`.
    func page(
        _ items: [JSON], key: String, request: ProprietaryRequest, path: String, defaultLimit: Int, maxLimit: Int
    ) throws(AthenaFailure) -> ProprietaryResponse {
        let limit = try integer(request, "limit") ?? defaultLimit
        let offset = try integer(request, "offset") ?? 0
        guard limit >= 1, limit <= maxLimit else {
            throw AthenaFailure("Invalid limit.", detail: "limit must be between 1 and \(maxLimit).")
        }
        guard offset >= 0 else { throw AthenaFailure("Invalid offset.", detail: "offset must be 0 or more.") }
        var body = JSONObject(["totalcount": .int(items.count)])
        body[key] = .array(Array(items.dropFirst(offset).prefix(limit)))
        let kept = request.query.filter { $0.name != "offset" && $0.name != "limit" }
        func link(_ at: Int) -> JSON {
            let query = kept + [(name: "limit", value: String(limit)), (name: "offset", value: String(at))]
            return .string("\(request.basePath)/\(practice)/\(path)?\(QueryString.encode(query))")
        }
        if offset + limit < items.count { body["next"] = link(offset + limit) }
        if offset > 0 { body["previous"] = link(max(0, offset - limit)) }
        return .json(.object(body))
    }

    // MARK: The clinic's numbers

    func department(number: Int) -> Department? { departments.first { $0.number == number } }
    func department(location: String) -> Department? { departments.first { $0.id == location } }
    func number(_ id: String, _ type: String) -> Int { Int(ids.number(id, type: type)) ?? 0 }
    func numberText(_ id: String, _ type: String) -> String { ids.number(id, type: type) }

    /// The stored id of an athena number (`60178` → `pat-0001`).
    func stored(_ number: String, _ type: String) -> String? {
        ids.internal("a-\(practice).\(AthenaIDs.tag(type))-\(number)", type: type)
    }

    func visitType(number: Int) -> AppointmentType? { types.first { $0.number == number }?.type }
    func typeNumber(_ code: String) -> Int { types.first { $0.type.code == code }?.number ?? 0 }

    func template(_ id: String) -> ScheduleTemplate? { seed.schedules.first { $0.id == id } }

    func now() -> Int64 { service.clock.now() }
}

extension ProprietaryRequest {
    /// The mount's path (without origin), for paging links: athena's `next` is a path.
    var basePath: String {
        // Past `scheme://`, the path starts at the first slash.
        let parts = baseURL.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        return parts.count == 4 ? "/" + parts[3] : ""
    }
}
