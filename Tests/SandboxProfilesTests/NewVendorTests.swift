import FHIRCore
import FHIRInteractions
import FHIRSearch
import FHIRStore
import Foundation
import SandboxSeed
import Testing

@testable import SandboxProfiles

/// A new vendor is a YAML file, plus a strategy where YAML cannot express it, plus one registry
/// line — no engine module changes. `acme` is made up and lives in the tests.
@Suite struct NewVendorTests {
    @Test func aYAMLFileAStrategyAndOneRegistryLine() throws {
        // The registry line.
        Strategies.ids.register("acme") { _, _ in AcmeIDs() }
        // The YAML file.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("acme-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("acme.yaml")
        try """
        name: acme
        fhirBase: /acme/fhir
        ids: acme
        auth:
          mode: anonymous
        errors:
          system: urn:acme:errors
          codes:
            notFound: {code: ACME-404, text: No such thing}
        """.write(to: file, atomically: true, encoding: .utf8)
        let profile = try ProfileLoader.load(file: file.path)
        let compiled = ProfileCompiler.compile(profile, environment: Fixture.environment)
        let store = try ResourceStore(path: nil, extractor: IndexExtractor(registry: Fixture.registry, zone: Fixture.seed.zone))
        let acme = try compiled.bind(
            try TenantState(name: "acme", store: store, snapshot: Fixture.snapshot, environment: Fixture.environment))
        #expect(acme.steps[0].first == .ids)

        let patient = try acme.pipeline.call("GET", "Patient/acme.pat-0001").json()
        #expect(patient["id"]?.stringValue == "acme.pat-0001")
        let search = try acme.pipeline.call("GET", "Appointment", query: [("patient", "acme.pat-0001")]).json()
        let references = (search["entry"]?.arrayValue ?? []).flatMap { entry in
            entry["resource"]?["participant"]?.arrayValue?.compactMap { $0["actor"]?["reference"]?.stringValue } ?? []
        }
        #expect(references.contains("Patient/acme.pat-0001"))
        #expect(!references.contains { $0.hasSuffix("/pat-0001") })
        // The seed's own id is not an acme id: not found, in acme's error dialect.
        let missing = acme.pipeline.call("GET", "Patient/pat-0001")
        #expect(missing.status == 404)
        #expect(
            try missing.json()["issue"]?.arrayValue?.first?["details"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "ACME-404")
    }
}
