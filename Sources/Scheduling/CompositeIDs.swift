import FHIRCore
import FHIRInteractions
import SandboxSeed

/// Oracle Health (Cerner) composite ids (vendor-quirks §2.3, §2.5, §2.9 (5)), reversible:
/// - Schedule `{serviceType}-{location}-{practitioner}-0` (a schedule template's SNOMED service
///   type and 8-digit numbers derived from the seed's Location and Practitioner ids);
/// - Slot `{serviceType}-{location}-{practitioner}-{yyyyMMddHHmm}` (its schedule's parts and
///   its local start);
/// - Coverage `{beneficiary's Patient id}-{490000000 + n}-{490000000 + n}` for the seed's
///   `cov-n` coverages;
/// - Communication `{number}.0.-4.prsnl` (the numeric form Cerner Patient ids use, then Cerner's
///   dotted suffix with a negative number).
/// Ids outside the table (coverages created through the API) keep the profile's scheme.
public struct CompositeIDs: IDTable {
    let schedules: [String: String]
    let schedulesBack: [String: String]
    let coverages: [String: String]
    let coveragesBack: [String: String]

    /// `patient` maps a stored Patient id to the vendor's.
    public init(seed: Seed, coverages resources: [JSON], patient: (String) -> String) {
        var schedules: [String: String] = [:]
        var back: [String: String] = [:]
        for template in seed.schedules {
            var prefix = "\(template.serviceType ?? "0")-\(Self.number(template.location))-\(Self.number(template.practitioner))"
            // Two templates of one practitioner, location and service: tell them apart.
            var suffix = 1
            while back[prefix] != nil {
                suffix += 1
                prefix = "\(template.serviceType ?? "0")-\(Self.number(template.location))-\(Self.number(template.practitioner))\(suffix)"
            }
            schedules[template.id] = prefix
            back[prefix] = template.id
        }
        self.schedules = schedules
        schedulesBack = back
        var coverages: [String: String] = [:]
        var coveragesBack: [String: String] = [:]
        for resource in resources where resource["resourceType"]?.stringValue == "Coverage" {
            guard let id = resource["id"]?.stringValue, id.hasPrefix("cov-"), let number = Int(id.dropFirst(4)),
                let beneficiary = resource["beneficiary"]?["reference"]?.stringValue.flatMap(ReferenceSyntax.parse),
                beneficiary.type == "Patient"
            else { continue }
            let part = String(490_000_000 + number)
            let composite = "\(patient(beneficiary.id))-\(part)-\(part)"
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

    public func external(_ id: String, type: String) -> String? {
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
        case "Communication":
            // §2.6: ids like 489580643.0.-4.prsnl (dots and negative numbers inside ids).
            let number = IDScheme.cerner.external(id, type: "Patient")
            return number == id ? nil : number + Self.communicationSuffix
        default: return nil
        }
    }

    static let communicationSuffix = ".0.-4.prsnl"

    public func `internal`(_ id: String, type: String) -> String? {
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
        case "Communication":
            guard id.hasSuffix(Self.communicationSuffix) else { return nil }
            return IDScheme.cerner.internal(String(id.dropLast(Self.communicationSuffix.count)), type: "Patient")
        default: return nil
        }
    }
}
