import ChangeFeeds
import FHIRCore
import FHIRInteractions
import Testing

@testable import SandboxProfiles

/// The athena strategies without HTTP: the proprietary API's parameter parsing and envelopes,
/// the subscription topics' triggers, and the identifiers derived from vendor ids.
@Suite struct AthenaAPITests {
    @Test func datesAreMonthDayYearAndValidated() {
        #expect(AthenaAPI.day("03/12/1984") == CivilCalendar.daysFromCivil(year: 1984, month: 3, day: 12))
        #expect(AthenaAPI.date(CivilCalendar.daysFromCivil(year: 2026, month: 4, day: 14)) == "04/14/2026")
        for bad in ["1984-03-12", "3/12/1984", "02/30/2026", "13/01/2026", ""] { #expect(AthenaAPI.day(bad) == nil, "\(bad)") }
    }

    @Test func formBodiesAndTheQueryAreRead() {
        let access = Access(grants: [], patient: nil, client: "c")
        let form = ProprietaryRequest(
            method: "PUT", segments: ["195900", "appointments", "1"], query: [("patientid", "1")],
            body: Array("patientid=60178&bookingnote=a+b".utf8),
            contentType: "application/x-www-form-urlencoded; charset=utf-8", baseURL: "http://h:1/athena/v1", access: access)
        #expect(form.value("patientid") == "60178" && form.value("bookingnote") == "a b")
        #expect(form.basePath == "/athena/v1")
        let json = ProprietaryRequest(
            method: "PUT", segments: [], query: [], body: Array("{}".utf8), contentType: "application/json", baseURL: "http://h:1/x",
            access: access)
        #expect(json.form == nil)
    }

    @Test func routesAreClassifiedForTestControl() throws {
        let api = AthenaAPI(context: try Fixture.proprietaryContext("athena"))
        #expect(api.classify(method: "PUT", segments: ["195900", "appointments", "123"])! == ("Appointment", "update"))
        #expect(api.classify(method: "GET", segments: ["195900", "appointments", "open"])! == ("Appointment", "search-type"))
        #expect(api.classify(method: "POST", segments: ["195900", "appointments", "1", "notes"])! == ("Communication", "create"))
        #expect(api.classify(method: "DELETE", segments: ["195900", "x"]) == nil)
    }

    /// §3.7: each status change is one topic's event.
    @Test func topicTriggersFollowTheStatusChange() {
        let topics = AthenaSubscriptions(seed: nil, profile: Profile(name: "athena", fhirBase: "/a"), random: .seeded(1)).topics
        func fired(_ old: JSONObject?, _ new: JSONObject) -> [String] {
            topics.filter { $0.resourceType == "Appointment" && $0.trigger(old, new) }.map(\.code)
        }
        let booked = JSONObject(["status": .string("booked"), "start": .string("2026-04-14T08:00:00-05:00")])
        var cancelled = booked
        cancelled["status"] = .string("cancelled")
        var rescheduled = cancelled
        rescheduled["cancelationReason"] = .object(JSONObject(["text": .string("Rescheduled: conflict")]))
        var moved = booked
        moved["start"] = .string("2026-04-15T08:00:00-05:00")
        var arrived = booked
        arrived["status"] = .string("checked-in")
        #expect(fired(nil, booked) == ["Appointment.schedule"])
        #expect(fired(booked, cancelled) == ["Appointment.cancel"])
        #expect(fired(booked, rescheduled) == ["Appointment.reschedule"])
        #expect(fired(booked, moved) == ["Appointment.reschedule"])
        #expect(fired(booked, arrived) == ["Appointment.check-in"])
        #expect(fired(booked, booked) == ["Appointment.update"])
    }

    @Test func idIdentifiersAreShownAndSearched() {
        let step = IDIdentifiers(rules: [.init(type: "Patient", system: "urn:x:patient", prefix: "a-1.E-")])
        var request = FHIRRequest(
            method: "GET", segments: ["Patient"], query: [("identifier", "urn:x:patient|60178,urn:x:patient|60179")], baseURL: "http://t")
        step.rewrite(&request)
        #expect(request.query.map { $0.name } == ["_id"] && request.query[0].value == "a-1.E-60178,a-1.E-60179")
        var other = FHIRRequest(method: "GET", segments: ["Patient"], query: [("identifier", "urn:other|1")], baseURL: "http://t")
        step.rewrite(&other)
        #expect(other.query[0].name == "identifier")
        var response = FHIRResponse.json(
            200, JSON.object(JSONObject(["resourceType": .string("Patient"), "id": .string("a-1.E-60178")])).bytes)
        step.finish(&response, for: request)
        #expect(response.jsonBody()?["identifier"]?.arrayValue?.first?["value"]?.stringValue == "60178")
    }
}
