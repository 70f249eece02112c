import FHIRCore
import FuzzSupport
import Testing

@testable import SandboxAuth

/// The compact JWS parser on mutated tokens (Tests/Fuzz/corpus/jws): a parsed token or an error,
/// never a trap; and no mutated token verifies against the server's keys.
@Suite struct JWSFuzzTests {
    @Test func mutatedTokensParseOrFailAndNeverVerify() {
        let signer = TokenSigner()
        var parsed = 0
        for input in FuzzInput(corpus: FuzzInput.corpus("jws"), seed: 30, iterations: 20_000) {
            guard case .success(let jws) = CompactJWS.parse(String(decoding: input, as: UTF8.self)) else { continue }
            parsed += 1
            if case .success = jws.verify(keys: signer.verificationKeys, allowed: [.es256, .rs384]) {
                Issue.record("a mutated token verified: \(String(decoding: input, as: UTF8.self))")
            }
        }
        #expect(parsed > 0)
    }
}
