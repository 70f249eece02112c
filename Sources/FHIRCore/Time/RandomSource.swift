import Synchronization

/// Where server-assigned ids and other random choices come from. Injected so tests are
/// deterministic; production uses the system generator.
public final class RandomSource: Sendable {
    private let state: Mutex<UInt64?>

    /// The system's random generator.
    public static func system() -> RandomSource { RandomSource(seed: nil) }

    /// A deterministic SplitMix64 sequence.
    public static func seeded(_ seed: UInt64) -> RandomSource { RandomSource(seed: seed) }

    private init(seed: UInt64?) { state = Mutex(seed) }

    public func next() -> UInt64 {
        state.withLock { seed in
            guard var value = seed else {
                var generator = SystemRandomNumberGenerator()
                return generator.next()
            }
            value &+= 0x9E37_79B9_7F4A_7C15
            seed = value
            var z = value
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// A random v4 UUID in lowercase text, which is a valid FHIR id.
    public func uuid() -> String {
        var high = next()
        var low = next()
        high = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        let hex = hex16(high) + hex16(low)
        let chars = Array(hex)
        return String(chars[0..<8]) + "-" + String(chars[8..<12]) + "-" + String(chars[12..<16]) + "-"
            + String(chars[16..<20]) + "-" + String(chars[20..<32])
    }

    /// A random token of `count` lowercase hex characters.
    public func token(_ count: Int = 16) -> String {
        var text = ""
        while text.count < count { text += hex16(next()) }
        return String(text.prefix(count))
    }

    private func hex16(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
