import FHIRCore
import FHIRSearch
import FHIRStore
import Foundation
import Testing

@testable import FHIRInteractions

/// The REST layer without HTTP: FHIRService on a real in-memory store, a fixed clock and a
/// seeded random source.
@Suite struct InteractionTests {
    let service: FHIRService
    let clock = SandboxClock.fixed(1_776_085_200_000)

    init() throws {
        let store = try ResourceStore(path: nil, extractor: IndexExtractor(registry: .r4, zone: .utc))
        service = FHIRService(
            tenant: Tenant(name: "t", store: store), clock: clock, random: .seeded(7), registry: .r4, zone: .utc,
            capabilities: CapabilityStatementBuilder(registry: .r4, softwareVersion: "test"))
    }

    func call(
        _ method: String, _ path: String, body: String? = nil, query: [(String, String)] = [], headers: FHIRRequest.Headers = .init()
    ) -> FHIRResponse {
        var headers = headers
        if body != nil && headers.contentType == nil { headers.contentType = "application/fhir+json" }
        return service.handle(
            FHIRRequest(
                method: method, segments: path.split(separator: "/").map(String.init), query: query.map { (name: $0.0, value: $0.1) },
                headers: headers, body: body.map { Array($0.utf8) }, baseURL: "http://test/fhir"))
    }

    func json(_ response: FHIRResponse) throws -> JSON { try JSONParser.parse(response.body) }

    @Test func createReadUpdateDeleteWithVersions() throws {
        let created = call("POST", "Patient", body: #"{"resourceType":"Patient","gender":"male"}"#)
        #expect(created.status == 201)
        let id = try #require(try json(created)["id"]?.stringValue)
        #expect(created.header("Location") == "http://test/fhir/Patient/\(id)/_history/1")
        #expect(try json(created)["meta"]?["lastUpdated"]?.stringValue == "2026-04-13T13:00:00.000Z")
        let updated = call(
            "PUT", "Patient/\(id)", body: #"{"resourceType":"Patient","id":"\#(id)","gender":"female"}"#,
            headers: .init(ifMatch: "W/\"1\""))
        #expect(updated.status == 200 && updated.header("ETag") == "W/\"2\"")
        #expect(
            call("PUT", "Patient/\(id)", body: #"{"resourceType":"Patient","id":"\#(id)"}"#, headers: .init(ifMatch: "1")).status == 412)
        #expect(call("DELETE", "Patient/\(id)").status == 204)
        #expect(call("GET", "Patient/\(id)").status == 410)
        #expect(call("GET", "Patient/\(id)/_history/2").status == 200)
        #expect(try json(call("GET", "Patient/\(id)/_history"))["entry"]?.arrayValue?.count == 3)
    }

    @Test func routesClassifyAndFail() throws {
        let supports: (String) -> Bool = { SearchRegistry.r4.supports($0) }
        #expect(
            try Route.classify(method: "GET", segments: ["Patient", "1", "_history", "2"], supports: supports)
                == .vread(type: "Patient", id: "1", version: "2"))
        #expect(try Route.classify(method: "POST", segments: ["Patient", "_search"], supports: supports) == .search(type: "Patient"))
        #expect(try Route.classify(method: "POST", segments: [], supports: supports) == .batch)
        #expect(
            try Route.classify(method: "GET", segments: ["Appointment", "$find"], supports: supports)
                == .operation(name: "find", type: "Appointment", id: nil))
        #expect(throws: FHIRError.self) { try Route.classify(method: "GET", segments: ["Medication"], supports: supports) }
        #expect(throws: FHIRError.self) { try Route.classify(method: "DELETE", segments: ["Patient"], supports: supports) }
        #expect(throws: FHIRError.self) { try Route.classify(method: "GET", segments: ["Patient", "a b"], supports: supports) }
    }

    @Test func everyRouteAppearsInTheCapabilityStatement() throws {
        let statement = service.capabilities.statement(baseURL: "http://test", now: 0)
        let rest = try #require(statement["rest"]?.arrayValue?.first)
        let system = Set((rest["interaction"]?.arrayValue ?? []).compactMap { $0["code"]?.stringValue })
        let resource = try #require(rest["resource"]?.arrayValue?.first { $0["type"]?.stringValue == "Patient" })
        let typeCodes = Set((resource["interaction"]?.arrayValue ?? []).compactMap { $0["code"]?.stringValue })
        let routes: [Route] = [
            .batch, .systemHistory, .search(type: "Patient"), .create(type: "Patient"), .typeHistory(type: "Patient"),
            .read(type: "Patient", id: "x"), .vread(type: "Patient", id: "x", version: "1"), .update(type: "Patient", id: "x"),
            .patch(type: "Patient", id: "x"), .delete(type: "Patient", id: "x"), .instanceHistory(type: "Patient", id: "x"),
        ]
        #expect(Set(routes.flatMap(\.interactionCodes)) == system.union(typeCodes))
        let listed = Set((resource["searchParam"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
        #expect(listed == Set(SearchRegistry.r4.parameters(of: "Patient").map(\.name)))
    }

    @Test func transactionRollsBackEverything() throws {
        let bundle = #"""
            {"resourceType":"Bundle","type":"transaction","entry":[
              {"resource":{"resourceType":"Patient","gender":"male"},"request":{"method":"POST","url":"Patient"}},
              {"request":{"method":"DELETE","url":"Patient/missing"}}]}
            """#
        let response = call("POST", "", body: bundle)
        #expect(response.status == 404)
        #expect(try service.store.count(type: "Patient") == 0)
    }

    @Test func jsonPatchOperations() throws {
        let document = try JSONParser.parse(#"{"a":{"b":[1,2]},"c":"x"}"#)
        let operations = try JSONPatch.operations(
            try JSONParser.parse(
                #"[{"op":"add","path":"/a/b/1","value":9},{"op":"remove","path":"/c"},{"op":"copy","from":"/a/b","path":"/d"},{"op":"move","from":"/d","path":"/e~1f"},{"op":"test","path":"/a/b/0","value":1}]"#
            ))
        let patched = try JSONPatch.apply(operations, to: document)
        #expect(patched.text == #"{"a":{"b":[1,9,2]},"e/f":[1,9,2]}"#)
        #expect(throws: FHIRError.self) {
            try JSONPatch.apply(try JSONPatch.operations(try JSONParser.parse(#"[{"op":"remove","path":"/nope"}]"#)), to: document)
        }
    }

    @Test func preferAndQueryStringParsing() {
        #expect(Prefer(header: "return=minimal, handling=strict") == Prefer(returnPreference: .minimal, strict: true))
        #expect(Prefer(header: "return=\"OperationOutcome\"").returnPreference == .operationOutcome)
        #expect(Prefer(header: nil).strict == nil)
        let parsed = QueryString.parse("a=1&b=x%20y+z&c&d=%zz")
        #expect(parsed.map(\.name) == ["a", "b", "c", "d"] && parsed[1].value == "x y z" && parsed[3].value == "%zz")
        #expect(QueryString.encode([("family", "o'brien & co"), ("id", "a|b")]) == "family=o%27brien%20%26%20co&id=a|b")
    }
}

@Suite struct BoundedCacheTests {
    @Test func dropsTheLeastRecentlyUsedBeyondCapacity() {
        let cache = BoundedCache<Int>(capacity: 2)
        cache.store(1, for: "a")
        cache.store(2, for: "b")
        #expect(cache.value(for: "a") == 1)  // a is now the most recently used
        cache.store(3, for: "c")
        #expect(cache.value(for: "b") == nil && cache.value(for: "a") == 1 && cache.value(for: "c") == 3)
        cache.store(4, for: "a")  // storing again does not count a twice
        cache.store(5, for: "d")
        #expect(cache.value(for: "a") == 4 && cache.value(for: "c") == nil && cache.value(for: "d") == 5)
        cache.removeAll()
        #expect(cache.value(for: "a") == nil)
    }

    /// Thousands of mixed stores and reads agree with a plain LRU list, through the queue's compactions.
    @Test func agreesWithAReferenceLRUOverManyOperations() {
        let cache = BoundedCache<Int>(capacity: 8)
        var reference: [(key: String, value: Int)] = []
        var generator = SystemRandomNumberGenerator()
        for step in 0..<20_000 {
            let key = "k\(Int.random(in: 0..<20, using: &generator))"
            if Bool.random(using: &generator) {
                cache.store(step, for: key)
                reference.removeAll { $0.key == key }
                reference.append((key, step))
                if reference.count > 8 { reference.removeFirst() }
            } else {
                let expected = reference.first { $0.key == key }?.value
                #expect(cache.value(for: key) == expected)
                if let index = reference.firstIndex(where: { $0.key == key }) { reference.append(reference.remove(at: index)) }
            }
        }
    }
}

/// Operation parameter names a profile renames.
@Suite struct VendorSurfaceTests {
    func parameters(_ json: String) throws -> OperationParameters {
        try OperationParameters.from(parameters: #require(try JSONParser.parse(Array(json.utf8)).objectValue))
    }

    @Test func aliasesRenameAndRememberTheClientsSpelling() throws {
        var input = try parameters(
            #"{"resourceType":"Parameters","parameter":[{"name":"startTime","valueDateTime":"2026-04-14"},"#
                + #"{"name":"ServiceType","valueCodeableConcept":{"coding":[{"system":"urn:oid:1.2","code":"95014"}]}},"#
                + #"{"name":"reason","valueCodeableConcept":{"text":"knee pain"}},"#
                + #"{"name":"appointment","valueIdentifier":{"value":"abc"}}]}"#)
        input.rename([
            .init("startTime", "start"), .init("endTime", "end"), .init("serviceType", "service-type"),
            .init("ServiceType", "service-type"),
            .init("appointment", "appt-id"),
        ])
        #expect(input.string("start") == "2026-04-14")
        #expect(input.string("startTime") == nil)
        #expect(input.string("service-type") == "urn:oid:1.2|95014")
        #expect(input.string("reason") == "knee pain")
        #expect(input.string("appt-id") == "abc")
        // Sent: the client's alias; not sent: the first alias listed; no alias: the name itself.
        #expect(input.spelling(of: "service-type") == "ServiceType")
        #expect(input.spelling(of: "end") == "endTime")
        #expect(input.spelling(of: "reason") == "reason")
    }
}
