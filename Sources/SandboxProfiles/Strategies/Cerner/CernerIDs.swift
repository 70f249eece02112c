import FHIRCore
import Foundation
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
/// Ids outside the table (coverages created through the API) keep their stored form; Patient
/// ids are numeric (`CernerPatientIDs`).
struct CernerIDs: IDScheme {
    let patients = CernerPatientIDs()
    let schedules: [String: String]
    let schedulesBack: [String: String]
    let coverages: [String: String]
    let coveragesBack: [String: String]

    /// `seed` with its resources (the coverages); without one, only Patient and Communication
    /// ids are mapped.
    init(seed: Seed?) {
        let resources = seed?.resources ?? []
        let patient = { (id: String) in CernerPatientIDs().external(id, type: "Patient") }
        var schedules: [String: String] = [:]
        var back: [String: String] = [:]
        for template in seed?.schedules ?? [] {
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

    func external(_ id: String, type: String?) -> String {
        guard let type else { return id }
        return composite(id, type: type) ?? patients.external(id, type: type)
    }

    func `internal`(_ id: String, type: String?) -> String? {
        guard let type else { return patients.internal(id, type: nil) }
        return stored(id, type: type) ?? patients.internal(id, type: type)
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
        case "Communication":
            // §2.6: ids like 489580643.0.-4.prsnl (dots and negative numbers inside ids).
            let number = patients.external(id, type: "Patient")
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
        case "Communication":
            guard id.hasSuffix(Self.communicationSuffix) else { return nil }
            return patients.internal(String(id.dropLast(Self.communicationSuffix.count)), type: "Patient")
        default: return nil
        }
    }
}

/// Oracle Health (Cerner) numeric Patient ids (vendor-quirks §2.4, §2.10): the seed's
/// `pat-NNNN` is `12724` followed by NNNN (`pat-0001` → `127240001`), other stored ids are `9` +
/// their bytes as a decimal number (lowercase uuids as `8` + their 128 bits). Other types keep
/// their stored ids.
struct CernerPatientIDs: IDScheme {
    func external(_ id: String, type: String?) -> String {
        guard type == "Patient" else { return id }
        if id.count == 8, id.hasPrefix("pat-"), id.dropFirst(4).allSatisfy(\.isNumber) { return "12724" + id.dropFirst(4) }
        let hex = id.replacingOccurrences(of: "-", with: "")
        if id.count == 36, hex.count == 32, hex == hex.lowercased(), let bytes = Self.bytes(hex: hex) {
            return "8" + Decimal128.string(bytes)
        }
        let digits = Decimal128.string(Array(id.utf8))
        return digits.count < 64 ? "9" + digits : id
    }

    func `internal`(_ id: String, type: String?) -> String? {
        guard type == "Patient" else { return id }
        guard id.allSatisfy(\.isNumber), id.count > 1 else { return nil }
        if id.count == 9, id.hasPrefix("12724") { return "pat-" + id.dropFirst(5) }
        let rest = String(id.dropFirst())
        if id.hasPrefix("8"), let bytes = Decimal128.bytes(rest, count: 16) {
            let hex = bytes.map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
            let uuid = [
                hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20),
            ]
            .joined(separator: "-")
            // Stored uuids are lowercase (RandomSource); uppercase ones take the byte form.
            return external(uuid, type: type) == id ? uuid : nil
        }
        if id.hasPrefix("9"), let bytes = Decimal128.bytes(rest, count: nil), let text = String(bytes: bytes, encoding: .utf8) {
            return external(text, type: type) == id ? text : nil
        }
        return nil
    }

    static func bytes(hex: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}

/// Big-endian byte strings as decimal digit strings and back (schoolbook base conversion).
enum Decimal128 {
    /// `digits` (most significant first) in base `from`, rewritten in base `to`; no leading zeros.
    static func convert(_ digits: [Int], from: Int, to: Int) -> [Int] {
        var number = Array(digits.drop { $0 == 0 })
        var result: [Int] = []
        while !number.isEmpty {
            var remainder = 0
            var quotient: [Int] = []
            for digit in number {
                let value = remainder * from + digit
                remainder = value % to
                if !quotient.isEmpty || value / to != 0 { quotient.append(value / to) }
            }
            result.append(remainder)
            number = quotient
        }
        return result.reversed()
    }

    static func string(_ bytes: [UInt8]) -> String {
        let digits = convert(bytes.map { Int($0) }, from: 256, to: 10)
        return digits.isEmpty ? "0" : digits.map(String.init).joined()
    }

    /// The bytes of a decimal string; `count` pads to a fixed width (nil: minimal).
    static func bytes(_ text: String, count: Int?) -> [UInt8]? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let bytes = convert(text.map { Int(String($0))! }, from: 10, to: 256).map { UInt8($0) }
        guard let count else { return bytes }
        guard bytes.count <= count else { return nil }
        return Array(repeating: 0, count: count - bytes.count) + bytes
    }
}
