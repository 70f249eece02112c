import FHIRCore
import Foundation

extension Seed {
    static let snomed = "http://snomed.info/sct"

    /// The local date (days since 1970-01-01) of an instant in the clinic's zone.
    public func localDay(_ instant: Int64) -> Int {
        let local = instant + Int64(zone.offsetSeconds(atMilliseconds: instant)) * 1000
        return Int(local >= 0 ? local / 86_400_000 : (local - 86_399_999) / 86_400_000)
    }

    /// The instant of a wall-clock time on a local date.
    public func instant(day: Int, time: TimeOfDay) -> Int64 {
        let (year, month, date) = CivilCalendar.civilFromDays(day)
        return FHIRDateTime(year: year, month: month, day: date, hour: time.minutes / 60, minute: time.minutes % 60, precision: .minute)
            .startMilliseconds(in: zone)
    }

    /// An instant written with the clinic's offset, e.g. `2026-11-23T09:00:00-06:00`.
    public func format(_ instant: Int64) -> String {
        InstantFormat.iso(instant, offsetSeconds: zone.offsetSeconds(atMilliseconds: instant))
    }

    /// Whether `template` offers [start, end) on local `day`: inside a window, not blocked, the
    /// location open and the practitioner not on vacation (vacations count from `clockDay`).
    public func isOpen(_ template: ScheduleTemplate, day: Int, start: TimeOfDay, end: TimeOfDay, clockDay: Int) -> Bool {
        let weekday = CivilCalendar.weekday(days: day)
        guard let windows = template.week[weekday], windows.contains(where: { $0.start <= start && end <= $0.end }) else { return false }
        if template.blocks.contains(where: { $0.weekday == weekday && $0.start < end && start < $0.end }) { return false }
        if closures.contains(where: { $0.location == template.location && $0.days.contains(day) }) { return false }
        for vacation in vacations where vacation.practitioner == template.practitioner {
            let first = clockDay + vacation.startDaysFromClock
            if day >= first && day < first + vacation.days { return false }
        }
        return true
    }

    /// All seed resources as of `now`: the static files plus Schedules and Appointments
    /// rendered from the templates.
    public func render(at now: Int64) -> [JSON] {
        let displays = codeDisplays()
        let clockDay = localDay(now)
        var result = resources
        for template in schedules {
            result.append(schedule(template, now: now, displays: displays))
        }
        for appointment in appointments {
            if let rendered = self.appointment(appointment, clockDay: clockDay, displays: displays) { result.append(rendered) }
        }
        return result
    }

    /// SNOMED display texts used by the seed's resources, by code.
    public func codeDisplays() -> [String: String] {
        var displays: [String: String] = [:]
        func walk(_ value: JSON) {
            switch value {
            case .object(let object):
                if object["system"]?.stringValue == Self.snomed, let code = object["code"]?.stringValue,
                    let display = object["display"]?.stringValue
                {
                    displays[code] = display
                }
                for member in object { walk(member.value) }
            case .array(let values): values.forEach(walk)
            default: break
            }
        }
        resources.forEach(walk)
        return displays
    }

    /// `[{"coding": [{SNOMED code, display}]}]` for a schedule's service type or specialty.
    public func concept(_ code: String?, _ displays: [String: String]) -> JSON? {
        guard let code else { return nil }
        var coding = JSONObject()
        coding["system"] = .string(Self.snomed)
        coding["code"] = .string(code)
        if let display = displays[code] { coding["display"] = .string(display) }
        return .array([.object(JSONObject(["coding": .array([.object(coding)])]))])
    }

    public func displayName(_ type: String, _ id: String) -> String? {
        guard let resource = resources.first(where: { $0["resourceType"]?.stringValue == type && $0["id"]?.stringValue == id }) else {
            return nil
        }
        if let name = resource["name"]?.stringValue { return name }
        guard let name = resource["name"]?.arrayValue?.first else { return nil }
        let given = (name["given"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: " ")
        let prefix = (name["prefix"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: " ")
        return [prefix, given, name["family"]?.stringValue ?? ""].filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// A Reference with the seed resource's display name.
    public func reference(_ type: String, _ id: String) -> JSON {
        var object = JSONObject()
        object["reference"] = .string("\(type)/\(id)")
        if let display = displayName(type, id) { object["display"] = .string(display) }
        return .object(object)
    }

    func schedule(_ template: ScheduleTemplate, now: Int64, displays: [String: String]) -> JSON {
        let clockDay = localDay(now)
        var object = JSONObject()
        object["resourceType"] = .string("Schedule")
        object["id"] = .string(template.id)
        object["identifier"] = .array([
            .object(JSONObject(["system": .string("http://riverbend.example.org/fhir/sid/schedule"), "value": .string(template.id)]))
        ])
        object["active"] = .bool(true)
        object["serviceType"] = concept(template.serviceType, displays)
        object["specialty"] = concept(template.specialty, displays)
        object["actor"] = .array([reference("Practitioner", template.practitioner), reference("Location", template.location)])
        object["planningHorizon"] = .object(
            JSONObject([
                "start": .string(format(instant(day: clockDay, time: TimeOfDay(minutes: 0)))),
                "end": .string(format(instant(day: clockDay + planningHorizonDays, time: TimeOfDay(minutes: 0)))),
            ]))
        let days = template.week.keys.sorted().map { SeedLoader.weekdays[$0].prefix(3).capitalized }
        object["comment"] = .string(
            "\(template.slotMinutes)-minute slots on \(days.joined(separator: ", ")); visit types: \(template.types.joined(separator: ", "))"
        )
        return .object(object)
    }

    /// The Appointment for a seed appointment (without slot references), or nil if its
    /// schedule or type is unknown.
    public func appointment(_ seed: SeedAppointment, clockDay: Int, displays: [String: String]) -> JSON? {
        guard let template = schedules.first(where: { $0.id == seed.schedule }), let type = appointmentType(seed.type) else { return nil }
        let end = TimeOfDay(minutes: seed.time.minutes + type.minutes)
        // The first day on or after the offset on which the schedule is open at that time.
        var day = clockDay + seed.daysFromClock
        for _ in 0..<28 where !isOpen(template, day: day, start: seed.time, end: end, clockDay: clockDay) { day += 1 }
        let start = instant(day: day, time: seed.time)
        var object = JSONObject()
        object["resourceType"] = .string("Appointment")
        object["id"] = .string(seed.id)
        object["status"] = .string(seed.status)
        if let reason = seed.cancelationReason {
            object["cancelationReason"] = .object(JSONObject(["text": .string(reason)]))
        }
        object["serviceType"] = concept(template.serviceType, displays)
        object["specialty"] = concept(template.specialty, displays)
        object["appointmentType"] = type.concept
        object["description"] = .string(type.display)
        object["start"] = .string(format(start))
        object["end"] = .string(format(start + Int64(type.minutes) * 60_000))
        object["minutesDuration"] = .int(type.minutes)
        object["created"] = .string(InstantFormat.date(start - 14 * 86_400_000, offsetSeconds: zone.offsetSeconds(atMilliseconds: start)))
        if let comment = seed.comment { object["comment"] = .string(comment) }
        func participant(_ type: String, _ id: String) -> JSON {
            .object(
                JSONObject([
                    "actor": reference(type, id), "required": .string("required"),
                    "status": .string(seed.status == "cancelled" ? "declined" : "accepted"),
                ]))
        }
        object["participant"] = .array([
            participant("Patient", seed.patient), participant("Practitioner", template.practitioner),
            participant("Location", template.location),
        ])
        return .object(object)
    }
}
