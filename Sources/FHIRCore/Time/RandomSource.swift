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

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// A random v4 UUID in lowercase text, which is a valid FHIR id.
    public func uuid() -> String {
        let high = (next() & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let low = (next() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return String(unsafeUninitializedCapacity: 36) { buffer in
            // 8-4-4-4-12: 32 hex digits with dashes after digits 8, 12, 16 and 20.
            var index = 0
            var digit = 0
            for word in [high, low] {
                for shift in stride(from: 60, through: 0, by: -4) {
                    if digit == 8 || digit == 12 || digit == 16 || digit == 20 {
                        buffer[index] = UInt8(ascii: "-")
                        index += 1
                    }
                    buffer[index] = Self.hexDigits[Int((word >> UInt64(shift)) & 0xF)]
                    index += 1
                    digit += 1
                }
            }
            return index
        }
    }

    /// A random token of `count` lowercase hex characters.
    public func token(_ count: Int = 16) -> String {
        String(unsafeUninitializedCapacity: count) { buffer in
            var word = next()
            for index in 0..<count {
                if index > 0 && index % 16 == 0 { word = next() }
                buffer[index] = Self.hexDigits[Int((word >> UInt64(60 - (index % 16) * 4)) & 0xF)]
            }
            return count
        }
    }
}
