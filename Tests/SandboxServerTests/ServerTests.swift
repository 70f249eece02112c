import FHIRCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import SandboxServer

/// The real application in process (`app.test(.router)`), built the way the CLI builds it.
@Suite struct ServerTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func makeApp() throws -> SandboxApplication {
        var configuration = SandboxConfiguration()
        configuration.port = 0
        configuration.profilesDirectory = Self.root.appendingPathComponent("Profiles").path
        configuration.seedDirectory = Self.root.appendingPathComponent("Seeds/default").path
        return try buildApplication(configuration: configuration, clock: .fixed(1_776_085_200_000), random: .seeded(1))
    }

    func body(_ response: TestResponse) throws -> JSON { try JSONParser.parse(Array(buffer: response.body)) }

    @Test func healthIndexAndMetadata() async throws {
        let built = try makeApp()
        try await built.application.test(.router) { client in
            try await client.execute(uri: "/_health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(try! body(response) == .object(JSONObject(["status": .string("ok")])))
            }
            try await client.execute(uri: "/fhir/r4/metadata", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/fhir+json; charset=utf-8")
                #expect(try! body(response)["resourceType"]?.stringValue == "CapabilityStatement")
            }
        }
    }

    @Test func readSearchAndWrite() async throws {
        let built = try makeApp()
        try await built.application.test(.router) { client in
            try await client.execute(uri: "/fhir/r4/Patient/pat-0010", method: .get) { response in
                #expect(response.status == .ok && response.headers[.eTag] == "W/\"1\"")
                #expect(try! body(response)["name"]?.arrayValue?.first?["family"]?.stringValue == "Núñez")
            }
            try await client.execute(uri: "/fhir/r4/Patient?family=n%C3%BA%C3%B1ez&_count=5", method: .get) { response in
                let bundle = try body(response)
                #expect(bundle["type"]?.stringValue == "searchset")
                #expect(bundle["entry"]?.arrayValue?.contains { $0["resource"]?["id"]?.stringValue == "pat-0010" } == true)
            }
            let patient = ByteBuffer(string: #"{"resourceType":"Patient","name":[{"family":"Inprocess"}]}"#)
            try await client.execute(
                uri: "/fhir/r4/Patient", method: .post, headers: [.contentType: "application/fhir+json"], body: patient
            ) { response in
                #expect(response.status == .created)
                #expect(response.headers[.location]?.hasPrefix("http://localhost/fhir/r4/Patient/") == true)
            }
        }
    }

    @Test func errorsAreOperationOutcomes() async throws {
        let built = try makeApp()
        try await built.application.test(.router) { client in
            try await client.execute(uri: "/nowhere", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(try! body(response)["resourceType"]?.stringValue == "OperationOutcome")
            }
            try await client.execute(uri: "/fhir/r4/Patient/pat-0001", method: .get, headers: [.accept: "application/fhir+xml"]) {
                response in
                #expect(response.status == .notAcceptable)
            }
            let huge = ByteBuffer(repeating: UInt8(ascii: " "), count: 5 << 20)
            try await client.execute(uri: "/fhir/r4/Patient", method: .post, headers: [.contentType: "application/fhir+json"], body: huge) {
                response in
                #expect(response.status == .contentTooLarge)
                #expect(try! body(response)["issue"]?.arrayValue?.first?["code"]?.stringValue == "too-costly")
            }
        }
    }

    @Test func adminClockAndReset() async throws {
        let built = try makeApp()
        try await built.application.test(.router) { client in
            let json: HTTPFields = [.contentType: "application/json"]
            try await client.execute(
                uri: "/_admin/clock/advance", method: .post, headers: json, body: ByteBuffer(string: #"{"seconds": 3600}"#)
            ) { response in
                #expect(try! body(response)["now"]?.stringValue == "2026-04-13T14:00:00.000Z")
            }
            try await client.execute(uri: "/_admin/clock", method: .put, headers: json, body: ByteBuffer(string: #"{"now": "later"}"#)) {
                response in
                #expect(response.status == .badRequest)
                #expect(try! body(response)["field"]?.stringValue == "now")
            }
            // Only JSON bodies, and no browser page from another origin.
            try await client.execute(
                uri: "/_admin/reset", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: "{}")
            ) { response in
                #expect(response.status == .unsupportedMediaType)
            }
            try await client.execute(uri: "/_admin/reset", method: .post, headers: [.origin: "http://evil.example"]) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(
                uri: "/_admin/clock/advance", method: .post, headers: json, body: ByteBuffer(string: #"{"seconds": -9223372036854775808}"#)
            ) { response in
                #expect(response.status == .badRequest)
                #expect(try! body(response)["field"]?.stringValue == "seconds")
            }
            try await client.execute(uri: "/fhir/r4/Patient/pat-0001", method: .delete) { response in
                #expect(response.status == .noContent)
            }
            try await client.execute(uri: "/_admin/reset", method: .post) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/fhir/r4/Patient/pat-0001", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func startupFailuresAreOneLineErrors() throws {
        var configuration = SandboxConfiguration()
        configuration.profilesDirectory = Self.root.appendingPathComponent("Profiles").path
        configuration.seedDirectory = "/nonexistent"
        #expect(throws: SandboxError.self) { try buildApplication(configuration: configuration, clock: .fixed(0)) }
        configuration.seedDirectory = Self.root.appendingPathComponent("Seeds/default").path
        configuration.profiles = ["epic-does-not-exist"]
        do {
            _ = try buildApplication(configuration: configuration, clock: .fixed(0))
            Issue.record("expected an error")
        } catch {
            #expect(error.message.contains("epic-does-not-exist") && !error.message.contains("\n"))
        }
    }
}
