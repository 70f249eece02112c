import FHIRCore
import Testing

@testable import FHIRSearch

@Suite struct SearchTests {
    let parser = SearchQueryParser(registry: .r4, zone: TimeZoneRule(identifier: "America/Chicago")!)
    let extractor = IndexExtractor(registry: .r4, zone: .utc)

    func parse(_ type: String, _ parameters: [(String, String)], strict: Bool = false) throws -> SearchQuery {
        try parser.parse(type: type, parameters: parameters.map { (name: $0.0, value: $0.1) }, strict: strict, now: 0)
    }

    @Test func foldingRemovesCaseAndAccents() {
        #expect(StringFolding.fold("Zoë O’Brien-Núñez") == "zoe o'brien-nunez")
        #expect(StringFolding.fold("Østergaard Straße") == "ostergaard strasse")
        #expect(StringFolding.fold("SMITH") == "smith")
    }

    @Test func extractsByShape() throws {
        let patient = try JSONParser.parse(
            #"{"resourceType":"Patient","id":"p1","name":[{"family":"Núñez","given":["José","L."]}],"gender":"male","birthDate":"1969-04","telecom":[{"system":"phone","value":"(309) 555-0142"},{"system":"email","value":"a@example.com"}],"identifier":[{"system":"urn:x","value":"42"}],"generalPractitioner":[{"reference":"Practitioner/d1"}],"active":true}"#
        )
        let entries = extractor.entries(for: patient, type: "Patient")
        #expect(entries.contains(IndexEntry("family", .string(normalized: "nunez", exact: "Núñez"))))
        #expect(entries.contains(IndexEntry("name", .string(normalized: "l.", exact: "L."))))
        #expect(entries.contains(IndexEntry("phone", .token(system: "phone", code: "3095550142"))))
        #expect(!entries.contains { $0.parameter == "phone" && $0.value == .token(system: "email", code: "a@example.com") })
        #expect(entries.contains(IndexEntry("identifier", .token(system: "urn:x", code: "42"))))
        #expect(entries.contains(IndexEntry("active", .token(system: "", code: "true"))))
        #expect(entries.contains(IndexEntry("general-practitioner", .reference(type: "Practitioner", id: "d1"))))
        #expect(entries.contains(IndexEntry("_id", .token(system: "", code: "p1"))))
        let birth = try #require(entries.first { $0.parameter == "birthdate" })
        guard case .date(let lo, let hi) = birth.value else { Issue.record("not a date"); return }
        #expect(InstantFormat.iso(lo) == "1969-04-01T00:00:00.000Z" && InstantFormat.iso(hi) == "1969-05-01T00:00:00.000Z")
    }

    @Test func referenceTargetsFilterIndexes() throws {
        let appointment = try JSONParser.parse(
            #"{"resourceType":"Appointment","status":"booked","participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"},{"actor":{"reference":"Practitioner/d1"},"status":"accepted"}]}"#
        )
        let entries = extractor.entries(for: appointment, type: "Appointment")
        #expect(entries.filter { $0.parameter == "patient" } == [IndexEntry("patient", .reference(type: "Patient", id: "p1"))])
        #expect(entries.filter { $0.parameter == "actor" }.count == 2)
    }

    @Test func periodsAreOpenEnded() throws {
        let role = try JSONParser.parse(#"{"resourceType":"PractitionerRole","period":{"start":"2020-01-01"}}"#)
        let date = try #require(extractor.entries(for: role, type: "PractitionerRole").first { $0.parameter == "date" })
        guard case .date(_, let hi) = date.value else { Issue.record("not a date"); return }
        #expect(hi == Int64.max)
    }

    @Test func parsesValuesModifiersAndResultParameters() throws {
        let query = try parse(
            "Patient",
            [
                ("family:exact", "Núñez"), ("birthdate", "ge1980"), ("identifier", "urn:x|"), ("gender", "male,female"),
                ("_count", "10"), ("_sort", "-birthdate,family"), ("_include", "Patient:organization"), ("_total", "none"),
            ])
        #expect(query.clauses.count == 4)
        #expect(query.clauses[0].modifier == "exact")
        #expect(query.clauses[2].values == [.token(system: "urn:x", code: nil)])
        #expect(query.clauses[3].values.count == 2)
        #expect(query.count == 10 && query.sort.map(\.descending) == [true, false] && query.total == .none)
        #expect(query.includes.first?.parameter.name == "organization")
        #expect(query.applied.count == 8)
        guard case .date(.ge, let lo, _) = query.clauses[1].values[0] else { Issue.record("no date"); return }
        #expect(InstantFormat.iso(lo) == "1980-01-01T06:00:00.000Z")
    }

    @Test func chainsResolveTheirTarget() throws {
        let query = try parse("Appointment", [("patient.family", "garcia")])
        let chain = try #require(query.clauses.first?.chain.first)
        #expect(chain.targetType == "Patient" && chain.clause.parameter.name == "family")
        let typed = try parse("Schedule", [("actor:Practitioner.name", "amara")])
        #expect(typed.clauses.first?.chain.first?.targetType == "Practitioner")
    }

    @Test func unknownParametersWarnOrFail() throws {
        let lenient = try parse("Patient", [("shoe", "11")])
        #expect(lenient.clauses.isEmpty && lenient.warnings.count == 1 && lenient.applied.isEmpty)
        #expect(throws: FHIRError.self) { try parse("Patient", [("shoe", "11")], strict: true) }
    }

    @Test(arguments: [
        ("birthdate", "1980-13"), ("birthdate", "xx1980"), ("_count", "-1"), ("family:fuzzy", "x"), ("_sort", "shoe"),
        ("_include", "Patient:family"), ("_summary", "true"), ("organization", "bad id"), ("active:missing", "maybe"),
        ("organization.name.x", "1"),
    ])
    func badValuesAreErrors(name: String, value: String) {
        #expect(throws: FHIRError.self) { try parse("Patient", [(name, value)]) }
    }

    @Test func escapedCommasAndBars() throws {
        let query = try parse("Patient", [("identifier", #"urn:x|a\|b"#), ("family", #"a\,b"#)])
        #expect(query.clauses[0].values == [.token(system: "urn:x", code: "a|b")])
        #expect(query.clauses[1].values == [.string("a,b")])
    }
}
