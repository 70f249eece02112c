import Foundation

/// Bounded, seeded random-input testing for the parsers (issue 10): inputs are the committed
/// corpus (`Tests/Fuzz/corpus/<kind>/`) mutated by byte flips, insertions, deletions,
/// truncations, duplications and splices of other corpus entries, plus fully random bytes. The
/// same seed gives the same inputs, so a failure reproduces; `FHIR_SANDBOX_FUZZ_ITERATIONS`
/// runs more of them.
public struct FuzzInput: Sequence, IteratorProtocol {
    private var state: UInt64
    private let corpus: [[UInt8]]
    private var remaining: Int
    /// Bytes that matter to the grammars being fuzzed: JSON punctuation, escapes, digits, query
    /// and JWS separators, and bytes that are not valid UTF-8.
    private static let interesting: [UInt8] =
        Array("{}[]\":,\\/u0123456789eE+-.tfn &=%|$?_ \t\n".utf8) + [0x00, 0x7F, 0xC0, 0xE2, 0xF0, 0xFF]

    /// The committed corpus of `kind` (`json`, `query`, `jws`).
    public static func corpus(_ kind: String, file: String = #filePath) -> [[UInt8]] {
        var directory = URL(fileURLWithPath: file).deletingLastPathComponent()
        while directory.path != "/" && !FileManager.default.fileExists(atPath: directory.appendingPathComponent("Fuzz").path) {
            directory = directory.deletingLastPathComponent()
        }
        let folder = directory.appendingPathComponent("Fuzz/corpus/\(kind)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.sorted() ?? []
        return names.compactMap { FileManager.default.contents(atPath: folder.appendingPathComponent($0).path).map { Array($0) } }
    }

    public init(corpus: [[UInt8]], seed: UInt64, iterations: Int) {
        self.corpus = corpus.isEmpty ? [[]] : corpus
        state = seed
        let extra = ProcessInfo.processInfo.environment["FHIR_SANDBOX_FUZZ_ITERATIONS"].flatMap { Int($0) }
        remaining = extra ?? iterations
    }

    /// SplitMix64.
    private mutating func next64() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private mutating func below(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(next64() % UInt64(bound)) }

    private mutating func byte() -> UInt8 {
        below(3) == 0 ? UInt8(truncatingIfNeeded: next64()) : Self.interesting[below(Self.interesting.count)]
    }

    public mutating func next() -> [UInt8]? {
        guard remaining > 0 else { return nil }
        remaining -= 1
        if below(20) == 0 { return (0..<below(64)).map { _ in byte() } }
        var input = corpus[below(corpus.count)]
        for _ in 0...below(4) {
            let position = below(input.count + 1)
            switch below(7) {
            case 0 where !input.isEmpty: input[Swift.min(position, input.count - 1)] = byte()
            case 1: input.insert(contentsOf: (0...below(4)).map { _ in byte() }, at: position)
            case 2 where !input.isEmpty: input.removeSubrange(position..<Swift.min(input.count, position + 1 + below(8)))
            case 3: input = Array(input.prefix(position))
            case 4 where !input.isEmpty:
                let end = Swift.min(input.count, position + 1 + below(32))
                if position < end { input.insert(contentsOf: input[position..<end], at: position) }
            case 5:
                let other = corpus[below(corpus.count)]
                let start = below(other.count + 1)
                input.insert(contentsOf: other[start..<Swift.min(other.count, start + below(64))], at: position)
            default:
                if !input.isEmpty { input[Swift.min(position, input.count - 1)] ^= UInt8(1 << below(8)) }
            }
        }
        return input
    }
}
