/// Epic-style opaque ids (vendor-quirks §1.4): `e` + base64url of the stored id (`_` written as
/// `.`) + `3`, e.g. `pat-0001` → `ecGF0LTAwMDE3`. Like Epic's, they may contain `.` and `-`.
/// Every type is mapped; an id whose vendor form would pass 64 characters keeps its stored form.
struct EpicIDs: IDScheme {
    func external(_ id: String, type: String? = nil) -> String {
        let external = "e" + EpicBase64.encode(Array(id.utf8)) + "3"
        return external.utf8.count <= 64 ? external : id
    }

    func `internal`(_ id: String, type: String? = nil) -> String? {
        let bytes = Array(id.utf8)
        guard bytes.count > 2, bytes.first == UInt8(ascii: "e"), bytes.last == UInt8(ascii: "3"),
            let decoded = EpicBase64.decode(bytes[1..<(bytes.count - 1)]), !decoded.isEmpty,
            decoded.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D || $0 == 0x2E })
        else { return nil }
        let text = String(decoding: decoded, as: UTF8.self)
        return external(text) == id ? text : nil
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
