import Testing

@testable import SandboxServer

/// `Host` header parsing: what decides whether a request's host is echoed into links and token
/// audiences.
@Suite struct HostPolicyTests {
    @Test(arguments: [
        ("localhost:8080", "localhost"),
        ("LocalHost:8080", "localhost"),
        ("127.0.0.1", "127.0.0.1"),
        ("[::1]:8080", "::1"),
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("Sandbox.Example.TEST:443", "sandbox.example.test"),
        ("[unterminated", "unterminated"),
        ("", ""),
    ])
    func hostNames(authority: String, name: String) {
        #expect(HostPolicy.hostName(authority) == name)
    }

    @Test func onlyAllowedNamesAreEchoed() {
        var configuration = SandboxConfiguration()
        configuration.port = 8080
        configuration.allowedHosts = ["Sandbox.Example.test"]
        let policy = HostPolicy(configuration: configuration)
        #expect(policy.origin(authority: "SANDBOX.example.test:9000") == "http://SANDBOX.example.test:9000")
        #expect(policy.origin(authority: "evil.example:8080") == "http://127.0.0.1:8080")
        #expect(policy.origin(authority: nil) == "http://127.0.0.1:8080")
        #expect(policy.audiences(of: "/fhir/r4").contains("http://sandbox.example.test:8080/fhir/r4"))
        policy.listening(on: 9001)
        #expect(policy.audiences(of: "/fhir/r4").contains("http://localhost:9001/fhir/r4"))
        #expect(!policy.audiences(of: "/fhir/r4").contains("http://localhost:8080/fhir/r4"))
    }
}
