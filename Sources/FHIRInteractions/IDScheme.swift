import FHIRCore
import Foundation

/// How a profile shows resource ids: the tenant stores the seed's ids (`pat-0001`), and a
/// scheme maps them to the vendor's shape at the edge, reversibly, so the same patient has a
/// stable vendor id and admin tools can relate it back to the seed id.
public enum IDScheme: String, Sendable, CaseIterable {
    /// Ids as stored.
    case identity
    /// Epic-style opaque ids: `e` + base64url of the stored id (`_` written as `.`) + `3`,
    /// e.g. `pat-0001` → `ecGF0LTAwMDE3`. Like Epic's, they may contain `.` and `-`.
    case epic
    /// Cerner-style numeric Patient ids: the seed's `pat-NNNN` is `12724` followed by NNNN
    /// (`pat-0001` → `127240001`), other stored ids are `9` + their bytes as a decimal number
    /// (lowercase uuids as `8` + their 128 bits). Other types keep their stored ids.
    case cerner

    /// The vendor id for a stored id of `type` (nil: unknown type).
    public func external(_ id: String, type: String? = nil) -> String {
        switch self {
        case .identity: return id
        case .epic:
            let external = "e" + EpicBase64.encode(Array(id.utf8)) + "3"
            return external.utf8.count <= 64 ? external : id
        case .cerner:
            guard type == "Patient" else { return id }
            if id.count == 8, id.hasPrefix("pat-"), id.dropFirst(4).allSatisfy(\.isNumber) { return "12724" + id.dropFirst(4) }
            let hex = id.replacingOccurrences(of: "-", with: "")
            if id.count == 36, hex.count == 32, hex == hex.lowercased(), let bytes = Self.bytes(hex: hex) {
                return "8" + Decimal128.string(bytes)
            }
            let digits = Decimal128.string(Array(id.utf8))
            return digits.count < 64 ? "9" + digits : id
        }
    }

    /// The stored id for a vendor id of `type`, or nil when it is not one of this scheme's ids.
    public func `internal`(_ id: String, type: String? = nil) -> String? {
        switch self {
        case .identity: return id
        case .epic:
            let bytes = Array(id.utf8)
            guard bytes.count > 2, bytes.first == UInt8(ascii: "e"), bytes.last == UInt8(ascii: "3"),
                let decoded = EpicBase64.decode(bytes[1..<(bytes.count - 1)]), !decoded.isEmpty,
                decoded.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D || $0 == 0x2E })
            else { return nil }
            let text = String(decoding: decoded, as: UTF8.self)
            return external(text) == id ? text : nil
        case .cerner:
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

/// Ids a scheme cannot compute from the id alone (Cerner's composite Slot, Schedule and Coverage
/// ids name the service type, location, practitioner or patient): a table built from the seed.
/// Nil answers leave the id to the scheme.
public protocol IDTable: Sendable {
    func external(_ id: String, type: String) -> String?
    func `internal`(_ id: String, type: String) -> String?
}

/// A profile's ids: its scheme, and the table for the types the scheme cannot compute.
public struct IDMapper: Sendable {
    public let scheme: IDScheme
    public let table: (any IDTable)?

    public init(scheme: IDScheme, table: (any IDTable)? = nil) {
        self.scheme = scheme
        self.table = table
    }

    public func external(_ id: String, type: String?) -> String {
        if let type, let mapped = table?.external(id, type: type) { return mapped }
        return scheme.external(id, type: type)
    }

    public func `internal`(_ id: String, type: String?) -> String? {
        if let type, let mapped = table?.internal(id, type: type) { return mapped }
        return scheme.internal(id, type: type)
    }
}

/// Applies a profile's ids at the edge: vendor ids in paths, search values and request bodies
/// become stored ids; stored ids in response bodies (resource ids, references, `fullUrl`s,
/// links) and `Location` headers become vendor ids.
public struct IDRewriting: FHIRRequestStep {
    public let ids: IDMapper
    var scheme: IDScheme { ids.scheme }

    public init(ids: IDMapper) { self.ids = ids }

    public init(scheme: IDScheme) { self.init(ids: IDMapper(scheme: scheme)) }

    /// An id that is not a vendor id stays as it is (and then matches nothing).
    func inward(_ id: String, type: String?) -> String { ids.internal(id, type: type) ?? "unknown-\(id)" }

    public func rewrite(_ request: inout FHIRRequest) {
        guard scheme != .identity else { return }
        // [Type, id, ...] and [Type, id, _history, vid]
        if request.segments.count >= 2, request.segments[0].first?.isUppercase == true, !request.segments[1].hasPrefix("$"),
            !request.segments[1].hasPrefix("_")
        {
            request.segments[1] = inward(request.segments[1], type: request.segments[0])
        }
        let type = request.segments.first
        request.query = request.query.map { (name: $0.name, value: mapValue(name: $0.name, value: $0.value, inward: true, type: type)) }
        if let body = request.body, !body.isEmpty, let json = try? JSONParser.parse(body) {
            request.body = walk(json, inward: true).bytes
        }
    }

    public func check(_ request: FHIRRequest) -> FHIRResponse? { nil }

    public func finish(_ response: inout FHIRResponse, for request: FHIRRequest) {
        guard scheme != .identity else { return }
        response.headers = response.headers.map { header in
            guard ["location", "content-location"].contains(header.name.lowercased()) else { return header }
            return (header.name, mapURL(header.value, inward: false))
        }
        guard let json = response.jsonBody() else { return }
        response.setJSONBody(walk(json, inward: false))
    }

    // MARK: mapping

    func map(_ id: String, type: String?, inward: Bool) -> String {
        inward ? self.inward(id, type: type) : ids.external(id, type: type)
    }

    /// `Type/id`, `Type/id/_history/n`, or an absolute URL ending so.
    func mapReference(_ reference: String, inward: Bool) -> String {
        var parts = reference.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let typeIndex = parts.lastIndex(where: { $0.first?.isUppercase == true && $0.allSatisfy(\.isLetter) }),
            typeIndex + 1 < parts.count, !parts[typeIndex + 1].isEmpty, !parts[typeIndex + 1].hasPrefix("$"),
            !parts[typeIndex + 1].hasPrefix("_"), !parts[typeIndex + 1].hasPrefix("#")
        else { return reference }
        let tail = parts[typeIndex + 1]
        let query = tail.firstIndex(of: "?").map { String(tail[$0...]) } ?? ""
        let id = query.isEmpty ? tail : String(tail[..<tail.firstIndex(of: "?")!])
        parts[typeIndex + 1] = map(id, type: parts[typeIndex], inward: inward) + query
        return parts.joined(separator: "/")
    }

    /// Search parameter values: `_id` lists and reference values (`Patient/id`, or a bare id for
    /// parameters known to be references to one type).
    func mapValue(name: String, value: String, inward: Bool, type: String?) -> String {
        let base = String(name.prefix { $0 != ":" && $0 != "." })
        if base == "_id" {
            return value.split(separator: ",").map { map(String($0), type: type, inward: inward) }.joined(separator: ",")
        }
        if Self.referenceParameters.contains(base) {
            // A bare id names the parameter's usual target (patient → Patient), else the modifier's type.
            let target = name.split(separator: ":").dropFirst().first.map(String.init) ?? Self.usualTargets[base]
            return value.split(separator: ",").map { part in
                let text = String(part)
                return text.contains("/") ? mapReference(text, inward: inward) : map(text, type: target, inward: inward)
            }.joined(separator: ",")
        }
        return value
    }

    /// The type a bare id names for reference parameters with one usual target.
    static let usualTargets = [
        "patient": "Patient", "beneficiary": "Patient", "subscriber": "Patient", "schedule": "Schedule", "slot": "Slot",
        "practitioner": "Practitioner", "location": "Location",
    ]

    static let referenceParameters: Set<String> = [
        "patient", "subject", "practitioner", "actor", "location", "schedule", "slot", "organization", "beneficiary", "subscriber",
        "general-practitioner", "encounter", "based-on", "performer", "requester", "participant", "link", "service-provider", "endpoint",
        "partof", "policy-holder", "payor", "asserter", "recorder", "author", "sender", "recipient",
    ]

    func mapURL(_ url: String, inward: Bool) -> String {
        guard let mark = url.firstIndex(of: "?") else { return mapReference(url, inward: inward) }
        let path = mapReference(String(url[..<mark]), inward: inward)
        let query = QueryString.parse(String(url[url.index(after: mark)...]))
            .map {
                (
                    name: $0.name,
                    value: mapValue(name: $0.name, value: $0.value, inward: inward, type: path.split(separator: "/").last.map(String.init))
                )
            }
        return path + "?" + QueryString.encode(query)
    }

    func walk(_ json: JSON, inward: Bool) -> JSON {
        switch json {
        case .object(var object):
            let isResource = object["resourceType"] != nil
            // In place, member by member (object[key] = would search the members each time).
            for index in object.members.indices {
                let member = object.members[index]
                switch member.key {
                case "id" where isResource:
                    if let id = member.value.stringValue {
                        object.members[index].value = .string(map(id, type: object["resourceType"]?.stringValue, inward: inward))
                    }
                case "reference", "fullUrl":
                    if let text = member.value.stringValue { object.members[index].value = .string(mapReference(text, inward: inward)) }
                case "url" where object["relation"] != nil:
                    if let text = member.value.stringValue { object.members[index].value = .string(mapURL(text, inward: inward)) }
                case "location" where object["status"] != nil && object["etag"] != nil:
                    if let text = member.value.stringValue { object.members[index].value = .string(mapReference(text, inward: inward)) }
                case "value" where inward && object["op"] != nil && object["path"]?.stringValue?.hasSuffix("/reference") == true:
                    // A JSON Patch operation replacing a reference (Cerner's reschedule: /slot/0/reference).
                    if let text = member.value.stringValue { object.members[index].value = .string(mapReference(text, inward: inward)) }
                case "valueString" where inward:
                    // Operation parameters such as appt-id and patient-id name resources.
                    if let text = member.value.stringValue, text.contains("/") {
                        object.members[index].value = .string(mapReference(text, inward: inward))
                    }
                case "valueIdentifier" where inward && object["name"] != nil:
                    // An operation parameter naming a resource by its bare id (Epic's $book
                    // `appointment` and `patient`): an identifier without a system.
                    if case .object(var identifier) = member.value, identifier["system"] == nil,
                        let value = identifier["value"]?.stringValue, let id = scheme.internal(value)
                    {
                        identifier["value"] = .string(id)
                        object.members[index].value = .object(identifier)
                    }
                default:
                    object.members[index].value = walk(member.value, inward: inward)
                }
            }
            return .object(object)
        case .array(let items):
            return .array(items.map { walk($0, inward: inward) })
        default:
            return json
        }
    }
}

/// Epic-style base64: the standard alphabet with `-` for `+` and `.` for `/`, no padding.
enum EpicBase64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.".utf8)
    static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = Int8(index) }
        return table
    }()

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let chunk = min(3, bytes.count - index)
            let b0 = UInt32(bytes[index])
            let b1 = chunk > 1 ? UInt32(bytes[index + 1]) : 0
            let b2 = chunk > 2 ? UInt32(bytes[index + 2]) : 0
            let word = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(word >> 18 & 63)])
            out.append(alphabet[Int(word >> 12 & 63)])
            if chunk > 1 { out.append(alphabet[Int(word >> 6 & 63)]) }
            if chunk > 2 { out.append(alphabet[Int(word & 63)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Nil for a character outside the alphabet or an impossible length.
    static func decode(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        guard text.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 3 / 4)
        var word: UInt32 = 0
        var bits = 0
        for byte in text {
            let value = values[Int(byte)]
            guard value >= 0 else { return nil }
            word = word << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(word >> UInt32(bits) & 0xFF))
            }
        }
        return out
    }
}
