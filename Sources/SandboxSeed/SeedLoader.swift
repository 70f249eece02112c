import FHIRCore
import Foundation
import YAMLReader

/// Reads a seed folder: `seed.yaml`, `appointment-types.yaml`, `schedules.yaml`,
/// `appointments.yaml` and `resources/*.ndjson`. Every resource is validated as R4, ids must be
/// unique, and references between seed resources must resolve.
public enum SeedLoader {
    static let weekdays = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]

    public static func load(directory: String) throws(SeedError) -> Seed {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SeedError("seed folder '\(directory)' does not exist")
        }
        do {
            return try loadUnchecked(directory: directory)
        } catch let error as YAMLError {
            throw SeedError(error.description)
        } catch let error as SeedError {
            throw error
        } catch {
            throw SeedError("\(error)")
        }
    }

    private static func loadUnchecked(directory: String) throws -> Seed {
        let settings = try YAMLValue.load(file: "\(directory)/seed.yaml")
            .mapping(keys: ["name", "description", "timeZone", "planningHorizonDays", "holdMinutes", "facility", "practiceCode"])
        let zoneName = try settings.required("timeZone").string()
        guard let zone = TimeZoneRule(identifier: zoneName) else {
            throw try settings.required("timeZone").fail("unknown time zone '\(zoneName)'")
        }
        let horizon = try settings["planningHorizonDays"]?.int() ?? 90
        guard (1...730).contains(horizon) else { throw try settings.required("planningHorizonDays").fail("must be between 1 and 730") }

        let resources = try loadResources(directory: "\(directory)/resources")
        var ids: [String: Set<String>] = [:]
        for resource in resources {
            ids[resource["resourceType"]?.stringValue ?? "", default: []].insert(resource["id"]?.stringValue ?? "")
        }
        let types = try loadAppointmentTypes(
            "\(directory)/appointment-types.yaml", locations: ids["Location"] ?? [], organizations: ids["Organization"] ?? [])
        let (schedules, closures, vacations) = try loadSchedules(
            "\(directory)/schedules.yaml", ids: ids, typeCodes: Set(types.map(\.code)))
        let appointments =
            FileManager.default.fileExists(atPath: "\(directory)/appointments.yaml")
            ? try loadAppointments(
                "\(directory)/appointments.yaml", patients: ids["Patient"] ?? [], schedules: Set(schedules.map(\.id)),
                typeCodes: Set(types.map(\.code)))
            : []
        let holdMinutes = try settings["holdMinutes"]?.int() ?? 10
        guard (1...1440).contains(holdMinutes) else { throw try settings.required("holdMinutes").fail("must be between 1 and 1440") }
        var seed = Seed(
            name: try settings.required("name").string(), description: try settings["description"]?.string() ?? "",
            directory: directory, zone: zone, planningHorizonDays: horizon, resources: resources, appointmentTypes: types,
            schedules: schedules, closures: closures, vacations: vacations, appointments: appointments)
        seed.holdMinutes = holdMinutes
        if let item = settings["facility"] {
            let facility = try item.string()
            guard !facility.isEmpty, facility.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw item.fail("must be letters, digits, - or _ (an HL7 facility name)")
            }
            seed.facility = facility
        }
        if let item = settings["practiceCode"] {
            let code = try item.string()
            guard (1...32).contains(code.count), code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw item.fail("must be 1 to 32 ASCII letters or digits (a practice code in URLs)")
            }
            seed.practiceCode = code
        }
        if FileManager.default.fileExists(atPath: "\(directory)/payers.yaml") {
            seed.payers = try loadPayers("\(directory)/payers.yaml", ids: ids, typeCodes: Set(types.map(\.code)))
        }
        try checkReferences(seed.render(at: 0))
        return seed
    }

    static func loadResources(directory: String) throws -> [JSON] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".ndjson") || $0.hasSuffix(".json") }.sorted()
        guard !files.isEmpty else { throw SeedError("\(directory): no .ndjson or .json resource files") }
        let validator = StructuralValidator()
        var resources: [JSON] = []
        var seen = Set<String>()
        for file in files {
            let path = "\(directory)/\(file)"
            guard let data = FileManager.default.contents(atPath: path) else { throw SeedError("\(path): cannot read file") }
            let lines: [(Int, ArraySlice<UInt8>)]
            if file.hasSuffix(".json") {
                lines = [(1, data[...].map { $0 }[...])]
            } else {
                lines = Array(data).split(separator: 0x0A, omittingEmptySubsequences: false).enumerated().map {
                    ($0.offset + 1, $0.element)
                }
            }
            for (line, bytes) in lines where !bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) {
                let json: JSON
                do {
                    json = try JSONParser.parse(Array(bytes))
                } catch {
                    throw SeedError("\(path):\(line): invalid JSON: \(error.description)")
                }
                let issues = validator.validate(json)
                if !issues.isEmpty {
                    let text = issues.prefix(3).map { "\($0.expression.first ?? ""): \($0.message)" }.joined(separator: "; ")
                    throw SeedError("\(path):\(line): not a valid R4 resource: \(text)")
                }
                guard let type = json["resourceType"]?.stringValue, let id = json["id"]?.stringValue else {
                    throw SeedError("\(path):\(line): seed resources need a resourceType and an id")
                }
                guard seen.insert("\(type)/\(id)").inserted else { throw SeedError("\(path):\(line): duplicate id \(type)/\(id)") }
                resources.append(json)
            }
        }
        return resources
    }

    /// `payers.yaml`: per payer Organization, the practitioners out of its network and the
    /// visit types it covers with their copays.
    static func loadPayers(_ file: String, ids: [String: Set<String>], typeCodes: Set<String>) throws -> [PayerRule] {
        let root = try YAMLValue.load(file: file).mapping(keys: ["payers"])
        var result: [PayerRule] = []
        for item in try root.required("payers").list() {
            let map = try item.mapping(keys: ["organization", "outOfNetwork", "visitTypes"])
            let organization = try map.required("organization").string()
            guard ids["Organization"]?.contains(organization) == true else {
                throw try map.required("organization").fail("unknown Organization '\(organization)'")
            }
            let outside = try map["outOfNetwork"]?.strings() ?? []
            for practitioner in outside where ids["Practitioner"]?.contains(practitioner) != true {
                throw try map.required("outOfNetwork").fail("unknown Practitioner '\(practitioner)'")
            }
            var copays: [String: Int] = [:]
            for (code, value) in try map["visitTypes"]?.entries() ?? [] {
                guard typeCodes.contains(code) else { throw value.fail("unknown visit type '\(code)'") }
                let copay = try value.int()
                guard copay >= 0 else { throw value.fail("a copay cannot be negative") }
                copays[code] = copay
            }
            result.append(PayerRule(organization: organization, outOfNetwork: outside, copays: copays))
        }
        return result
    }

    static func loadAppointmentTypes(_ file: String, locations: Set<String>, organizations: Set<String> = []) throws -> [AppointmentType] {
        let root = try YAMLValue.load(file: file).mapping(keys: ["appointmentTypes"])
        var result: [AppointmentType] = []
        for item in try root.required("appointmentTypes").list() {
            let map = try item.mapping(keys: [
                "code", "display", "v2", "minutes", "newPatientsOnly", "minimumLeadHours", "maximumDaysAhead", "locations",
                "requiresCoverage",
            ])
            var coverage: CoverageRequirement?
            if let item = map["requiresCoverage"] {
                let requirement = try item.mapping(keys: ["payers"])
                let payers = try requirement["payers"]?.strings() ?? []
                for payer in payers where !organizations.contains(payer) {
                    throw try requirement.required("payers").fail("unknown Organization '\(payer)'")
                }
                coverage = CoverageRequirement(payers: payers)
            }
            let minutes = try map.required("minutes").int()
            guard minutes > 0 && minutes <= 480 else { throw try map.required("minutes").fail("must be between 1 and 480") }
            let allowed = try map["locations"]?.strings() ?? []
            for location in allowed where !locations.contains(location) {
                throw try map.required("locations").fail("unknown location '\(location)'")
            }
            let code = try map.required("code").string()
            if result.contains(where: { $0.code == code }) { throw try map.required("code").fail("duplicate code '\(code)'") }
            result.append(
                AppointmentType(
                    code: code, display: try map.required("display").string(), v2: try map.required("v2").string(), minutes: minutes,
                    newPatientsOnly: try map["newPatientsOnly"]?.bool() ?? false, minimumLeadHours: try map["minimumLeadHours"]?.int() ?? 0,
                    maximumDaysAhead: try map["maximumDaysAhead"]?.int() ?? 90, locations: allowed, coverage: coverage))
        }
        return result
    }

    static func time(_ value: YAMLValue) throws -> TimeOfDay {
        let text = try value.string()
        guard let time = TimeOfDay(text) else { throw value.fail("'\(text)' is not a time of day (HH:MM)") }
        return time
    }

    static func loadSchedules(
        _ file: String, ids: [String: Set<String>], typeCodes: Set<String>
    ) throws -> ([ScheduleTemplate], [Closure], [Vacation]) {
        let root = try YAMLValue.load(file: file).mapping(keys: ["schedules", "closures", "vacations"])
        func check(_ value: YAMLValue, _ type: String) throws -> String {
            let id = try value.string()
            guard ids[type]?.contains(id) == true else { throw value.fail("unknown \(type) '\(id)'") }
            return id
        }
        func checkTypes(_ value: YAMLValue) throws -> [String] {
            let codes = try value.strings()
            for code in codes where !typeCodes.contains(code) { throw value.fail("unknown appointment type '\(code)'") }
            return codes
        }
        var schedules: [ScheduleTemplate] = []
        for item in try root.required("schedules").list() {
            let map = try item.mapping(keys: [
                "id", "practitioner", "location", "slotMinutes", "specialty", "serviceType", "week", "blocks", "types",
            ])
            let id = try map.required("id").string()
            guard PrimitiveCheck.isValidID(id), !schedules.contains(where: { $0.id == id }) else {
                throw try map.required("id").fail("'\(id)' is not a valid, unique id")
            }
            let slotMinutes = try map.required("slotMinutes").int()
            guard [5, 10, 15, 20, 30, 40, 45, 60].contains(slotMinutes) else {
                throw try map.required("slotMinutes").fail("must be one of 5, 10, 15, 20, 30, 40, 45, 60")
            }
            var week: [Int: [Window]] = [:]
            for (day, windows) in try map.required("week").entries() {
                guard let weekday = weekdays.firstIndex(of: day) else { throw windows.fail("'\(day)' is not a weekday") }
                var parsed: [Window] = []
                for window in try windows.list() {
                    let fields = try window.mapping(keys: ["start", "end", "types"])
                    let start = try time(try fields.required("start"))
                    let end = try time(try fields.required("end"))
                    guard start < end else { throw window.fail("start must be before end") }
                    if let last = parsed.last, last.end > start { throw window.fail("windows overlap or are out of order") }
                    parsed.append(Window(start: start, end: end, types: try fields["types"].map(checkTypes)))
                }
                week[weekday] = parsed
            }
            var blocks: [ScheduleTemplate.Block] = []
            for block in try map["blocks"]?.list() ?? [] {
                let fields = try block.mapping(keys: ["day", "start", "end", "reason"])
                let day = try fields.required("day").string()
                guard let weekday = weekdays.firstIndex(of: day) else { throw try fields.required("day").fail("'\(day)' is not a weekday") }
                blocks.append(
                    .init(
                        weekday: weekday, start: try time(try fields.required("start")), end: try time(try fields.required("end")),
                        reason: try fields["reason"]?.string() ?? "Blocked"))
            }
            schedules.append(
                ScheduleTemplate(
                    id: id, practitioner: try check(try map.required("practitioner"), "Practitioner"),
                    location: try check(try map.required("location"), "Location"), slotMinutes: slotMinutes,
                    specialty: try map["specialty"]?.string(), serviceType: try map["serviceType"]?.string(), week: week,
                    blocks: blocks, types: try checkTypes(try map.required("types"))))
        }
        var closures: [Closure] = []
        for item in try root["closures"]?.list() ?? [] {
            let map = try item.mapping(keys: ["location", "dates", "reason"])
            var days = Set<Int>()
            for date in try map.required("dates").list() {
                let text = try date.string()
                guard let parsed = FHIRDateTime.parse(text, form: .date), parsed.precision == .day else {
                    throw date.fail("'\(text)' is not a date (YYYY-MM-DD)")
                }
                days.insert(CivilCalendar.daysFromCivil(year: parsed.year, month: parsed.month, day: parsed.day))
            }
            closures.append(
                Closure(
                    location: try check(try map.required("location"), "Location"), days: days,
                    reason: try map["reason"]?.string() ?? "Closed"))
        }
        var vacations: [Vacation] = []
        for item in try root["vacations"]?.list() ?? [] {
            let map = try item.mapping(keys: ["practitioner", "startDaysFromClock", "days", "reason"])
            vacations.append(
                Vacation(
                    practitioner: try check(try map.required("practitioner"), "Practitioner"),
                    startDaysFromClock: try map.required("startDaysFromClock").int(), days: try map.required("days").int(),
                    reason: try map["reason"]?.string() ?? "Away"))
        }
        return (schedules, closures, vacations)
    }

    static func loadAppointments(
        _ file: String, patients: Set<String>, schedules: Set<String>, typeCodes: Set<String>
    ) throws -> [SeedAppointment] {
        let root = try YAMLValue.load(file: file).mapping(keys: ["appointments"])
        let statuses: Set<String> = ["booked", "fulfilled", "cancelled", "noshow", "arrived", "checked-in"]
        var result: [SeedAppointment] = []
        for item in try root.required("appointments").list() {
            let map = try item.mapping(keys: [
                "id", "patient", "schedule", "type", "daysFromClock", "time", "status", "comment", "cancelationReason",
            ])
            let patient = try map.required("patient").string()
            guard patients.contains(patient) else { throw try map.required("patient").fail("unknown Patient '\(patient)'") }
            let schedule = try map.required("schedule").string()
            guard schedules.contains(schedule) else { throw try map.required("schedule").fail("unknown schedule '\(schedule)'") }
            let type = try map.required("type").string()
            guard typeCodes.contains(type) else { throw try map.required("type").fail("unknown appointment type '\(type)'") }
            let status = try map.required("status").string()
            guard statuses.contains(status) else { throw try map.required("status").fail("unsupported status '\(status)'") }
            result.append(
                SeedAppointment(
                    id: try map.required("id").string(), patient: patient, schedule: schedule, type: type,
                    daysFromClock: try map.required("daysFromClock").int(), time: try time(try map.required("time")), status: status,
                    comment: try map["comment"]?.string(), cancelationReason: try map["cancelationReason"]?.string()))
        }
        return result
    }

    /// Every relative reference between seed resources must point at a seed resource.
    static func checkReferences(_ resources: [JSON]) throws {
        let known = Set(resources.map { "\($0["resourceType"]?.stringValue ?? "")/\($0["id"]?.stringValue ?? "")" })
        func walk(_ value: JSON, owner: String) throws {
            switch value {
            case .object(let object):
                for member in object {
                    if member.key == "reference", let text = member.value.stringValue, let parsed = ReferenceSyntax.parse(text),
                        !text.hasPrefix("http"), !known.contains("\(parsed.type)/\(parsed.id)")
                    {
                        throw SeedError("seed resource \(owner) refers to \(text), which is not in the seed")
                    }
                    try walk(member.value, owner: owner)
                }
            case .array(let values):
                for item in values { try walk(item, owner: owner) }
            default:
                break
            }
        }
        for resource in resources {
            try walk(resource, owner: "\(resource["resourceType"]?.stringValue ?? "")/\(resource["id"]?.stringValue ?? "")")
        }
    }
}
