import FHIRCore
import FHIRStore
import SandboxSeed

/// The seeded clinic as of a clock instant: the seed's resources, a Slot for every slot of the
/// planning horizon, the seed's appointments on their slots, and enough further appointments to
/// make the next two weeks realistically full. Deterministic for a given seed and clock.
public struct ClinicRenderer: Sendable {
    public let seed: Seed
    /// Share of slots in the next `busyDays` days that appointments fill (about; some windows
    /// cannot fit a whole visit).
    public var occupancy = 0.7
    public var busyDays = 14

    public init(seed: Seed) { self.seed = seed }

    /// The seeded clinic: every resource but Slots, and the slot rows with their statuses.
    public func seeded(at now: Int64) -> (resources: [JSON], slots: [SlotRow]) {
        let (resources, specs, busy) = build(at: now)
        let rows = specs.map {
            SlotRow(
                id: $0.id, schedule: $0.schedule, start: $0.start, end: $0.end, status: busy.contains($0.id) ? "busy" : "free",
                types: $0.types, lastUpdated: now)
        }
        return (resources, rows)
    }

    /// Everything as resources, Slots included (rendered as the Slot provider serves them).
    public func render(at now: Int64) -> [JSON] {
        let (resources, rows) = seeded(at: now)
        let renderer = SlotRenderer(seed: seed, displays: seed.codeDisplays())
        return resources + rows.map { renderer.json($0, now: now) }
    }

    /// The slots of the planning horizon from `fromDay` (local days), all free: for extending the
    /// horizon as the clock moves.
    public func slots(fromDay: Int, throughDay: Int, clockDay: Int, at now: Int64) -> [SlotRow] {
        guard fromDay < throughDay else { return [] }
        return SlotCalendar(seed: seed).slots(days: fromDay..<throughDay, clockDay: clockDay).map {
            SlotRow(id: $0.id, schedule: $0.schedule, start: $0.start, end: $0.end, status: "free", types: $0.types, lastUpdated: now)
        }
    }

    func build(at now: Int64) -> ([JSON], [SlotSpec], Set<String>) {
        let clockDay = seed.localDay(now)
        let displays = seed.codeDisplays()
        let calendar = SlotCalendar(seed: seed)
        let slots = calendar.slots(days: clockDay..<(clockDay + seed.planningHorizonDays), clockDay: clockDay)
        var busy = Set<String>()
        var appointments: [JSON] = []
        let bySchedule = Dictionary(grouping: slots, by: \.schedule)

        // The seed's own appointments take the slots they overlap.
        for entry in seed.appointments {
            guard var appointment = seed.appointment(entry, clockDay: clockDay, displays: displays) else { continue }
            let active = !["cancelled", "noshow", "entered-in-error"].contains(entry.status)
            if active, let start = appointment["start"]?.stringValue.flatMap({ FHIRDateTime.parse($0, form: .instant) }) {
                let from = start.startMilliseconds(in: seed.zone)
                let minutes = Int64(seed.appointmentType(entry.type)?.minutes ?? 0)
                let taken = (bySchedule[entry.schedule] ?? []).filter { $0.start < from + minutes * 60_000 && $0.end > from }
                if !taken.isEmpty {
                    taken.forEach { busy.insert($0.id) }
                    appointment["slot"] = .array(taken.map { .object(JSONObject(["reference": .string("Slot/\($0.id)")])) })
                }
            }
            appointments.append(appointment)
        }
        appointments += fill(bySchedule: bySchedule, busy: &busy, clockDay: clockDay, now: now, displays: displays)
        return (seed.render(at: now).filter { $0["resourceType"]?.stringValue != "Appointment" } + appointments, slots, busy)
    }

    /// Books about `occupancy` of the next `busyDays` days with follow-ups, physicals, video
    /// visits, consults and some new patients, each visit on contiguous free slots of its length.
    private func fill(
        bySchedule: [String: [SlotSpec]], busy: inout Set<String>, clockDay: Int, now: Int64, displays: [String: String]
    ) -> [JSON] {
        let patients = (1...320).map { "pat-\(InstantFormat.pad($0, 4))" }.filter { !["pat-0018", "pat-0022"].contains($0) }
        let limit = seed.instant(day: clockDay + busyDays, time: TimeOfDay(minutes: 0))
        var result: [JSON] = []
        for template in seed.schedules {
            let slots = (bySchedule[template.id] ?? []).filter { $0.start >= now && $0.start < limit }
            var index = 0
            while index < slots.count {
                let slot = slots[index]
                guard !busy.contains(slot.id), Self.unit(slot.id) < occupancy else {
                    index += 1
                    continue
                }
                // A visit type the window takes that fits contiguous free slots, never same-day-only types.
                let candidates = slot.types.compactMap(seed.appointmentType).filter { $0.maximumDaysAhead > 0 }
                guard let type = candidates.isEmpty ? nil : candidates[Int(Self.hash(slot.id) % UInt64(candidates.count))] else {
                    index += 1
                    continue
                }
                let needed = max(1, type.minutes / template.slotMinutes)
                let run = Array(slots[index..<min(index + needed, slots.count)])
                guard run.count == needed, type.minutes % template.slotMinutes == 0,
                    zip(run, run.dropFirst()).allSatisfy({ $0.end == $1.start }), run.allSatisfy({ !busy.contains($0.id) })
                else {
                    index += 1
                    continue
                }
                run.forEach { busy.insert($0.id) }
                let patient = patients[Int(Self.hash(slot.id + "patient") % UInt64(patients.count))]
                result.append(appointment(for: run, template: template, type: type, patient: patient, displays: displays))
                index += needed
            }
        }
        return result
    }

    private func appointment(
        for run: [SlotSpec], template: ScheduleTemplate, type: AppointmentType, patient: String, displays: [String: String]
    ) -> JSON {
        var object = JSONObject()
        object["resourceType"] = .string("Appointment")
        object["id"] = .string("appt-" + run[0].id.dropFirst(5))
        object["status"] = .string("booked")
        object["serviceType"] = seed.concept(template.serviceType, displays)
        object["specialty"] = seed.concept(template.specialty, displays)
        object["appointmentType"] = Self.appointmentType(type)
        object["description"] = .string(type.display)
        object["slot"] = .array(run.map { .object(JSONObject(["reference": .string("Slot/\($0.id)")])) })
        object["start"] = .string(seed.format(run[0].start))
        object["end"] = .string(seed.format(run[run.count - 1].end))
        object["minutesDuration"] = .int(type.minutes)
        object["participant"] = .array(
            [("Patient", patient), ("Practitioner", template.practitioner), ("Location", template.location)].map { actor in
                .object(
                    JSONObject([
                        "actor": seed.reference(actor.0, actor.1), "required": .string("required"), "status": .string("accepted"),
                    ]))
            })
        return .object(object)
    }

    static func appointmentType(_ type: AppointmentType) -> JSON { type.concept }

    /// FNV-1a, for deterministic choices that do not depend on iteration order.
    static func hash(_ text: String) -> UInt64 {
        var value: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01B3
        }
        return value
    }

    /// A deterministic number in [0, 1) for a key.
    static func unit(_ key: String) -> Double { Double(hash(key) >> 11) / Double(1 << 53) }
}
