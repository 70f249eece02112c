import FHIRCore
import FHIRInteractions
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
    /// The serviceType/specialty/appointmentType JSON of each (schedule, visit types) pair,
    /// identical for all its slots: rendered once, spliced into every slot's bytes.
    let fragments: [String: [UInt8]]

    /// Write `start`/`end` in UTC with `Z` instead of the clinic's offset.
    public let utc: Bool
    /// An extension (this URL) naming the schedule's Location on every slot (the profile's
    /// `render.Slot.locationExtension`); nil: none.
    public let locationExtension: String?
    /// The vendor's codes for the schedules' service types (nil: SNOMED only): shown first in
    /// `serviceType`, `userSelected`, and taken by `service-type` searches.
    public let serviceTypes: CodeAliases?

    public init(
        seed: Seed, displays: [String: String], utc: Bool = false, locationExtension: String? = nil, serviceTypes: CodeAliases? = nil
    ) {
        self.seed = seed
        self.displays = displays
        self.utc = utc
        self.locationExtension = locationExtension
        self.serviceTypes = serviceTypes
        templates = Dictionary(uniqueKeysWithValues: seed.schedules.map { ($0.id, $0) })
        var fragments: [String: [UInt8]] = [:]
        for template in seed.schedules {
            var typeLists = Set(template.week.values.flatMap { $0 }.map { template.types(of: $0).joined(separator: ",") })
            typeLists.insert(template.types.joined(separator: ","))
            for list in typeLists {
                fragments[template.id + "|" + list] = Self.fragment(seed, displays, template, list, locationExtension, serviceTypes)
            }
        }
        self.fragments = fragments
    }

    /// The members every slot of a schedule and visit-type list shares: `serviceType` (the
    /// schedule's service and each visit type), `specialty`, and `appointmentType` for one type.
    static func classification(
        _ seed: Seed, _ displays: [String: String], _ template: ScheduleTemplate?, _ typeList: String, _ locationExtension: String?,
        _ serviceTypes: CodeAliases? = nil
    ) -> JSONObject {
        var object = JSONObject()
        if let locationExtension, let template {
            object["extension"] = .array([
                .object(
                    JSONObject([
                        "url": .string(locationExtension),
                        "valueReference": .object(JSONObject(["reference": .string("Location/\(template.location)")])),
                    ]))
            ])
        }
        let types = typeList.split(separator: ",").map(String.init)
        var services = seed.concept(template?.serviceType, displays)?.arrayValue ?? []
        // The vendor's code first and user-selected (a vendor's own code system), the standard one after.
        if let vendor = serviceTypes, let service = template?.serviceType, let code = vendor.vendorCode(for: service),
            case .object(var concept)? = services.first
        {
            let standard = (concept["coding"]?.arrayValue ?? []).map { coding -> JSON in
                guard case .object(var object) = coding else { return coding }
                object["userSelected"] = .bool(false)
                return .object(object)
            }
            var coding = JSONObject(["system": .string(vendor.system), "code": .string(code)])
            if let display = vendor.displays[code] { coding["display"] = .string(display) }
            coding["userSelected"] = .bool(true)
            concept["coding"] = .array([.object(coding)] + standard)
            if let display = vendor.displays[code] { concept["text"] = .string(display) }
            services[0] = .object(concept)
        }
        for code in types {
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
        if types.count == 1, let type = seed.appointmentType(types[0]) { object["appointmentType"] = type.concept }
        return object
    }

    /// `"serviceType":[...],"specialty":[...],"appointmentType":{...},` (members present only).
    static func fragment(
        _ seed: Seed, _ displays: [String: String], _ template: ScheduleTemplate?, _ typeList: String, _ locationExtension: String?,
        _ serviceTypes: CodeAliases?
    ) -> [UInt8] {
        let object = classification(seed, displays, template, typeList, locationExtension, serviceTypes)
        guard !object.isEmpty else { return [] }
        var bytes = JSON.object(object).bytes
        bytes.removeFirst()
        bytes[bytes.count - 1] = UInt8(ascii: ",")
        return bytes
    }

    /// The Slot's JSON bytes, assembled from the row and the pre-rendered fragment.
    public func bytes(_ row: SlotRow, now: Int64) -> [UInt8] {
        let fragment =
            fragments[row.schedule + "|" + row.typeList]
            ?? Self.fragment(seed, displays, templates[row.schedule], row.typeList, locationExtension, serviceTypes)
        var out: [UInt8] = []
        out.reserveCapacity(fragment.count + 320)
        func raw(_ text: StaticString) { text.withUTF8Buffer { out.append(contentsOf: $0) } }
        func string(_ text: String) { JSONWriter.writeString(text, into: &out) }
        raw("{\"resourceType\":\"Slot\",\"id\":")
        string(row.id)
        raw(",\"meta\":{\"versionId\":")
        string(String(row.version))
        raw(",\"lastUpdated\":")
        string(InstantFormat.iso(row.lastUpdated))
        raw("},")
        out.append(contentsOf: fragment)
        raw("\"schedule\":{\"reference\":")
        string("Schedule/" + row.schedule)
        raw("},\"status\":")
        string(status(row, now: now))
        raw(",\"start\":")
        string(time(row.start))
        raw(",\"end\":")
        string(time(row.end))
        raw("}")
        return out
    }

    func time(_ instant: Int64) -> String { utc ? InstantFormat.iso(instant, offsetSeconds: 0) : seed.format(instant) }

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
        for member in Self.classification(seed, displays, template, row.typeList, locationExtension, serviceTypes) {
            object[member.key] = member.value
        }
        object["schedule"] = .object(JSONObject(["reference": .string("Schedule/\(row.schedule)")]))
        object["status"] = .string(status(row, now: now))
        object["start"] = .string(time(row.start))
        object["end"] = .string(time(row.end))
        return .object(object)
    }

    public func stored(_ row: SlotRow, now: Int64) -> StoredResource {
        StoredResource(
            type: "Slot", id: row.id, version: row.version, lastUpdated: row.lastUpdated, deleted: false, method: "",
            body: bytes(row, now: now))
    }
}
