import Testing

@testable import FHIRCore

@Suite struct ValidationTests {
    let validator = StructuralValidator()

    func problems(_ text: String) throws -> [FHIRError.Issue] { validator.validate(try JSONParser.parse(text)) }

    @Test func acceptsValidResources() throws {
        #expect(try problems(#"{"resourceType":"Patient","name":[{"family":"Núñez","given":["José"]}],"birthDate":"1969-04-17"}"#).isEmpty)
        #expect(
            try problems(
                #"{"resourceType":"Appointment","status":"booked","start":"2026-04-14T09:00:00-05:00","end":"2026-04-14T09:20:00-05:00","minutesDuration":20,"participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"}]}"#
            ).isEmpty)
        #expect(try problems(#"{"resourceType":"Patient","_birthDate":{"extension":[{"url":"http://x","valueCode":"UNK"}]}}"#).isEmpty)
    }

    @Test func reportsEveryProblemWithItsPath() throws {
        let issues = try problems(
            #"{"resourceType":"Appointment","minutesDuration":"30 minutes","participant":[{"actor":{"reference":"nope nope"}}],"colour":"red"}"#
        )
        let paths = Set(issues.flatMap(\.expression))
        #expect(
            paths == [
                "Appointment.minutesDuration", "Appointment.participant[0].actor.reference", "Appointment.colour", "Appointment.status",
                "Appointment.participant[0].status",
            ])
        #expect(issues.first { $0.expression == ["Appointment.minutesDuration"] }?.code == "structure")
        #expect(issues.first { $0.expression == ["Appointment.status"] }?.code == "required")
    }

    @Test(arguments: [
        (#"{"resourceType":"Patient","gender":"robot"}"#, "Patient.gender"),
        (#"{"resourceType":"Patient","birthDate":"1984-13-01"}"#, "Patient.birthDate"),
        (#"{"resourceType":"Patient","id":"bad id"}"#, "Patient.id"),
        (#"{"resourceType":"Patient","name":{"family":"x"}}"#, "Patient.name"),
        (#"{"resourceType":"Patient","active":"true"}"#, "Patient.active"),
        (#"{"resourceType":"Patient","name":[]}"#, "Patient.name"),
        (#"{"resourceType":"Patient","name":[{}]}"#, "Patient.name[0]"),
        (#"{"resourceType":"Patient","name":[{"family":""}]}"#, "Patient.name[0].family"),
        (
            #"{"resourceType":"Slot","schedule":{"reference":"Schedule/s"},"status":"free","start":"2026-04-14T09:00:00","end":"2026-04-14T09:20:00Z"}"#,
            "Slot.start"
        ),
        (
            #"{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":"1"}}"#,
            "Observation.valueQuantity.value"
        ),
        (#"{"resourceType":"Patient","text":{"status":"generated","div":"<p>x</p>"}}"#, "Patient.text.div"),
        (#"{"resourceType":"Communication","status":"completed","payload":[{}]}"#, "Communication.payload[0]"),
        (#"{"resourceType":"Patient","contained":[{"resourceType":"Medication"}]}"#, "Patient.contained[0]"),
    ])
    func rejectsInvalidElements(text: String, path: String) throws {
        let issues = try problems(text)
        #expect(issues.contains { $0.expression == [path] }, "\(issues)")
    }

    @Test func everyServedTypeIsInTheModel() {
        for type in [
            "Patient", "Practitioner", "PractitionerRole", "Organization", "Location", "HealthcareService", "Schedule", "Slot",
            "Appointment", "Coverage", "Condition", "Observation", "Communication", "DocumentReference", "Encounter", "Bundle",
        ] {
            #expect(R4Model.shared.types[type] != nil && R4Model.shared.resourceTypes.contains(type))
        }
    }

    @Test func referenceSyntax() {
        #expect(ReferenceSyntax.parse("Patient/p1") == ParsedReference(type: "Patient", id: "p1", version: nil))
        #expect(ReferenceSyntax.parse("http://x/fhir/Patient/p1/_history/2") == ParsedReference(type: "Patient", id: "p1", version: "2"))
        #expect(ReferenceSyntax.parse("patient/p1") == nil)
        #expect(ReferenceSyntax.problem("urn:uuid:abc") == nil)
        #expect(ReferenceSyntax.problem("Patient/") != nil)
    }
}
