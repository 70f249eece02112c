import Foundation

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

/// Stored ids as digits, reversibly — what numeric vendor id schemes fall back to for ids the
/// seed does not number: a lowercase uuid (what the server assigns) is `8` + its 128 bits in
/// decimal; any other id `9` + its UTF-8 bytes in decimal.
enum NumericID {
    static func digits(_ id: String) -> String {
        let hex = id.replacing("-", with: "")
        if id.count == 36, hex.count == 32, hex == hex.lowercased(), let bytes = bytes(hex: hex) {
            return "8" + Decimal128.string(bytes)
        }
        return "9" + Decimal128.string(Array(id.utf8))
    }

    /// The stored id `digits` stands for, or nil when it is not of this form. Uppercase uuids
    /// take the byte form, so a scheme checks the round trip with its own `external`.
    static func id(_ digits: String) -> String? {
        let rest = String(digits.dropFirst())
        if digits.hasPrefix("8"), let bytes = Decimal128.bytes(rest, count: 16) {
            let hex = bytes.map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
            return [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
                .joined(separator: "-")
        }
        if digits.hasPrefix("9"), let bytes = Decimal128.bytes(rest, count: nil) {
            return String(bytes: bytes, encoding: .utf8)
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
