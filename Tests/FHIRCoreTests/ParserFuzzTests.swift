import FuzzSupport
import Testing

@testable import FHIRCore

/// The JSON parser on mutated corpus inputs (Tests/Fuzz/corpus/json): it returns a value or a
/// parse error, never traps, and whatever it accepts writes out and parses back to the same value.
@Suite struct JSONParserFuzzTests {
    @Test func mutatedJSONParsesOrFailsCleanlyAndRoundTrips() {
        var accepted = 0
        for input in FuzzInput(corpus: FuzzInput.corpus("json"), seed: 10, iterations: 20_000) {
            guard let value = try? JSONParser.parse(input) else { continue }
            accepted += 1
            let written = JSONWriter().bytes(value)
            #expect((try? JSONParser.parse(written)) == value, "round trip of \(String(decoding: input, as: UTF8.self))")
        }
        #expect(accepted > 0)
    }
}
