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
