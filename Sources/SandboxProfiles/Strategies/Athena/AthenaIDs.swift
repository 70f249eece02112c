import FHIRCore
import SandboxSeed

/// athenahealth FHIR ids (vendor-quirks §3.3, §3.9): `a-{practice}.E-{n}` for patients,
/// `a-{practice}.Department-{n}` for departments (the seed's locations), `a-1.Practice-{practice}`
/// for the practice (the Organization that manages the locations), and
/// `a-{practice}.{Type}-{n}` for the rest; `n` numeric and reversible:
/// - appointment ids of open slots, and of appointments booked on them through the
///   proprietary API, encode the slot (`AthenaIDs+Appointments`);
/// - seed patients `pat-NNNN` are `60177 + NNNN` (the preview's sandbox patients start at
///   60178, `a-195900.E-60178`);
/// - other seed resources number from 1 per type, in id order;
/// - ids the server assigns (uuids) are `8` + their 128 bits in decimal; any other stored id
///   `9` + its bytes in decimal.
/// ASSUMPTION (§3.3: "other types use similar `a-<ctx>.<Type>-<id>` prefixes"): the type names
/// and numbering other than patients' are the sandbox's; locations keep their FHIR type.
struct AthenaIDs: IDScheme {
    let practice: String
    let practiceOrganization: String?
    let seeded: [String: [String: String]]
    let back: [String: [String: String]]
    /// Schedule-template stems (`okafor-main`) in the seed's order, numbered from 1: what
    /// appointment ids of open slots are made from (`AthenaIDs+Appointments`).
    let stems: [String: Int]
    let stemList: [String]

    static let patientBase = 60177

    init(seed: Seed?, practice: String) {
        self.practice = practice
        var ids: [String: [String]] = [:]
        var managing: String?
        for resource in seed?.resources ?? [] {
            guard let type = resource["resourceType"]?.stringValue, let id = resource["id"]?.stringValue else { continue }
            ids[type, default: []].append(id)
            if type == "Location", managing == nil,
                let reference = resource["managingOrganization"]?["reference"]?.stringValue.flatMap(ReferenceSyntax.parse)
            {
                managing = reference.id
            }
        }
        for appointment in seed?.appointments ?? [] { ids["Appointment", default: []].append(appointment.id) }
        practiceOrganization = managing
        var seeded: [String: [String: String]] = [:]
        var back: [String: [String: String]] = [:]
        for (type, list) in ids where type != "Patient" {
            for (index, id) in list.sorted().enumerated() where id != managing {
                seeded[type, default: [:]][id] = String(index + 1)
                back[type, default: [:]][String(index + 1)] = id
            }
        }
        self.seeded = seeded
        self.back = back
        stemList = (seed?.schedules ?? []).map { $0.id.hasPrefix("sched-") ? String($0.id.dropFirst(6)) : $0.id }
        stems = Dictionary(stemList.enumerated().map { ($1, $0 + 1) }, uniquingKeysWith: { first, _ in first })
    }

    static func tag(_ type: String) -> String {
        switch type {
        case "Patient": "E"
        case "Location": "Department"
        default: type
        }
    }

    /// Types whose ids are shown as they are: bundles (per response) and topics (codes).
    static let verbatim: Set<String> = ["Bundle", "SubscriptionTopic"]

    func external(_ id: String, type: String?) -> String {
        guard let type, !Self.verbatim.contains(type) else { return id }
        if type == "Organization", id == practiceOrganization { return "a-1.Practice-\(practice)" }
        return "a-\(practice).\(Self.tag(type))-\(number(id, type: type))"
    }

    func number(_ id: String, type: String) -> String {
        if type == "Appointment" || type == "Slot", let number = appointmentNumber(id, type: type) { return String(number) }
        if type == "Patient", id.count == 8, id.hasPrefix("pat-"), let n = Int(id.dropFirst(4)) { return String(Self.patientBase + n) }
        if let number = seeded[type]?[id] { return number }
        return NumericID.digits(id)
    }

    func `internal`(_ id: String, type: String?) -> String? {
        guard let type, !Self.verbatim.contains(type) else { return id }
        if type == "Organization", id == "a-1.Practice-\(practice)" { return practiceOrganization }
        let prefix = "a-\(practice).\(Self.tag(type))-"
        guard id.hasPrefix(prefix) else { return nil }
        let number = String(id.dropFirst(prefix.count))
        guard number.count > 0, number.allSatisfy(\.isNumber) else { return nil }
        if type == "Patient", let n = Int(number), n > Self.patientBase, n <= Self.patientBase + 9999, number.count == 5 {
            let digits = String(n - Self.patientBase)
            return "pat-" + String(repeating: "0", count: 4 - digits.count) + digits
        }
        if let stored = back[type]?[number] { return stored }
        if type == "Appointment" || type == "Slot", let stored = storedID(appointmentNumber: number, type: type) { return stored }
        guard let stored = NumericID.id(number) else { return nil }
        return external(stored, type: type) == id ? stored : nil
    }
}
