import FHIRCore
import FHIRInteractions
import Foundation
import SandboxAuth
import SandboxSeed
import Scheduling
import Testing

@testable import SandboxProfiles

/// The compiled profile: step order, each base's steps, strategies by name, and tenants that
/// share a compiled profile without sharing state.
@Suite struct CompilerTests {
    @Test func edgeOrderIsPinned() {
        // Changing this order changes what every vendor base answers: see EdgeStep's notes.
        #expect(
            EdgeStep.order == [
                .topicSubscriptions, .context, .idIdentifiers, .ids, .stu3, .patientRendering, .utcTimes, .appointmentIdentifiers, .paging,
                .createRules,
                .writes,
                .contentNegotiation,
                .slotHorizon, .holdSweeper, .slotRace, .provenance,
            ])
    }

    @Test func eachBaseRunsTheStepsItsProfileUses() throws {
        let generic = try Fixture.runtime("generic")
        #expect(generic.steps == [[.writes, .contentNegotiation, .slotHorizon, .holdSweeper, .slotRace, .provenance]])
        let epic = try Fixture.runtime("epic")
        #expect(
            epic.steps[0] == [
                .ids, .patientRendering, .appointmentIdentifiers, .writes, .contentNegotiation, .slotHorizon, .holdSweeper, .slotRace,
                .provenance,
            ])
        // The STU3 base serves no Provenance.
        #expect(
            epic.steps[1] == [
                .ids, .stu3, .patientRendering, .appointmentIdentifiers, .writes, .contentNegotiation, .slotHorizon, .holdSweeper,
                .slotRace,
            ])
        let cerner = try Fixture.runtime("cerner")
        #expect(
            cerner.steps == [
                [
                    .ids, .patientRendering, .utcTimes, .paging, .createRules, .writes, .contentNegotiation, .slotHorizon, .holdSweeper,
                    .slotRace, .provenance,
                ]
            ])
        // The pipelines run exactly those steps, in that order.
        let kinds: [EdgeStep: String] = [
            .context: "RequiredContext", .ids: "IDRewriting", .stu3: "STU3Rendering", .patientRendering: "PatientRendering",
            .utcTimes: "UTCTimes",
            .appointmentIdentifiers: "AppointmentIdentifiers", .paging: "PagingStyle",
            .createRules: "CreateRules", .writes: "WriteShaping", .contentNegotiation: "JSONOnlyFormat", .slotHorizon: "SlotHorizon",
            .holdSweeper: "HoldSweeper", .slotRace: "SlotRace", .provenance: "ProvenanceRecorder",
        ]
        for runtime in [generic, epic, cerner] {
            let pipelines = [runtime.pipeline] + runtime.otherBases.map(\.pipeline)
            for (pipeline, steps) in zip(pipelines, runtime.steps) {
                #expect(pipeline.steps.map { String(describing: type(of: $0)) } == steps.map { kinds[$0] ?? "unnamed \($0)" })
            }
        }
    }

    @Test func strategiesAreLookedUpByName() throws {
        #expect(Fixture.compiled["generic"]!.ids.isIdentity)
        #expect(Fixture.compiled["epic"]!.ids.external("pat-0001", type: "Patient") == "ecGF0LTAwMDE3")
        #expect(Fixture.compiled["cerner"]!.ids.external("pat-0001", type: "Patient") == "127240001")
        #expect(Fixture.compiled["cerner"]!.appointments is CernerAppointments)
        #expect(Fixture.compiled["epic"]!.appointments == nil)
        #expect(Fixture.compiled["epic"]!.oauth.scopeText(["system/Patient.rs"]) == "Patient.read Patient.search")
        #expect(Fixture.compiled["generic"]!.oauth.scopeText(["system/Patient.rs"]) == "system/Patient.rs")
    }

    @Test func anUnknownStrategyNameIsALoadErrorNamingTheChoices() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("strategy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("odd.yaml")
        try "name: odd\nfhirBase: /odd/r4\nids: sideways\n".write(to: file, atomically: true, encoding: .utf8)
        do {
            _ = try ProfileLoader.load(file: file.path)
            Issue.record("a profile naming an unknown id scheme loaded")
        } catch {
            #expect(error.description.contains("ids"))
            // The registered names (a test may register more, e.g. NewVendorTests' acme).
            #expect(error.description.contains("must be one of "))
            #expect(["cerner", "epic", "identity"].allSatisfy(error.description.contains))
            #expect(error.description.contains("'sideways'"))
        }
    }

    @Test func pathsNameTheSeedsPracticeCode() throws {
        // The file keeps the placeholder; a sandbox fills it from seed.yaml's practiceCode.
        let directory = Fixture.root.appendingPathComponent("Profiles").path
        let raw = try #require(try ProfileLoader.loadAll(directory: directory).first { $0.name == "ecw" })
        #expect(raw.fhirBase == "/ecw/fhir/r4/{practiceCode}")
        #expect(Fixture.seed.practiceCode == "RIVBCD")
        let filled = raw.filled(practiceCode: "FEIGCD")
        #expect(filled.fhirBase == "/ecw/fhir/r4/FEIGCD")
        #expect(filled.proprietary?.path == "/ecw/healow/apps/api/v1/fhir/FEIGCD/fhir")
        // Any other placeholder is a load error naming the one allowed.
        let odd = FileManager.default.temporaryDirectory.appendingPathComponent("placeholder-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: odd) }
        try "name: odd\nfhirBase: /odd/{tenant}/r4\n".write(to: odd, atomically: true, encoding: .utf8)
        #expect(throws: ProfileLoader.Failure.self) { try ProfileLoader.load(file: odd.path) }
        do {
            _ = try ProfileLoader.load(file: odd.path)
        } catch {
            #expect(error.description.contains("{practiceCode}") && error.description.contains("fhirBase"))
        }
    }

    @Test func twoTenantsShareTheCompiledProfileButNotTheirData() throws {
        let first = try Fixture.runtime("generic")
        let second = try Fixture.runtime("generic")
        let created = first.pipeline.call(
            "POST", "Patient", body: #"{"resourceType":"Patient","name":[{"family":"Onlyinfirst","given":["Ada"]}]}"#)
        #expect(created.status == 201)
        let id = try #require(try created.json()["id"]?.stringValue)
        #expect(first.pipeline.call("GET", "Patient/\(id)").status == 200)
        #expect(second.pipeline.call("GET", "Patient/\(id)").status == 404)
        #expect(try second.pipeline.call("GET", "Patient?family=Onlyinfirst").json()["total"]?.numberText == "0")
        // Resetting one tenant leaves the other as it is.
        try first.state.reset(from: Fixture.snapshot)
        #expect(first.pipeline.call("GET", "Patient/\(id)").status == 404)
        #expect(second.pipeline.call("GET", "Patient/pat-0001").status == 200)
    }
}
