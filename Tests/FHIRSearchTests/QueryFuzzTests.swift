import FHIRCore
import FuzzSupport
import Testing

@testable import FHIRSearch

/// The search-query parser on mutated query strings (Tests/Fuzz/corpus/query) for every type:
/// a query or a `FHIRError` (a 4xx), never a trap or an internal error.
@Suite struct SearchQueryFuzzTests {
    @Test func mutatedQueriesParseOrFailAsClientErrors() {
        let parser = SearchQueryParser(registry: .r4, zone: TimeZoneRule(identifier: "America/Chicago")!)
        let types = SearchRegistry.r4.resourceTypes
        var index = 0
        for input in FuzzInput(corpus: FuzzInput.corpus("query"), seed: 20, iterations: 20_000) {
            index += 1
            let text = String(decoding: input, as: UTF8.self)
            let parameters = text.split(separator: "&", omittingEmptySubsequences: false).map { pair in
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (name: String(parts[0]), value: parts.count > 1 ? String(parts[1]) : "")
            }
            do {
                _ = try parser.parse(
                    type: types[index % types.count], parameters: parameters, strict: index % 2 == 0, now: 1_776_085_200_000)
            } catch {
                #expect(error.code.status < 500, "\(text): \(error)")
            }
        }
    }
}
