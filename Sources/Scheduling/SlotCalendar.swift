import FHIRCore
import SandboxSeed

/// One bookable slot of a schedule template, before it becomes a Slot resource.
public struct SlotSpec: Sendable, Equatable {
    /// Deterministic: `slot-<schedule without "sched-">-<yyyymmdd>-<hhmm>` (local date and time).
    public let id: String
    public let schedule: ScheduleTemplate.ID
    /// Epoch milliseconds.
    public let start: Int64
    public let end: Int64
    /// Visit types the slot's window accepts.
    public let types: [String]
}

extension ScheduleTemplate {
    public typealias ID = String
}

/// Turns weekly templates into slots, relative to the sandbox clock. Pure: the same seed, days
/// and clock give the same slots, so ids are stable and a reset reproduces them.
public struct SlotCalendar: Sendable {
    public let seed: Seed

    public init(seed: Seed) { self.seed = seed }

    /// Slots of every template on local days `days`, with vacations counted from `clockDay`.
    /// Slots fill each window from its start in the template's slot length; a slot must fit
    /// the window and miss blocks, closures and vacations.
    public func slots(days: Range<Int>, clockDay: Int) -> [SlotSpec] {
        var result: [SlotSpec] = []
        for template in seed.schedules {
            for day in days {
                result += slots(of: template, day: day, clockDay: clockDay)
            }
        }
        return result
    }

    public func slots(of template: ScheduleTemplate, day: Int, clockDay: Int) -> [SlotSpec] {
        guard let windows = template.week[CivilCalendar.weekday(days: day)] else { return [] }
        var result: [SlotSpec] = []
        let (year, month, date) = CivilCalendar.civilFromDays(day)
        let datePart = InstantFormat.pad(year, 4) + InstantFormat.pad(month, 2) + InstantFormat.pad(date, 2)
        let stem = template.id.hasPrefix("sched-") ? String(template.id.dropFirst(6)) : template.id
        for window in windows {
            var minute = window.start.minutes
            while minute + template.slotMinutes <= window.end.minutes {
                let start = TimeOfDay(minutes: minute)
                let end = TimeOfDay(minutes: minute + template.slotMinutes)
                if seed.isOpen(template, day: day, start: start, end: end, clockDay: clockDay) {
                    let time = InstantFormat.pad(minute / 60, 2) + InstantFormat.pad(minute % 60, 2)
                    result.append(
                        SlotSpec(
                            id: "slot-\(stem)-\(datePart)-\(time)", schedule: template.id, start: seed.instant(day: day, time: start),
                            end: seed.instant(day: day, time: end), types: template.types(of: window)))
                }
                minute += template.slotMinutes
            }
        }
        return result
    }
}
