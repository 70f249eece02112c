import FHIRCore
import FHIRSearch
import Foundation
import Testing

@testable import FHIRStore

/// Real code on real storage: an in-memory SQLite database behind the real store.
@Suite struct StoreTests {
    let zone = TimeZoneRule.utc
    var store: ResourceStore

    init() throws {
        store = try ResourceStore(path: nil, extractor: IndexExtractor(registry: .r4, zone: .utc))
    }

    func put(_ text: String, version: Int = 1, at time: Int64 = 1_000) throws {
        let json = try JSONParser.parse(text)
        let type = json["resourceType"]!.stringValue!
        let id = json["id"]!.stringValue!
        try store.write { tx throws(FHIRError) in
            try tx.put(
                type, id, version: version, lastUpdated: time, method: version == 1 ? "POST" : "PUT", resource: json, body: json.bytes)
        }
    }

    func search(_ type: String, _ parameters: [(String, String)]) throws -> [String] {
        let query = try SearchQueryParser(registry: .r4, zone: zone).parse(
            type: type, parameters: parameters.map { (name: $0.0, value: $0.1) }, strict: true, now: 0)
        return try store.search(query).map(\.id)
    }

    @Test func keepsEveryVersionAndServesTheCurrentOne() throws {
        try put(#"{"resourceType":"Patient","id":"a","gender":"male"}"#)
        try put(#"{"resourceType":"Patient","id":"a","gender":"female"}"#, version: 2, at: 2_000)
        let current = try #require(try store.read("Patient", "a"))
        #expect(current.version == 2 && current.lastUpdated == 2_000)
        #expect(String(decoding: current.body!, as: UTF8.self).contains("female"))
        let first = try #require(try store.read("Patient", "a", version: 1))
        #expect(String(decoding: first.body!, as: UTF8.self).contains("\"male\""))
        #expect(try store.history(type: "Patient", id: "a", since: nil, limit: 10).versions.map(\.version) == [2, 1])
        let newest = try store.history(type: "Patient", id: "a", since: nil, limit: 1)
        #expect(newest.versions.map(\.version) == [2] && newest.next != nil)
        let older = try store.history(type: "Patient", id: "a", since: nil, before: newest.next, limit: 1)
        #expect(older.versions.map(\.version) == [1] && older.next == nil)
        #expect(try search("Patient", [("gender", "male")]).isEmpty)
        #expect(try search("Patient", [("gender", "female")]) == ["a"])
    }

    @Test func deletionIsAVersionAndLeavesTheIndexes() throws {
        try put(#"{"resourceType":"Patient","id":"a","gender":"male"}"#)
        try store.write { tx throws(FHIRError) in try tx.delete("Patient", "a", version: 2, lastUpdated: 5_000) }
        let current = try #require(try store.read("Patient", "a"))
        #expect(current.deleted && current.body == nil && current.version == 2)
        #expect(try search("Patient", [("gender", "male")]).isEmpty)
        #expect(try store.history(type: nil, id: nil, since: 4_000, limit: 10).versions.map(\.method) == ["DELETE"])
    }

    @Test func aFailedWriteLeavesNothingBehind() throws {
        try put(#"{"resourceType":"Patient","id":"a"}"#)
        #expect(throws: FHIRError.self) {
            try store.write { tx throws(FHIRError) in
                let json = try! JSONParser.parse(#"{"resourceType":"Patient","id":"b"}"#)
                try tx.put("Patient", "b", version: 1, lastUpdated: 1, method: "POST", resource: json, body: json.bytes)
                throw FHIRError(.conflict, "no")
            }
        }
        #expect(try store.read("Patient", "b") == nil)
        #expect(try store.count(type: "Patient") == 1)
    }

    @Test func dateComparatorsFollowR4Semantics() throws {
        try put(#"{"resourceType":"Patient","id":"y1980","birthDate":"1980"}"#)
        try put(#"{"resourceType":"Patient","id":"d1980","birthDate":"1980-06-15"}"#)
        try put(#"{"resourceType":"Patient","id":"d1981","birthDate":"1981-01-01"}"#)
        #expect(try search("Patient", [("birthdate", "1980")]) == ["y1980", "d1980"])
        #expect(try search("Patient", [("birthdate", "1980-06-15")]) == ["d1980"])
        #expect(try search("Patient", [("birthdate", "ne1980")]) == ["d1981"])
        #expect(try search("Patient", [("birthdate", "gt1980-06-15")]) == ["y1980", "d1981"])
        #expect(try search("Patient", [("birthdate", "lt1980-06-15")]) == ["y1980"])
        #expect(try search("Patient", [("birthdate", "sa1980-12-31")]) == ["d1981"])
        #expect(try search("Patient", [("birthdate", "eb1980-06-15")]) == [])
        #expect(try search("Patient", [("birthdate", "ge1980-06-15")]) == ["y1980", "d1980", "d1981"])
        #expect(try search("Patient", [("birthdate", "le1980-06-15")]) == ["y1980", "d1980"])
    }

    @Test func stringTokenReferenceAndChain() throws {
        try put(#"{"resourceType":"Practitioner","id":"d1","name":[{"family":"Okafor","given":["Amara"]}]}"#)
        try put(
            #"{"resourceType":"PractitionerRole","id":"r1","practitioner":{"reference":"Practitioner/d1"},"specialty":[{"coding":[{"system":"http://snomed.info/sct","code":"419772000"}]}]}"#
        )
        try put(#"{"resourceType":"PractitionerRole","id":"r2","specialty":[{"coding":[{"system":"urn:other","code":"419772000"}]}]}"#)
        #expect(try search("Practitioner", [("name", "OKA")]) == ["d1"])
        #expect(try search("Practitioner", [("name:contains", "maR")]) == ["d1"])
        #expect(try search("Practitioner", [("family:exact", "okafor")]) == [])
        #expect(try search("PractitionerRole", [("specialty", "419772000")]) == ["r1", "r2"])
        #expect(try search("PractitionerRole", [("specialty", "http://snomed.info/sct|419772000")]) == ["r1"])
        #expect(try search("PractitionerRole", [("specialty:not", "http://snomed.info/sct|419772000")]) == ["r2"])
        #expect(try search("PractitionerRole", [("practitioner", "d1")]) == ["r1"])
        #expect(try search("PractitionerRole", [("practitioner:missing", "true")]) == ["r2"])
        #expect(try search("PractitionerRole", [("practitioner.family", "oka")]) == ["r1"])
    }

    @Test func numberParametersUseImplicitPrecision() throws {
        // No served R4 type has a `number` parameter, so a test registry adds one.
        let registry = SearchRegistry(["Observation": [SearchParameter("value-integer", .number, ["valueInteger"])]])
        let numbers = try ResourceStore(path: nil, extractor: IndexExtractor(registry: registry, zone: zone))
        for (id, value) in [("o1", "99"), ("o2", "100"), ("o3", "101")] {
            let json = try JSONParser.parse(#"{"resourceType":"Observation","id":"\#(id)","valueInteger":\#(value)}"#)
            try numbers.write { tx throws(FHIRError) in
                try tx.put("Observation", id, version: 1, lastUpdated: 1, method: "POST", resource: json, body: json.bytes)
            }
        }
        func find(_ value: String) throws -> [String] {
            let query = try SearchQueryParser(registry: registry, zone: zone).parse(
                type: "Observation", parameters: [(name: "value-integer", value: value)], strict: true, now: 0)
            return try numbers.search(query).map(\.id)
        }
        #expect(try find("100") == ["o2"])
        #expect(try find("1e2") == ["o2"])
        #expect(try find("gt99") == ["o2", "o3"])
        #expect(try find("le100") == ["o1", "o2"])
        #expect(try find("ne100") == ["o1", "o3"])
        #expect(try find("ap100") == ["o1", "o2", "o3"])
        #expect(throws: FHIRError.self) { try find("hundred") }
    }

    @Test func sortingAndIncludes() throws {
        try put(#"{"resourceType":"Organization","id":"o1","name":"Org"}"#)
        try put(#"{"resourceType":"Patient","id":"b","birthDate":"1990","managingOrganization":{"reference":"Organization/o1"}}"#)
        try put(#"{"resourceType":"Patient","id":"a","birthDate":"1970"}"#)
        let query = try SearchQueryParser(registry: .r4, zone: zone).parse(
            type: "Patient", parameters: [(name: "_sort", value: "-birthdate")], strict: true, now: 0)
        let keys = try store.search(query)
        #expect(keys.map(\.id) == ["b", "a"])
        #expect(try store.included(from: keys, parameter: "organization", targetType: nil).map(\.id) == ["o1"])
        let org = try store.search(SearchQuery(type: "Organization"))
        #expect(try store.revIncluded(org, sourceType: "Patient", parameter: "organization").map(\.id) == ["b"])
    }

    @Test func reindexKeepsResultsAndRestoreResets() throws {
        try put(#"{"resourceType":"Patient","id":"a","name":[{"family":"Núñez"}],"birthDate":"1980"}"#)
        let snapshot = try ResourceStore(path: nil, extractor: store.extractor)
        try snapshot.restore(from: store)
        try put(#"{"resourceType":"Patient","id":"b","name":[{"family":"Nunez"}]}"#)
        let before = try search("Patient", [("family", "nunez")])
        #expect(try store.reindex() == 2)
        #expect(try search("Patient", [("family", "nunez")]) == before)
        try store.restore(from: snapshot)
        #expect(try search("Patient", [("family", "nunez")]) == ["a"])
    }

    @Test func fileStoresSurviveReopening() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("t.sqlite").path
        do {
            let file = try ResourceStore(path: path, extractor: store.extractor)
            let json = try JSONParser.parse(#"{"resourceType":"Patient","id":"a"}"#)
            try file.write { tx throws(FHIRError) in
                try tx.put("Patient", "a", version: 1, lastUpdated: 1, method: "POST", resource: json, body: json.bytes)
            }
            try file.setMetadata("seed", "test")
        }
        let reopened = try ResourceStore(path: path, extractor: store.extractor)
        #expect(try reopened.read("Patient", "a")?.version == 1)
        #expect(try reopened.metadata("seed") == "test")
    }
}
