import FHIRCore
import FHIRInteractions
import Testing

@testable import SandboxProfiles

/// Each profile's error dialect at the one exit: the vendor's status and body for an error,
/// other headers kept, successes untouched, a second exit a no-op.
@Suite struct DialectTests {
    func exit(_ profile: String, _ error: FHIRError, headers: [(name: String, value: String)] = []) -> FHIRResponse {
        var response = FHIRResponse.error(error)
        response.headers += headers
        return Fixture.profiles[profile]!.rules.dialect.exit(response)
    }

    @Test func cernerWordsErrorsItsWay() {
        let missing = exit("cerner", FHIRError(.searchCriteriaMissing, "Patient searches need one of: _id"))
        #expect(missing.status == 400 && missing.header("Content-Type")?.hasPrefix("text/plain") == true)
        #expect(String(decoding: missing.body, as: UTF8.self) == "no supported search parameters provided")
        let refused = exit("cerner", FHIRError(.notAcceptable, "JSON only"))
        #expect(refused.status == 406 && refused.body.isEmpty)
        // A stale version is 409; a missing If-Match stays 412 (two kinds, not one).
        #expect(exit("cerner", FHIRError(.preconditionFailed, "stale")).status == 409)
        #expect(exit("cerner", FHIRError(.ifMatchRequired, "If-Match is required")).status == 412)
    }

    @Test func epicCodesCarryItsSystem() throws {
        let notFound = exit("epic", FHIRError(.notFound, "Patient/x is not known"))
        #expect(notFound.status == 404)
        let coding = try #require(try notFound.json()["issue"]?.arrayValue?.first?["details"]?["coding"]?.arrayValue?.first)
        #expect(coding["system"]?.stringValue == "urn:oid:1.2.840.114350.1.13.0.1.7.2.657369" && coding["code"]?.stringValue == "4102")
        let reference = try exit("epic", FHIRError(.referenceNotFound, "Patient/pat-0001 is not a resource")).json()
        #expect(reference["issue"]?.arrayValue?.first?["details"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "59144")
        let unknownType = exit("epic", FHIRError(.unknownType, "no Medication here"))
        #expect(unknownType.status == 404 && unknownType.header("Content-Type") == "text/html")
    }

    @Test func theExitKeepsHeadersPassesSuccessesAndRunsOnce() throws {
        let challenged = exit(
            "epic", FHIRError(.unauthorized, "no token"), headers: [("WWW-Authenticate", "Bearer error=\"invalid_token\"")])
        #expect(challenged.status == 401 && challenged.header("WWW-Authenticate") == "Bearer error=\"invalid_token\"")
        #expect(challenged.headers.filter { $0.name.lowercased() == "content-type" }.count == 1)
        let dialect = Fixture.profiles["cerner"]!.rules.dialect
        let ok = FHIRResponse.json(200, Array("{}".utf8))
        #expect(dialect.exit(ok).status == 200 && dialect.exit(ok).body == ok.body)
        let once = dialect.exit(.error(FHIRError(.preconditionFailed, "stale")))
        let twice = dialect.exit(once)
        #expect(twice.status == once.status && twice.body == once.body)
    }

    @Test func everyLayersErrorOnAVendorBaseIsInItsDialect() throws {
        // A seeding failure, a step's refusal and the engine's error all leave through one exit.
        let cerner = try Fixture.runtime("cerner")
        let unknownContext = cerner.pipeline.call("GET", "Patient", query: [("family", "Martinez"), ("pageContext", "gone")])
        #expect(unknownContext.status == 400 && unknownContext.error == nil)
        let missingCriteria = cerner.pipeline.call("GET", "Patient")
        #expect(missingCriteria.status == 400 && String(decoding: missingCriteria.body, as: UTF8.self).contains("no supported search"))
        let epic = try Fixture.runtime("epic")
        let notFound = try epic.pipeline.call("GET", "Patient/pat-0001").json()
        #expect(notFound["issue"]?.arrayValue?.first?["details"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "4102")
    }
}
