import FHIRCore
import FHIRInteractions
import Foundation
import SandboxAuth
import SandboxSeed
import Testing

@testable import SandboxProfiles

/// Id schemes, OAuth dialects and Appointment rules, each on its own and on real storage.
@Suite struct IDSchemeTests {
    @Test func epicIdsAreOpaqueValidAndReversible() {
        let epic = EpicIDs()
        for id in ["pat-0001", "slot-okafor-main-20260420-0800", "6f1c1e9e-6d2b-4b6e-9a53-1f2d3c4b5a69", "a.b-c"] {
            let external = epic.external(id)
            #expect(external.hasPrefix("e") && external.hasSuffix("3") && external.count <= 64)
            #expect(external.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." })
            #expect(epic.internal(external) == id)
        }
        #expect(epic.internal("pat-0001") == nil)
        #expect(epic.internal("e!!3") == nil)
        #expect(epic.internal("eA3") == nil)
    }

    /// The Epic id codec against Foundation's base64 (the reference implementation).
    @Test func epicIdsMatchFoundationBase64() {
        var generator = SystemRandomNumberGenerator()
        let characters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.")
        for length in 1...40 {
            let id = String((0..<length).map { _ in characters.randomElement(using: &generator)! })
            let expected = Data(id.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: ".").replacingOccurrences(of: "=", with: "")
            let external = EpicIDs().external(id)
            #expect(external == (expected.count + 2 <= 64 ? "e" + expected + "3" : id))
            if external != id { #expect(EpicIDs().internal(external) == id) }
        }
    }

    @Test func cernerIdsAreNumericAndReversibleForEveryType() {
        let cerner = CernerNumbers(seeded: ["Practitioner": ["pract-okafor"], "Patient": ["pat-0001"]])
        #expect(cerner.external("pat-0001", type: "Patient") == "127240001")
        #expect(cerner.internal("127240001", type: "Patient") == "pat-0001")
        #expect(cerner.external("pract-okafor", type: "Practitioner") == CernerIDs.number("pract-okafor"))
        #expect(cerner.internal(CernerIDs.number("pract-okafor"), type: "Practitioner") == "pract-okafor")
        for type in ["Patient", "Appointment", "DocumentReference", "Practitioner"] {
            for id in ["6f1c1e9e-6d2b-4b6e-9a53-1f2d3c4b5a69", "00000000-0000-0000-0000-000000000001", "pat-merged", "x"] {
                let external = cerner.external(id, type: type)
                #expect(external.allSatisfy(\.isNumber) && external.count <= 64, "\(type)/\(id) → \(external)")
                #expect(cerner.internal(external, type: type) == id)
            }
        }
        // A seed name is not an id the vendor shows.
        #expect(cerner.internal("pract-okafor", type: "Practitioner") == nil)
        #expect(cerner.internal("pat-0001", type: "Patient") == nil)
        #expect(cerner.internal("12", type: "Patient") == nil)
    }

    @Test func cernerCompositeIdsRoundTripForEverySeedScheduleSlotAndCoverage() throws {
        let cerner = CernerIDs(seed: Fixture.seed)
        for template in Fixture.seed.schedules {
            let schedule = cerner.external(template.id, type: "Schedule")
            #expect(schedule.hasSuffix("-0") && schedule.split(separator: "-").count == 4, "\(template.id) → \(schedule)")
            #expect(cerner.internal(schedule, type: "Schedule") == template.id)
            let stem = template.id.hasPrefix("sched-") ? String(template.id.dropFirst(6)) : template.id
            let slot = "slot-\(stem)-20260420-0800"
            let shown = cerner.external(slot, type: "Slot")
            #expect(shown.hasSuffix("-202604200800"), "\(slot) → \(shown)")
            #expect(cerner.internal(shown, type: "Slot") == slot)
        }
        let coverages = Fixture.seed.resources.filter { $0["resourceType"]?.stringValue == "Coverage" }
        #expect(!coverages.isEmpty)
        for coverage in coverages {
            let id = try #require(coverage["id"]?.stringValue)
            let shown = cerner.external(id, type: "Coverage")
            #expect(shown != id && cerner.internal(shown, type: "Coverage") == id)
        }
        #expect(cerner.external("comm-1", type: "Communication").hasSuffix(".0.-4.prsnl"))
        #expect(cerner.internal(cerner.external("comm-1", type: "Communication"), type: "Communication") == "comm-1")
        // Ids outside the table (a Coverage created through the API) are numeric, and reversible.
        let created = cerner.external("0b7d0c1e-1111-4222-8333-944455556666", type: "Coverage")
        #expect(created.allSatisfy { $0.isNumber })
        #expect(cerner.internal(created, type: "Coverage") == "0b7d0c1e-1111-4222-8333-944455556666")
        #expect(cerner.internal("0b7d0c1e-1111-4222-8333-944455556666", type: "Coverage") == nil)
    }
}

@Suite struct OAuthDialectTests {
    let error = OAuthError("invalid_client", "client_assertion expired 3 s ago", status: 401)

    @Test func rfc6749DescribesTheError() {
        let detail = OAuthDialect.standard.errorDetail(error, .token, "app")
        #expect(detail?.name == "error_description" && detail?.value == .string("client_assertion expired 3 s ago"))
    }

    @Test func epicNullsTheTokenEndpointDescriptionOnly() {
        #expect(EpicOAuth.dialect.errorDetail(error, .token, "app")?.value == .null)
        #expect(EpicOAuth.dialect.errorDetail(error, .authorize, "app")?.value == .string("client_assertion expired 3 s ago"))
        #expect(
            EpicOAuth.scopeNames(["system/Patient.rs", "system/Appointment.cruds", "openid", "system/Patient.r"])
                == "Patient.read Patient.search Appointment.read Appointment.search Appointment.create Appointment.update "
                + "Appointment.delete openid")
    }

    @Test func cernerNamesTheErrorWithAnErrorURI() throws {
        let dialect = CernerOAuth.dialect(tenant: "t-123", random: .seeded(3))
        let detail = try #require(dialect.errorDetail(error, .token, "my app"))
        #expect(detail.name == "error_uri")
        let uri = try #require(detail.value.stringValue)
        #expect(
            uri.hasPrefix(
                "https://authorization.cerner.com/errors/urn%3Acerner%3Aerror%3Aauthorization-server%3Aoauth2%3Atoken%3Ainvalid-client/instances/"
            ))
        #expect(uri.hasSuffix("?client=my%20app&tenant=t-123"))
        let denied = try #require(dialect.errorDetail(OAuthError("access_denied", "no"), .authorize, "app")?.value.stringValue)
        #expect(denied.contains("oauth2%3Aauthorize%3Adenied-by-server"))
    }
}

/// Oracle Health (Cerner) Appointment rules on a real tenant.
@Suite struct CernerAppointmentTests {
    @Test func bookedCreatesNeedOneSlotAndThePatientAloneAndTheSlotFillsTheRest() throws {
        let cerner = try Fixture.runtime("cerner")
        let ids = cerner.ids
        let slots = try cerner.pipeline.call(
            "GET", "Slot", query: [("service-type", "394814009"), ("start", "ge2026-04-14T00:00:00Z"), ("start", "lt2026-04-16T00:00:00Z")]
        ).json()
        let slot = try #require(slots["entry"]?.arrayValue?.first?["resource"]?["id"]?.stringValue)
        let patient = ids.external("pat-0001", type: "Patient")
        func appointment(_ participants: String, slot: String?) -> String {
            #"{"resourceType":"Appointment","status":"booked","reasonCode":[{"text":"knee pain"}],"#
                + (slot.map { #""slot":[{"reference":"Slot/\#($0)"}],"# } ?? "") + #""participant":[\#(participants)]}"#
        }
        let patientOnly = #"{"actor":{"reference":"Patient/\#(patient)"},"status":"accepted"}"#
        let withoutSlot = cerner.pipeline.call("POST", "Appointment", body: appointment(patientOnly, slot: nil))
        #expect(withoutSlot.status >= 400 && withoutSlot.status < 500)
        let twoParticipants = cerner.pipeline.call(
            "POST", "Appointment",
            body: appointment(patientOnly + #",{"actor":{"reference":"Practitioner/prac-okafor"},"status":"accepted"}"#, slot: slot))
        #expect(twoParticipants.status >= 400 && twoParticipants.status < 500)
        let booked = cerner.pipeline.call("POST", "Appointment", body: appointment(patientOnly, slot: slot))
        #expect(booked.status == 201 && booked.body.isEmpty)
        let location = try #require(booked.header("Location"))
        let id = try #require(location.split(separator: "/").last.map(String.init))
        let stored = try cerner.pipeline.call("GET", "Appointment/\(id)").json()
        let actors = stored["participant"]?.arrayValue?.compactMap { $0["actor"]?["reference"]?.stringValue } ?? []
        #expect(
            actors.contains("Patient/\(patient)") && actors.contains { $0.hasPrefix("Practitioner/") }
                && actors.contains { $0.hasPrefix("Location/") })
        let extensions = stored["extension"]?.arrayValue?.compactMap { $0["url"]?.stringValue } ?? []
        #expect(extensions.contains { $0.hasSuffix("is-cancelable") } && extensions.contains { $0.hasSuffix("is-reschedulable") })
        // §2.3 transitions: booked → fulfilled skips a step; booked → arrived is allowed.
        func patch(_ status: String, version: Int) -> FHIRResponse {
            cerner.pipeline.call(
                "PATCH", "Appointment/\(id)", body: #"[{"op":"replace","path":"/status","value":"\#(status)"}]"#,
                headers: .init(ifMatch: "W/\"\(version)\"", contentType: "application/json-patch+json"))
        }
        let skipped = patch("fulfilled", version: 0)
        #expect(skipped.status >= 400 && skipped.status < 500)
        #expect(patch("arrived", version: 0).status == 200)
        #expect(try cerner.pipeline.call("GET", "Appointment/\(id)").json()["status"]?.stringValue == "arrived")
        // The participant type's code system names the profile's tenant, not a constant.
        let tenant = Fixture.profiles["cerner"]!.auth.tenant
        #expect(String(decoding: JSON.object(stored).bytes, as: UTF8.self).contains("https://fhir.cerner.com/\(tenant)/codeSet/14250"))
    }
}
