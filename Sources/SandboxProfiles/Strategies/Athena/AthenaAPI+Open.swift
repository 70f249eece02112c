import FHIRCore
import FHIRInteractions
import FHIRStore
import SandboxSeed
import Scheduling

/// Open appointments (vendor-quirks §3.4): a free slot is an appointment with status `o`, its
/// id the one booking uses. A visit type longer than a slot takes the contiguous free slots
/// after it (ASSUMPTION: athena's templates fix each slot's type and length; the clinic's
/// templates take several types, so the list offers each start where the type fits, with the
/// type's duration).
extension AthenaAPI {
    /// `GET /appointments/open`.
    func openSlots(_ request: ProprietaryRequest) throws(AthenaFailure) -> ProprietaryResponse {
        guard let departmentNumber = try integer(request, "departmentid") else {
            throw AthenaFailure("Missing required field: departmentid.", detail: "departmentid is required.")
        }
        guard let department = department(number: departmentNumber) else {
            throw AthenaFailure(
                status: 404, "Invalid departmentid.", detail: "There is no department \(departmentNumber) in this practice.")
        }
        let typeNumber = try integer(request, "appointmenttypeid")
        let reasons = try integers(request, "reasonid")
        let providers = try integers(request, "providerid")
        if let reasons, reasons.contains(where: { $0 != -1 }), providers == nil {
            throw AthenaFailure("Missing required field: providerid.", detail: "providerid is required when reasonid is not -1.")
        }
        // §3.4: neither appointmenttypeid nor reasonid gives no results.
        guard typeNumber != nil || reasons != nil else {
            return try page([], key: "appointments", request: request, path: "appointments/open", defaultLimit: 1000, maxLimit: 10000)
        }
        var wanted: [(number: Int, type: AppointmentType, reason: String)] = []
        if let typeNumber {
            guard let type = visitType(number: typeNumber) else {
                throw AthenaFailure("Invalid appointmenttypeid.", detail: "There is no appointment type \(typeNumber).")
            }
            wanted = [(typeNumber, type, reasons?.first.map(String.init) ?? "-1")]
        } else {
            for reason in reasons ?? [] {
                if reason == -1 {
                    wanted += types.map { ($0.number, $0.type, "-1") }
                } else if let type = visitType(number: reason) {
                    wanted.append((reason, type, String(reason)))
                } else {
                    throw AthenaFailure("Invalid reasonid.", detail: "There is no reason \(reason).")
                }
            }
        }
        let now = now()
        let today = seed.localDay(now)
        let first = try day(request, "startdate") ?? today
        let last = try day(request, "enddate") ?? today + 7
        guard first <= last else { throw AthenaFailure("Invalid enddate.", detail: "enddate must not be before startdate.") }
        let bypass = try flag(request, "bypassscheduletimechecks")
        let showFrozen = try flag(request, "showfrozenslots")
        _ = try flag(request, "ignoreschedulablepermission")
        let templates = seed.schedules.filter { template in
            template.location == department.id && (providers?.contains(number(template.practitioner, "Practitioner")) ?? true)
        }
        let from = seed.instant(day: first, time: TimeOfDay(minutes: 0))
        let until = seed.instant(day: last + 1, time: TimeOfDay(minutes: 0))
        let rows: [SlotRow]
        do {
            try horizon.extend()
            var filter = SlotFilter()
            filter.schedules = Set(templates.map(\.id))
            // A type longer than a slot may run past the window's last start.
            filter.times = [[.range(from: from, before: until + 4 * 3_600_000)]]
            rows = try service.read { reader throws(FHIRError) in try reader.slots(filter) }
        } catch {
            throw AthenaFailure(error)
        }
        let generations = try self.generations(rows.filter { $0.start < until && $0.status != "busy" }.map(\.id))
        var items: [(start: Int64, item: JSON)] = []
        let bySchedule = Dictionary(grouping: rows, by: \.schedule).mapValues { $0.sorted { $0.start < $1.start } }
        for (schedule, list) in bySchedule {
            guard let template = template(schedule) else { continue }
            for (index, row) in list.enumerated() where row.start >= from && row.start < until {
                let frozen = row.status == "busy-tentative"
                guard row.status == "free" || (frozen && showFrozen), row.start >= now else { continue }
                if !bypass && (row.start < now + 24 * 3_600_000 || row.start >= now + 90 * 86_400_000) { continue }
                // reasonid=-1 lists a slot once, with the first type that fits.
                var listed = Set<String>()
                for (typeNumber, type, reason) in wanted where !(reason == "-1" && listed.contains("-1")) {
                    guard let run = Self.run(list, from: index, type: type), run.count > 0 else { continue }
                    // The clinic's own rules for the type hold either way (booking checks them).
                    if !fitsTypeWindow(type, start: row.start, now: now) { continue }
                    listed.insert(reason)
                    items.append(
                        (
                            row.start,
                            openItem(
                                row, template: template, department: department, typeNumber: typeNumber, type: type, reason: reason,
                                generation: generations[row.id] ?? 0, frozen: frozen)
                        ))
                }
            }
        }
        items.sort { $0.start < $1.start }
        return try page(
            items.map(\.item), key: "appointments", request: request, path: "appointments/open", defaultLimit: 1000, maxLimit: 10000)
    }

    /// Whether the clinic's own rules for the visit type (lead time, how far ahead) allow `start`.
    func fitsTypeWindow(_ type: AppointmentType, start: Int64, now: Int64) -> Bool {
        start >= now + Int64(type.minimumLeadHours) * 3_600_000
            && seed.localDay(start) <= seed.localDay(now) + type.maximumDaysAhead
    }

    /// The slots a `type` visit starting at `list[index]` takes: contiguous, each taking the
    /// type, the first free or frozen and the rest free; nil when they do not add up.
    static func run(_ list: [SlotRow], from index: Int, type: AppointmentType) -> [SlotRow]? {
        var run: [SlotRow] = []
        var covered: Int64 = 0
        var at = index
        let wanted = Int64(type.minutes) * 60_000
        while covered < wanted, at < list.count {
            let row = list[at]
            guard row.types.contains(type.code), run.last.map({ $0.end == row.start }) ?? true,
                row.status == "free" || (run.isEmpty && row.status == "busy-tentative")
            else { return nil }
            run.append(row)
            covered += row.end - row.start
            at += 1
        }
        return covered == wanted ? run : nil
    }

    /// One open appointment as the list shows it: ids as JSON numbers (§3.4 type drift).
    func openItem(
        _ row: SlotRow, template: ScheduleTemplate, department: Department, typeNumber: Int, type: AppointmentType, reason: String,
        generation: Int, frozen: Bool
    ) -> JSON {
        let provider = number(template.practitioner, "Practitioner")
        var item = JSONObject([
            "date": .string(Self.date(seed.localDay(row.start))),
            "appointmentid": .int(Int(ids.appointmentID(slot: row.id, generation: generation) ?? 0)),
            "departmentid": .int(department.number), "localproviderid": .int(provider), "appointmenttype": .string(type.display),
            "providerid": .int(provider), "starttime": .string(time(row.start)), "duration": .int(type.minutes),
            "appointmenttypeid": .int(typeNumber), "reasonid": .array([.string(reason)]),
            "patientappointmenttypename": .string(type.display),
        ])
        // ASSUMPTION (§3.4 showfrozenslots): a frozen slot says so.
        if frozen { item["frozenyn"] = .string("Y") }
        return .object(item)
    }

    /// Per slot, how many appointments were booked on it through this API before (the
    /// generation of its open appointment id).
    func generations(_ slots: [String]) throws(AthenaFailure) -> [String: Int] {
        var result: [String: Int] = [:]
        var pending = slots
        var generation = 0
        do {
            while !pending.isEmpty, generation < AthenaIDs.background {
                let wanted = Dictionary(
                    pending.map { (AthenaIDs.bookedID(slot: $0, generation: generation), $0) }, uniquingKeysWith: { a, _ in a })
                let found = try service.read { reader throws(FHIRError) in try reader.keys("Appointment", ids: Array(wanted.keys)) }
                pending = found.compactMap { wanted[$0.id] }
                generation += 1
                for slot in pending { result[slot] = generation }
            }
        } catch {
            throw AthenaFailure(error)
        }
        return result
    }

    /// The slot and generation an appointment id names; 404 when it names none.
    func openAppointment(_ text: String) throws(AthenaFailure) -> (slot: String, generation: Int) {
        guard let number = Int64(text), let found = ids.slot(appointmentID: number) else {
            throw AthenaFailure(status: 404, "The appointment ID is invalid.", detail: "There is no appointment \(text) in this practice.")
        }
        return found
    }

    /// `PUT /appointments/{id}/freeze` with `freeze=true|false` (§3.4): hold-like; a slot
    /// already in the wanted state is a 200 with `{"success": false, "errormessage": ...}`.
    /// ASSUMPTION: a frozen slot stays frozen until unfrozen or booked (no expiry is documented);
    /// only an open appointment can be frozen.
    func freeze(_ request: ProprietaryRequest, _ text: String) throws(AthenaFailure) -> ProprietaryResponse {
        let request = try form(request)
        let value = try required(request, "freeze")
        let freeze = try flag(request, "freeze")
        _ = value
        let (slot, generation) = try openAppointment(text)
        let message: String? = try write { writer throws(FHIRError) in
            guard try Self.generation(of: slot, writer) == generation, let row = try writer.transaction.slots([slot]).first else {
                throw FHIRError(.conflict, "Appointment \(text) is not an open appointment.")
            }
            let (from, to) = freeze ? ("free", "busy-tentative") : ("busy-tentative", "free")
            guard row.status == from else {
                if row.status == to { return freeze ? "The appointment is already frozen." : "The appointment is not frozen." }
                throw FHIRError(.conflict, "Appointment \(text) is not an open appointment.")
            }
            _ = try writer.transaction.setSlotStatus([slot], from: [from], to: to, at: writer.now)
            return nil
        }
        if let message { return .json(.object(JSONObject(["success": .bool(false), "errormessage": .string(message)]))) }
        return .json(.object(JSONObject(["success": .bool(true)])))
    }

    /// How many appointments were booked on `slot` through this API (inside a write).
    static func generation(of slot: String, _ writer: FHIRWriter) throws(FHIRError) -> Int {
        var generation = 0
        while generation < AthenaIDs.background,
            try writer.current("Appointment", AthenaIDs.bookedID(slot: slot, generation: generation)) != nil
        {
            generation += 1
        }
        return generation
    }

    /// Runs `body` in one write transaction; engine errors in athena's shape.
    func write<T: Sendable>(_ body: (FHIRWriter) throws(FHIRError) -> T) throws(AthenaFailure) -> T {
        do {
            try horizon.extend()
            return try service.write(body)
        } catch {
            throw AthenaFailure(error)
        }
    }
}
