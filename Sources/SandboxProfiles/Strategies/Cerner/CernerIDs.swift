import FHIRCore
import FHIRInteractions
import Foundation
import SandboxSeed

/// Oracle Health (Cerner) ids (vendor-quirks §2.3-§2.6, §2.9 (5), §2.10), numeric like every
/// Millennium example, and reversible:
/// - Schedule `{serviceType}-{location}-{practitioner}-0` (a schedule template's service type —
///   its codeSet 14249 code when the profile has one, else SNOMED — and the 8-digit numbers of
///   its Location and Practitioner);
/// - Slot `{serviceType}-{location}-{practitioner}-{yyyyMMddHHmm}` (its schedule's parts and
///   its local start);
/// - Coverage `{beneficiary's Patient id}-{490000000 + n}-{490000000 + n}` for the seed's
///   `cov-n` coverages;
/// - the Appointments generated around the seed's: `5{template index, 3 digits}{yyyyMMddHHmm}`;
/// - Communication `{number}.0.-4.prsnl` (the numeric form of its stored id, then Cerner's
///   dotted suffix with a negative number);
/// - everything else numeric (`CernerNumbers`): seed patients `12724NNNN`, other seed resources
///   an 8-digit number, ids the server assigns (uuids) and any other stored id a longer one.
struct CernerIDs: IDScheme {
    let numbers: CernerNumbers
    let schedules: [String: String]
    let schedulesBack: [String: String]
    /// The seed's schedule templates in file order (their index numbers generated appointments).
    let templates: [String]
    let coverages: [String: String]
    let coveragesBack: [String: String]

    /// `seed` with its resources; without one, only the algorithmic numbers are mapped.
    /// `serviceTypes`: the vendor's codes for the schedules' service types (codeSet 14249), used
    /// in the composite ids in place of the SNOMED code when there is one.
    init(seed: Seed?, serviceTypes: CodeAliases? = nil) {
        let resources = seed?.resources ?? []
        var seeded: [String: Set<String>] = [:]
        for resource in resources {
            guard let type = resource["resourceType"]?.stringValue, let id = resource["id"]?.stringValue else { continue }
            seeded[type, default: []].insert(id)
        }
        for template in seed?.schedules ?? [] {
            seeded["Practitioner", default: []].insert(template.practitioner)
            seeded["Location", default: []].insert(template.location)
        }
        for appointment in seed?.appointments ?? [] { seeded["Appointment", default: []].insert(appointment.id) }
        let numbers = CernerNumbers(seeded: seeded)
        self.numbers = numbers
        var schedules: [String: String] = [:]
        var back: [String: String] = [:]
        for template in seed?.schedules ?? [] {
            let location = numbers.external(template.location, type: "Location")
            let practitioner = numbers.external(template.practitioner, type: "Practitioner")
            let service = template.serviceType.flatMap { serviceTypes?.vendorCode(for: $0) } ?? template.serviceType ?? "0"
            var prefix = "\(service)-\(location)-\(practitioner)"
            // Two templates of one practitioner, location and service: tell them apart.
            var suffix = 1
            while back[prefix] != nil {
                suffix += 1
                prefix = "\(service)-\(location)-\(practitioner)\(suffix)"
            }
            schedules[template.id] = prefix
            back[prefix] = template.id
        }
        self.schedules = schedules
        schedulesBack = back
        templates = (seed?.schedules ?? []).map(\.id)
        var coverages: [String: String] = [:]
        var coveragesBack: [String: String] = [:]
        for resource in resources where resource["resourceType"]?.stringValue == "Coverage" {
            guard let id = resource["id"]?.stringValue, id.hasPrefix("cov-"), let number = Int(id.dropFirst(4)),
                let beneficiary = resource["beneficiary"]?["reference"]?.stringValue.flatMap(ReferenceSyntax.parse),
                beneficiary.type == "Patient"
            else { continue }
            let part = String(490_000_000 + number)
            let composite = "\(numbers.external(beneficiary.id, type: "Patient"))-\(part)-\(part)"
            coverages[id] = composite
            coveragesBack[composite] = id
        }
        self.coverages = coverages
        self.coveragesBack = coveragesBack
    }

    /// An 8-digit number for a seed id (FNV-1a), like Cerner's Location and Practitioner ids.
    static func number(_ id: String) -> String {
        var hash: UInt64 = 1_469_598_103_934_665_603
        for byte in id.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        return String(10_000_000 + hash % 90_000_000)
    }

    func external(_ id: String, type: String?) -> String {
        guard let type else { return id }
        return composite(id, type: type) ?? numbers.external(id, type: type)
    }

    func `internal`(_ id: String, type: String?) -> String? {
        guard let type else { return id }
        if let stored = stored(id, type: type) { return stored }
        // A composite type's id the table does not know is one the server assigned.
        return numbers.internal(id, type: type)
    }

    /// The composite id of a stored id the table knows.
    func composite(_ id: String, type: String) -> String? {
        switch type {
        case "Schedule": return schedules[id].map { "\($0)-0" }
        case "Slot":
            // slot-{stem}-{yyyyMMdd}-{HHmm} (SlotCalendar)
            let parts = id.split(separator: "-")
            guard parts.count >= 4, parts[0] == "slot", let date = parts.dropLast().last, let time = parts.last,
                date.count == 8, time.count == 4, date.allSatisfy(\.isNumber), time.allSatisfy(\.isNumber)
            else { return nil }
            let stem = parts.dropFirst().dropLast(2).joined(separator: "-")
            return schedules["sched-\(stem)"].map { "\($0)-\(date)\(time)" }
        case "Coverage": return coverages[id]
        case "Appointment":
            // The appointments the clinic generates around the seed's: appt-{stem}-{yyyyMMdd}-{HHmm}
            // (its first slot's id) is 5, the template's 3-digit index, and the local start.
            let parts = id.split(separator: "-")
            guard parts.count >= 4, parts[0] == "appt", let date = parts.dropLast().last, let time = parts.last,
                date.count == 8, time.count == 4, date.allSatisfy(\.isNumber), time.allSatisfy(\.isNumber),
                let index = templates.firstIndex(of: "sched-" + parts.dropFirst().dropLast(2).joined(separator: "-")), index < 1000
            else { return nil }
            return "5" + String(String(index + 1000).dropFirst()) + date + time
        case "Communication":
            // §2.6: ids like 489580643.0.-4.prsnl (dots and negative numbers inside ids).
            let number = numbers.external(id, type: type)
            return number == id ? nil : number + Self.communicationSuffix
        default: return nil
        }
    }

    static let communicationSuffix = ".0.-4.prsnl"

    /// The stored id of a composite id the table knows.
    func stored(_ id: String, type: String) -> String? {
        switch type {
        case "Schedule":
            guard id.hasSuffix("-0") else { return nil }
            return schedulesBack[String(id.dropLast(2))]
        case "Slot":
            guard let dash = id.lastIndex(of: "-") else { return nil }
            let stamp = id[id.index(after: dash)...]
            guard stamp.count == 12, stamp.allSatisfy(\.isNumber), let schedule = schedulesBack[String(id[..<dash])] else { return nil }
            let stem = schedule.hasPrefix("sched-") ? String(schedule.dropFirst(6)) : schedule
            return "slot-\(stem)-\(stamp.prefix(8))-\(stamp.suffix(4))"
        case "Coverage": return coveragesBack[id]
        case "Appointment":
            guard id.count == 16, id.hasPrefix("5"), id.allSatisfy(\.isNumber), let index = Int(id.dropFirst().prefix(3)),
                index < templates.count
            else { return nil }
            let stem = templates[index].hasPrefix("sched-") ? String(templates[index].dropFirst(6)) : templates[index]
            return "appt-\(stem)-\(id.dropFirst(4).prefix(8))-\(id.suffix(4))"
        case "Communication":
            guard id.hasSuffix(Self.communicationSuffix) else { return nil }
            return numbers.internal(String(id.dropLast(Self.communicationSuffix.count)), type: type)
        default: return nil
        }
    }
}

/// Oracle Health (Cerner) numeric ids (vendor-quirks §2.4, §2.10: `12724066`; §2.3: Practitioner
/// `593923`, Location `32216049`): the seed's `pat-NNNN` is `12724` followed by NNNN
/// (`pat-0001` → `127240001`); other seed resources an 8-digit number per type (FNV-1a of the
/// seed id, as in the Schedule and Slot composites); a lowercase uuid (an id the server
/// assigned) `8` + its 128 bits as a decimal number; any other stored id `9` + its bytes as one.
/// ASSUMPTION (§2.3, §2.4): the reference shows numeric ids only by example; this is one
/// consistent scheme with their look.
struct CernerNumbers: IDScheme {
    /// Per type, seed id → number, and back.
    let seeded: [String: [String: String]]
    let back: [String: [String: String]]

    init(seeded ids: [String: Set<String>] = [:]) {
        var seeded: [String: [String: String]] = [:]
        var back: [String: [String: String]] = [:]
        for (type, ids) in ids where type != "Patient" {
            for id in ids.sorted() {
                let number = CernerIDs.number(id)
                // A collision (1 in ~10^7 per pair) keeps the longer form for the later id.
                guard back[type]?[number] == nil else { continue }
                seeded[type, default: [:]][id] = number
                back[type, default: [:]][number] = id
            }
        }
        self.seeded = seeded
        self.back = back
    }

    func external(_ id: String, type: String?) -> String {
        guard let type else { return id }
        if type == "Patient", id.count == 8, id.hasPrefix("pat-"), id.dropFirst(4).allSatisfy(\.isNumber) {
            return "12724" + id.dropFirst(4)
        }
        if let number = seeded[type]?[id] { return number }
        let digits = NumericID.digits(id)
        return digits.count < 65 ? digits : id
    }

    func `internal`(_ id: String, type: String?) -> String? {
        guard let type else { return id }
        guard id.allSatisfy(\.isNumber), id.count > 1 else { return nil }
        if type == "Patient", id.count == 9, id.hasPrefix("12724") { return "pat-" + id.dropFirst(5) }
        if let stored = back[type]?[id] { return stored }
        // Stored uuids are lowercase (RandomSource); uppercase ones take the byte form.
        guard let stored = NumericID.id(id) else { return nil }
        return external(stored, type: type) == id ? stored : nil
    }

}
