import FHIRCore
import FHIRInteractions
import Testing

@testable import SandboxProfiles

/// Each edge step on its own, and in its profile's pipeline over a real tenant.
@Suite struct ContentNegotiationTests {
    @Test func jsonOnlyFormatStep() {
        let step = JSONOnlyFormat()
        func request(accept: String?, format: String? = nil) -> FHIRRequest {
            FHIRRequest(
                method: "GET", segments: ["metadata"], query: format.map { [(name: "_format", value: $0)] } ?? [],
                headers: .init(accept: accept), baseURL: "")
        }
        #expect(step.check(request(accept: "application/fhir+xml"))?.status == 406)
        #expect(step.check(request(accept: nil, format: "xml"))?.status == 406)
        #expect(step.check(request(accept: "application/fhir+json")) == nil)
        #expect(step.check(request(accept: "*/*")) == nil)
        #expect(step.check(request(accept: "application/xml, application/json")) == nil)
    }

    @Test func strictAcceptRefusesAnythingWithoutJSONInTheDialect() throws {
        let cerner = try Fixture.runtime("cerner")
        let refused = cerner.pipeline.call("GET", "Patient/127240001", headers: .init(accept: "text/plain"))
        // §2.8: 406 with an empty body (the profile's dialect), before the engine runs.
        #expect(refused.status == 406 && refused.body.isEmpty)
        #expect(cerner.pipeline.call("GET", "Patient/127240001", headers: .init(accept: "application/json")).status == 200)
    }

    @Test func metadataIsXMLWithoutAcceptWhereTheProfileSaysSo() throws {
        let epic = try Fixture.runtime("epic")
        let bare = epic.pipeline.call("GET", "metadata")
        #expect(bare.status == 200 && bare.header("Content-Type")?.hasPrefix("application/fhir+xml") == true)
        #expect(String(decoding: bare.body, as: UTF8.self).contains("<CapabilityStatement"))
        let json = epic.pipeline.call("GET", "metadata", headers: .init(accept: "application/fhir+json"))
        #expect(try json.json()["resourceType"]?.stringValue == "CapabilityStatement")
        #expect(
            try Fixture.runtime("generic").pipeline.call("GET", "metadata").json()["resourceType"]?.stringValue == "CapabilityStatement")
    }
}

@Suite struct STU3RenderingTests {
    @Test func stu3RenderingReshapesAppointmentsInBundles() throws {
        let bundle = try #require(
            try JSONParser.parse(
                Array(
                    (#"{"resourceType":"Bundle","type":"searchset","timestamp":"2026-04-14T00:00:00Z","entry":[{"resource":"#
                        + #"{"resourceType":"Appointment","status":"cancelled","serviceCategory":[{"text":"a"},{"text":"b"}],"#
                        + #""reasonCode":[{"text":"r"}],"basedOn":[{"reference":"ServiceRequest/1"}],"cancelationReason":{"text":"c"},"#
                        + #""participant":[{"status":"declined","period":{"start":"2026-04-14"}}]}}]}"#).utf8)
            ).objectValue)
        let rendered = STU3Rendering.render(bundle)
        #expect(rendered["timestamp"] == nil)
        let appointment = try #require(rendered["entry"]?.arrayValue?.first?["resource"]?.objectValue)
        #expect(appointment["serviceCategory"]?["text"]?.stringValue == "a")
        #expect(appointment["reason"]?.arrayValue?.count == 1 && appointment["reasonCode"] == nil)
        #expect(appointment["incomingReferral"] != nil && appointment["basedOn"] == nil)
        #expect(appointment["cancelationReason"] == nil)
        #expect(appointment["participant"]?.arrayValue?.first?["period"] == nil)
    }

    @Test func theSTU3BaseServesItsOwnShapeOverTheSameTenant() throws {
        let epic = try Fixture.runtime("epic")
        let stu3 = try #require(epic.otherBases.first?.pipeline)
        let metadata = try stu3.call("GET", "metadata", headers: .init(accept: "application/fhir+json")).json()
        #expect(metadata["fhirVersion"]?.stringValue == "3.0.2")
    }
}

@Suite struct IDRewritingTests {
    @Test func vendorIdsInPathsQueriesBodiesAndHeaders() throws {
        let epic = try Fixture.runtime("epic")
        let ids = epic.ids
        let patient = ids.external("pat-0001", type: "Patient")
        let read = try epic.pipeline.call("GET", "Patient/\(patient)").json()
        #expect(read["id"]?.stringValue == patient)
        // A stored id is not one of the profile's ids: nothing is found under it.
        #expect(epic.pipeline.call("GET", "Patient/pat-0001").status == 404)
        let search = try epic.pipeline.call("GET", "Patient", query: [("_id", patient)]).json()
        let entry = try #require(search["entry"]?.arrayValue?.first)
        #expect(entry["resource"]?["id"]?.stringValue == patient)
        #expect(entry["fullUrl"]?.stringValue == "http://test/base/Patient/\(patient)")
        let appointments = try epic.pipeline.call("GET", "Appointment", query: [("patient", patient)]).json()
        for item in appointments["entry"]?.arrayValue ?? [] where item["search"]?["mode"]?.stringValue == "match" {
            let actors = item["resource"]?["participant"]?.arrayValue?.compactMap { $0["actor"]?["reference"]?.stringValue } ?? []
            #expect(actors.contains("Patient/\(patient)"))
            #expect(!actors.contains { $0.hasSuffix("/pat-0001") })
        }
    }

    @Test func theRewritingStepIsReversibleOnItsOwn() {
        let step = IDRewriting(ids: EpicIDs())
        let shown = EpicIDs().external("pat-0007")
        var request = FHIRRequest(
            method: "GET", segments: ["Patient", shown],
            query: [(name: "general-practitioner", value: "Practitioner/" + EpicIDs().external("prac-okafor"))],
            baseURL: "http://test/base")
        step.rewrite(&request)
        #expect(request.segments == ["Patient", "pat-0007"])
        #expect(request.query.first?.value == "Practitioner/prac-okafor")
        var response = FHIRResponse.json(
            201,
            Array(#"{"resourceType":"Patient","id":"pat-0007","generalPractitioner":[{"reference":"Practitioner/prac-okafor"}]}"#.utf8),
            headers: [("Location", "http://test/base/Patient/pat-0007/_history/1")])
        step.finish(&response, for: request)
        response.flush()
        #expect(response.header("Location") == "http://test/base/Patient/\(shown)/_history/1")
        let body = String(decoding: response.body, as: UTF8.self)
        #expect(body.contains(shown) && body.contains(EpicIDs().external("prac-okafor")) && !body.contains("pat-0007"))
    }
}

@Suite struct PatientRenderingTests {
    @Test func epicShowsItsIdentifiersAndFindsPatientsByThem() throws {
        let epic = try Fixture.runtime("epic")
        let patient = try epic.pipeline.call("GET", "Patient/\(epic.ids.external("pat-0001", type: "Patient"))").json()
        let systems = patient["identifier"]?.arrayValue?.compactMap { $0["system"]?.stringValue } ?? []
        #expect(systems.contains("urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.14"))
        #expect(systems.contains("urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.0"))
        let mrn = try #require(
            patient["identifier"]?.arrayValue?.first { $0["system"]?.stringValue == "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.14" }?[
                "value"]?.stringValue)
        // §1.4: identifier=MRN|value finds the patient.
        let found = try epic.pipeline.call("GET", "Patient", query: [("identifier", "MRN|\(mrn)")]).json()
        #expect(found["entry"]?.arrayValue?.count == 1)
    }

    @Test func cernerTelecomIsDigitsWithTheAddressExtension() throws {
        let cerner = try Fixture.runtime("cerner")
        let patient = try cerner.pipeline.call("GET", "Patient/127240001").json()
        let phones = patient["telecom"]?.arrayValue?.filter { $0["system"]?.stringValue == "phone" } ?? []
        #expect(!phones.isEmpty)
        for phone in phones {
            #expect(phone["value"]?.stringValue?.allSatisfy(\.isNumber) == true)
            #expect(phone["id"]?.stringValue?.hasPrefix("CI-") == true)
        }
    }
}

@Suite struct PagingStyleTests {
    @Test func pagesAreOpaqueContextsAndAnUnknownOneIsAnError() throws {
        let cerner = try Fixture.runtime("cerner")
        let first = try cerner.pipeline.call("GET", "Patient", query: [("family", "Martinez"), ("_count", "1")]).json()
        let links = first["link"]?.arrayValue ?? []
        #expect(links.compactMap { $0["relation"]?.stringValue }.allSatisfy { ["self", "next", "previous"].contains($0) })
        let next = try #require(links.first { $0["relation"]?.stringValue == "next" }?["url"]?.stringValue)
        #expect(next.contains("pageContext=") && next.contains("direction=NEXT") && !next.contains("_page_token"))
        let query = QueryString.parse(String(next.split(separator: "?")[1]))
        let second = cerner.pipeline.call("GET", "Patient", query: query.map { ($0.name, $0.value) })
        #expect(second.status == 200)
        #expect(try second.json()["entry"]?.arrayValue?.first?["resource"]?["id"] != first["entry"]?.arrayValue?.first?["resource"]?["id"])
        let unknown = cerner.pipeline.call(
            "GET", "Patient", query: [("family", "Martinez"), ("pageContext", "nope"), ("direction", "NEXT")])
        #expect(unknown.status == 400)
        #expect(String(decoding: unknown.body, as: UTF8.self).contains("pageContext is unknown or has expired"))
        // A new sandbox of the profile does not know the first one's contexts.
        let other = try Fixture.runtime("cerner")
        #expect(other.pipeline.call("GET", "Patient", query: query.map { ($0.name, $0.value) }).status == 400)
    }
}

@Suite struct CreateRulesTests {
    @Test func aCreateThatBreaksARuleIs422NamingTheElement() throws {
        var rule = CreateRules.Rule()
        rule.required = ["status", "period.start"]
        rule.values = ["status": ["active"]]
        rule.withTime = ["period.start"]
        let step = CreateRules(rules: ["Coverage": rule])
        func check(_ body: String) -> FHIRResponse? {
            step.check(FHIRRequest(method: "POST", segments: ["Coverage"], body: Array(body.utf8), baseURL: ""))
        }
        #expect(check(#"{"resourceType":"Coverage","status":"active","period":{"start":"2026-04-13T08:00:00Z"}}"#) == nil)
        let missing = try #require(check(#"{"resourceType":"Coverage","status":"active"}"#))
        #expect(missing.status == 422 && String(decoding: missing.body, as: UTF8.self).contains("period.start"))
        let value = try #require(check(#"{"resourceType":"Coverage","status":"draft","period":{"start":"2026-04-13T08:00:00Z"}}"#))
        #expect(value.status == 422 && String(decoding: value.body, as: UTF8.self).contains("status"))
        let time = try #require(check(#"{"resourceType":"Coverage","status":"active","period":{"start":"2026-04-13"}}"#))
        #expect(time.status == 422)
        // Other types and other interactions pass.
        #expect(step.check(FHIRRequest(method: "POST", segments: ["Patient"], body: Array("{}".utf8), baseURL: "")) == nil)
    }
}

@Suite struct WriteShapingTests {
    @Test func cernerWritesAnswerEmptyWithVersionsFromZeroAndNeedIfMatch() throws {
        let cerner = try Fixture.runtime("cerner")
        let created = cerner.pipeline.call(
            "POST", "Condition",
            body:
                #"{"resourceType":"Condition","clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},"#
                + #""category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item"}]}],"#
                + #""code":{"text":"knee pain"},"subject":{"reference":"Patient/127240001"}}"#)
        #expect(created.status == 201 && created.body.isEmpty && created.header("ETag") == #"W/"0""#)
        let location = try #require(created.header("Location"))
        // §2.3: the Location names the resource, not a version.
        #expect(!location.contains("/_history/"))
        let id = String(location.split(separator: "/").last ?? "")
        let read = try cerner.pipeline.call("GET", "Condition/\(id)").json()
        #expect(read["meta"]?["versionId"]?.stringValue == "0")
        let patch = #"[{"op":"replace","path":"/telecom/0/value","value":"5551234567"}]"#
        let withoutIfMatch = cerner.pipeline.call(
            "PATCH", "Patient/127240001", body: patch, headers: .init(contentType: "application/json-patch+json"))
        #expect(withoutIfMatch.status == 412)
    }

    @Test func theGenericProfileAnswersWritesAsR4Does() throws {
        let generic = try Fixture.runtime("generic")
        let created = generic.pipeline.call("POST", "Patient", body: #"{"resourceType":"Patient","name":[{"family":"Plain"}]}"#)
        #expect(created.status == 201 && created.header("ETag") == #"W/"1""#)
        #expect(try created.json()["resourceType"]?.stringValue == "Patient")
    }
}
