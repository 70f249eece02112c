import FHIRCore
import FHIRStore
import SandboxSeed

/// Renders stored slot rows as R4 Slot resources. `serviceType` lists the schedule's service
/// and every visit type the slot takes (visit-type system), so `service-type` finds slots by
/// visit type; `appointmentType` (0..1 in R4) is set when the slot takes exactly one. A free
/// slot whose start has passed is shown as `busy-unavailable`: it is no longer offered.
public struct SlotRenderer: Sendable {
    public let seed: Seed
    let displays: [String: String]
    let templates: [String: ScheduleTemplate]

    public init(seed: Seed, displays: [String: String]) {
        self.seed = seed
        self.displays = displays
        templates = Dictionary(uniqueKeysWithValues: seed.schedules.map { ($0.id, $0) })
    }

    public func status(_ row: SlotRow, now: Int64) -> String {
        row.status == "free" && row.start < now ? "busy-unavailable" : row.status
    }

    public func json(_ row: SlotRow, now: Int64) -> JSON {
        let template = templates[row.schedule]
        var object = JSONObject()
        object["resourceType"] = .string("Slot")
        object["id"] = .string(row.id)
        var meta = JSONObject()
        meta["versionId"] = .string(String(row.version))
        meta["lastUpdated"] = .string(InstantFormat.iso(row.lastUpdated))
        object["meta"] = .object(meta)
        var services = seed.concept(template?.serviceType, displays)?.arrayValue ?? []
        for code in row.types {
            guard let type = seed.appointmentType(code) else { continue }
            services.append(
                .object(
                    JSONObject([
                        "coding": .array([
                            .object(
                                JSONObject([
                                    "system": .string(AppointmentType.system), "code": .string(type.code), "display": .string(type.display),
                                ]))
                        ])
                    ])))
        }
        if !services.isEmpty { object["serviceType"] = .array(services) }
        object["specialty"] = seed.concept(template?.specialty, displays)
        if row.types.count == 1, let type = seed.appointmentType(row.types[0]) {
            object["appointmentType"] = ClinicRenderer.appointmentType(type)
        }
        object["schedule"] = .object(JSONObject(["reference": .string("Schedule/\(row.schedule)")]))
        object["status"] = .string(status(row, now: now))
        object["start"] = .string(seed.format(row.start))
        object["end"] = .string(seed.format(row.end))
        return .object(object)
    }

    public func stored(_ row: SlotRow, now: Int64) -> StoredResource {
        StoredResource(
            type: "Slot", id: row.id, version: row.version, lastUpdated: row.lastUpdated, deleted: false, method: "",
            body: json(row, now: now).bytes)
    }
}
