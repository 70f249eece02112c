"""Epic's STU3 scheduling base (Profiles/epic.yaml, otherBases): $find and $book with Epic's
parameter names, read and search of the results, STU3-shaped resources (validated with
fhir.resources' STU3 models). Each test names the fact it reproduces in
../shared/reference/vendor-quirks.md. The session clock is Monday 2026-04-13 08:00 America/Chicago."""
from datetime import datetime

import pytest

from conftest import Client
from test_vendor_auth import EPIC_BASE, EPIC_TOKEN, backend, epic_id
from test_vendor_epic import EPIC_SYSTEM, epic_codes

STU3_BASE = "/epic/api/FHIR/STU3"
SCOPES = ("system/Patient.read system/Slot.read system/Schedule.read system/Appointment.read "
          "system/Appointment.write")


def epic_client(client, base, release="R4", scope=SCOPES):
    token = backend(client.origin + EPIC_TOKEN, scope).json()["access_token"]
    c = Client(client.origin, base=base, release=release)
    c.session.headers["Authorization"] = f"Bearer {token}"
    return c


@pytest.fixture
def stu3(client):
    return epic_client(client, STU3_BASE, "STU3")


def find_parameters(start="2026-04-14T08:00:00-05:00", end="2026-04-14T18:00:00-05:00", visit_type="FOLLOW_UP", patient=None):
    """A $find body with Epic's names (§1.3): startTime/endTime, serviceType as a CodeableConcept
    in the org's visit-type OID system, patient as a resource with identifiers."""
    parameters = [{"name": "startTime", "valueDateTime": start}, {"name": "endTime", "valueDateTime": end}]
    if visit_type:
        parameters.append({"name": "serviceType", "valueCodeableConcept": {"coding": [
            {"system": "urn:oid:1.2.840.114350.1.13.0.1.7.3.808267.11", "code": visit_type}]}})
    if patient:
        parameters.append({"name": "patient", "resource": patient})
    return {"resourceType": "Parameters", "parameter": parameters}


MARIA = {"resourceType": "Patient", "identifier": [{"system": "http://riverbend.example.org/fhir/sid/mrn", "value": "RB100001"}]}


def proposals(bundle):
    return [e["resource"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == "Appointment"]


def book_parameters(appointment_id, patient_id, note=None):
    """§1.3: $book takes patient and appointment as valueIdentifier.value, appointmentNote as valueString."""
    parameters = [{"name": "patient", "valueIdentifier": {"value": patient_id}},
                  {"name": "appointment", "valueIdentifier": {"value": appointment_id}}]
    if note:
        parameters.append({"name": "appointmentNote", "valueString": note})
    return {"resourceType": "Parameters", "parameter": parameters}


def test_stu3_base_lists_read_only_scheduling_and_hides_the_operations(stu3):
    """§1.3 [EP-CAP3]: STU3 lists Schedule (read), Slot (read), Appointment (read + search by
    date, identifier, patient, status, _id); $find/$book are not advertised. §1.9 (6): two bases."""
    response = stu3.get("metadata", headers={"Accept": "application/fhir+json"})
    assert response.status_code == 200
    statement = response.json()
    assert statement["fhirVersion"] == "3.0.2"
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert sorted(resources) == ["Appointment", "Schedule", "Slot"]
    assert [i["code"] for i in resources["Appointment"]["interaction"]] == ["read", "search-type"]
    assert [i["code"] for i in resources["Slot"]["interaction"]] == ["read"]
    assert sorted(p["name"] for p in resources["Appointment"]["searchParam"]) == ["_id", "date", "identifier", "patient", "status"]
    assert not any("operation" in r for r in resources.values())
    # Slot search is not served on STU3 (read only); R4 has no Slot at all (§1.3).
    assert stu3.get("Slot", params={"status": "free"}).status_code == 405


def test_find_with_epic_names_mints_new_ids_every_call(stu3):
    """§1.3: $find takes startTime/endTime, serviceType (CodeableConcept) and patient (a Patient
    resource with identifiers); it answers a Bundle of proposed Appointments with slot references,
    and every call mints new Appointment ids for the same slots (§1.9 (5)). No outcome entry."""
    first = stu3.post("Appointment/$find", find_parameters(patient=MARIA))
    assert first.status_code == 200, first.text
    options = proposals(first.json())
    assert options and all(e["search"]["mode"] == "match" for e in first.json()["entry"])
    for option in options:
        assert option["status"] == "proposed"
        assert option["id"].startswith("e") and option["id"].endswith("3")
        assert option["slot"] and option["minutesDuration"] == 20
        start, end = datetime.fromisoformat(option["start"]), datetime.fromisoformat(option["end"])
        assert datetime.fromisoformat("2026-04-14T08:00:00-05:00") <= start < end <= datetime.fromisoformat("2026-04-14T18:00:00-05:00")
        assert isinstance(option["serviceType"], list)
        actors = [p["actor"]["reference"] for p in option["participant"]]
        assert f"Patient/{epic_id('pat-0001')}" in actors
    second = proposals(stu3.post("Appointment/$find", find_parameters(patient=MARIA)).json())
    assert [o["slot"] for o in second] == [o["slot"] for o in options]
    assert not {o["id"] for o in second} & {o["id"] for o in options}


def test_find_ignores_an_invalid_optional_parameter_with_59109(stu3):
    """§1.3: an invalid optional parameter appends an information issue 59109 and the filter is ignored."""
    response = stu3.post("Appointment/$find", find_parameters(visit_type="99999"))
    assert response.status_code == 200
    bundle = response.json()
    assert proposals(bundle), "the invalid filter is ignored, so options are still offered"
    outcome = next(e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "outcome")
    assert epic_codes(outcome) == [("information", "59109", EPIC_SYSTEM)]
    assert "Optional serviceType invalid: " in outcome["issue"][0]["diagnostics"]
    assert "99999" in outcome["issue"][0]["diagnostics"]


def test_find_without_availability_is_outcome_entries_only(stu3):
    """§1.3 [EP-FINDSIM]: no availability gives total 0 and only OperationOutcome entries
    (search.mode outcome): "Processing issues." and 4101 (§1.8: 59133, see the profile)."""
    # Sunday: the clinic is closed.
    response = stu3.post("Appointment/$find", find_parameters("2026-04-19T00:00:00-05:00", "2026-04-19T23:00:00-05:00"))
    assert response.status_code == 200
    bundle = response.json()
    assert bundle["total"] == 0
    assert [e["search"]["mode"] for e in bundle["entry"]] == ["outcome"]
    assert epic_codes(bundle["entry"][0]["resource"]) == [
        ("information", "59133", EPIC_SYSTEM), ("warning", "4101", EPIC_SYSTEM)]


def test_find_needs_its_window(stu3):
    """§1.3: startTime and endTime are required; errors name Epic's parameter."""
    body = find_parameters()
    body["parameter"] = [p for p in body["parameter"] if p["name"] != "endTime"]
    response = stu3.post("Appointment/$find", body)
    assert response.status_code == 400
    assert "endTime is required" in response.json()["issue"][0]["diagnostics"]


def test_book_a_find_result_and_read_it_on_both_bases(client, stu3):
    """§1.3: $book takes patient and appointment (valueIdentifier.value) and appointmentNote; it
    answers a Bundle whose first entry is the booked Appointment with minutesDuration, created and
    serviceType. The booking is the same data on the R4 base (read only there)."""
    option = proposals(stu3.post("Appointment/$find", find_parameters(patient=MARIA)).json())[0]
    response = stu3.post("Appointment/$book", book_parameters(option["id"], epic_id("pat-0001"), "Knee pain, left side"))
    assert response.status_code == 200, response.text
    booked = response.json()["entry"][0]["resource"]
    assert booked["status"] == "booked" and booked["slot"] == option["slot"]
    assert booked["minutesDuration"] == 20 and booked["created"] and booked["serviceType"]
    assert booked["comment"] == "Knee pain, left side"
    assert all(p["status"] == "accepted" for p in booked["participant"])
    assert booked["id"] == option["id"]
    assert stu3.get(f"Appointment/{booked['id']}").json()["status"] == "booked"
    found = stu3.get("Appointment", params={"patient": epic_id("pat-0001"), "status": "booked"}).json()
    assert booked["id"] in [e["resource"]["id"] for e in found["entry"] if e["search"]["mode"] == "match"]
    r4 = epic_client(client, EPIC_BASE)
    read = r4.get(f"Appointment/{booked['id']}")
    assert read.status_code == 200 and read.json()["status"] == "booked"
    slot_id = booked["slot"][0]["reference"].split("/")[1]
    assert stu3.get(f"Slot/{slot_id}").json()["status"] == "busy"
    # The same slot is not offered again.
    again = proposals(stu3.post("Appointment/$find", find_parameters(patient=MARIA)).json())
    assert option["slot"] not in [o["slot"] for o in again]


def test_a_slot_is_never_booked_twice_through_stale_find_results(stu3):
    """§1.9 (5): $find ids are ephemeral; two callers holding options on one slot cannot both book it."""
    first = proposals(stu3.post("Appointment/$find", find_parameters()).json())[0]
    second = proposals(stu3.post("Appointment/$find", find_parameters()).json())[0]
    assert first["slot"] == second["slot"] and first["id"] != second["id"]
    assert stu3.post("Appointment/$book", book_parameters(first["id"], epic_id("pat-0001"))).status_code == 200
    late = stu3.post("Appointment/$book", book_parameters(second["id"], epic_id("pat-0002")))
    assert late.status_code == 409
    assert late.json()["resourceType"] == "OperationOutcome"
    # A used $find id is gone.
    assert stu3.post("Appointment/$book", book_parameters(first["id"], epic_id("pat-0003"))).status_code in (404, 409)


def test_book_needs_appointment_write(client):
    """§1.2: writes need a write scope; a read-only token cannot $book (403 insufficient_scope)."""
    reader = epic_client(client, STU3_BASE, "STU3", scope="system/Patient.read system/Slot.read system/Schedule.read system/Appointment.read")
    option = proposals(reader.post("Appointment/$find", find_parameters()).json())[0]
    response = reader.post("Appointment/$book", book_parameters(option["id"], epic_id("pat-0001")))
    assert response.status_code == 403
    assert "insufficient_scope" in response.headers["WWW-Authenticate"]


def practitioners_of(options):
    return {p["actor"]["reference"] for o in options for p in o["participant"] if p["actor"].get("reference", "").startswith("Practitioner/")}


def test_find_takes_the_practitioner_id_the_r4_base_shows(client, stu3):
    """Issue 13, §1.3/§1.4: the id Epic's own R4 Practitioner search returns (an e…3 id) narrows
    $find, as a bare id, a reference or a GET parameter; never "no availability" for a real provider."""
    r4 = epic_client(client, EPIC_BASE, scope="system/Practitioner.read")
    found = r4.get("Practitioner", params={"family": "Okafor"}).json()
    okafor = [e["resource"]["id"] for e in found["entry"] if e["search"]["mode"] == "match"]
    assert len(okafor) == 1 and okafor[0].startswith("e") and okafor[0].endswith("3")
    okafor = okafor[0]
    for value in ({"valueString": okafor}, {"valueReference": {"reference": f"Practitioner/{okafor}"}},
                  {"valueString": f"Practitioner/{okafor}"}):
        body = find_parameters(visit_type=None)
        body["parameter"].append({"name": "practitioner", **value})
        response = stu3.post("Appointment/$find", body)
        assert response.status_code == 200, response.text
        options = proposals(response.json())
        assert options, f"{value}: Okafor has openings on Tuesday"
        assert practitioners_of(options) == {f"Practitioner/{okafor}"}
        assert all(e["search"]["mode"] == "match" for e in response.json()["entry"])
    by_get = stu3.get("Appointment/$find", params={"startTime": "2026-04-14T08:00:00-05:00", "endTime": "2026-04-14T18:00:00-05:00",
                                                  "practitioner": okafor})
    assert by_get.status_code == 200 and practitioners_of(proposals(by_get.json())) == {f"Practitioner/{okafor}"}


def test_find_ignores_an_unknown_provider_or_location_with_59109(stu3):
    """§1.3: an invalid optional parameter (an id Epic did not issue) appends information 59109
    "Optional {element} invalid: {value}" and the filter is ignored: options are still offered."""
    for name, value in (("practitioner", {"valueString": "eUnknownProvider3"}),
                        ("location-reference", {"valueReference": {"reference": "Location/eUnknownPlace3"}})):
        body = find_parameters(visit_type=None)
        body["parameter"].append({"name": name, **value})
        response = stu3.post("Appointment/$find", body)
        assert response.status_code == 200
        bundle = response.json()
        options = proposals(bundle)
        assert options and len(practitioners_of(options)) > 1, "the filter is ignored"
        outcome = next(e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "outcome")
        assert epic_codes(outcome) == [("information", "59109", EPIC_SYSTEM)]
        assert outcome["issue"][0]["diagnostics"].startswith(f"Optional {name} invalid: ")
        assert "Unknown" in outcome["issue"][0]["diagnostics"]


def test_book_ignores_cancelled_appt_id_with_59109_and_cancels_nothing(stu3):
    """§1.3: $book takes patient, appointment and appointmentNote; Epic has no FHIR cancel or
    reschedule, so Argonaut's cancelled-appt-id is ignored with 59109, never acted on."""
    existing = epic_id("appt-0001")
    assert stu3.get(f"Appointment/{existing}").json()["status"] == "booked"
    option = proposals(stu3.post("Appointment/$find", find_parameters(patient=MARIA)).json())[0]
    body = book_parameters(option["id"], epic_id("pat-0001"))
    body["parameter"].append({"name": "cancelled-appt-id", "valueString": f"Appointment/{existing}"})
    response = stu3.post("Appointment/$book", body)
    assert response.status_code == 200, response.text
    entries = response.json()["entry"]
    assert entries[0]["resource"]["status"] == "booked"
    outcome = next(e["resource"] for e in entries if e["search"]["mode"] == "outcome")
    assert epic_codes(outcome) == [("information", "59109", EPIC_SYSTEM)]
    assert outcome["issue"][0]["diagnostics"] == (
        f"Optional cancelled-appt-id invalid: Appointment/{existing} (not a parameter of this operation here; ignored)")
    assert stu3.get(f"Appointment/{existing}").json()["status"] == "booked"


def test_find_takes_epic_visit_type_codes_and_ignores_other_systems_with_59109(stu3):
    """Issue 13, §1.3/§1.10: visit types are org-specific codes in the org's visit-type OID
    system; the sandbox's 95014 "Office Visit" (Profiles/epic.yaml visitTypes) narrows $find and
    the options carry Epic's coding. The same code in another system, or an unknown code, is an
    invalid optional parameter: 59109 and the filter ignored."""
    system = "urn:oid:1.2.840.114350.1.13.0.1.7.3.808267.11"
    body = find_parameters(visit_type=None)
    body["parameter"].append({"name": "serviceType", "valueCodeableConcept": {"coding": [{"system": system, "code": "95014"}]}})
    response = stu3.post("Appointment/$find", body)
    assert response.status_code == 200
    options = proposals(response.json())
    assert options and all(e["search"]["mode"] == "match" for e in response.json()["entry"])
    for option in options:
        codings = option["appointmentType"]["coding"]
        assert [c["code"] for c in codings if c["system"] == system] == ["95014"]
    for coding in ({"system": "urn:oid:1.2.840.114350.1.13.999.1.7.3.808267.11", "code": "95014"}, {"system": system, "code": "12345"}):
        other = find_parameters(visit_type=None)
        other["parameter"].append({"name": "serviceType", "valueCodeableConcept": {"coding": [coding]}})
        bundle = stu3.post("Appointment/$find", other).json()
        assert proposals(bundle), "the filter is ignored"
        outcome = next(e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "outcome")
        assert epic_codes(outcome) == [("information", "59109", EPIC_SYSTEM)]
        assert coding["code"] in outcome["issue"][0]["diagnostics"]


def test_book_refuses_an_insured_only_visit_for_a_patient_without_that_coverage(stu3):
    """Issue 13 (insurance prerequisites) on Epic: the seed's PROCEDURE_CONSULT (Epic visit type
    95015) needs an active Coverage from Prairie, Heartland or Lakeshore. $find for a Medicare
    patient offers no such slot; booking one found for an insured patient on the Medicare
    patient's behalf is refused with Epic's business-rule error (59159)."""
    system = "urn:oid:1.2.840.114350.1.13.0.1.7.3.808267.11"
    def find(patient):
        body = find_parameters("2026-04-15T00:00:00-05:00", "2026-04-23T00:00:00-05:00", visit_type=None)
        body["parameter"] += [{"name": "serviceType", "valueCodeableConcept": {"coding": [{"system": system, "code": "95015"}]}},
                              {"name": "patient", "valueReference": {"reference": f"Patient/{epic_id(patient)}"}}]
        return proposals(stu3.post("Appointment/$find", body).json())
    assert find("pat-0008") == []
    option = find("pat-0001")[0]
    refused = stu3.post("Appointment/$book", book_parameters(option["id"], epic_id("pat-0008")))
    assert refused.status_code == 422, refused.text
    assert epic_codes(refused.json()) == [("fatal", "59159", EPIC_SYSTEM)]
    assert "needs an active Coverage" in refused.json()["issue"][0]["diagnostics"]
    assert stu3.post("Appointment/$book", book_parameters(find("pat-0001")[0]["id"], epic_id("pat-0001"))).status_code == 200


def test_appointments_carry_a_csn(client, stu3):
    """Issue 13, §1.3: "identifier on Appointment is the Epic CSN (contact serial number)": every
    Appointment (a booked one on both bases, a seeded one) shows a stable numeric CSN."""
    option = proposals(stu3.post("Appointment/$find", find_parameters(patient=MARIA)).json())[0]
    booked = stu3.post("Appointment/$book", book_parameters(option["id"], epic_id("pat-0001"))).json()["entry"][0]["resource"]
    r4 = epic_client(client, EPIC_BASE)
    for appointment in (booked, stu3.get(f"Appointment/{booked['id']}").json(), r4.get(f"Appointment/{booked['id']}").json(),
                        r4.get(f"Appointment/{epic_id('appt-0001')}").json()):
        csn = [i for i in appointment["identifier"] if i.get("type", {}).get("text") == "CSN"]
        assert len(csn) == 1 and csn[0]["value"].isdigit() and csn[0]["system"].startswith("urn:oid:1.2.840.114350.")
    first = r4.get(f"Appointment/{booked['id']}").json()["identifier"][0]["value"]
    assert first == stu3.get(f"Appointment/{booked['id']}").json()["identifier"][0]["value"]
    # §1.3, §7 (sched.appointmentSearch): Appointments are found by their CSN, as system|value or
    # with the CSN label; an unknown CSN finds nothing (Epic's empty search: one 4101 outcome).
    system = csn[0]["system"]
    for token in (f"{system}|{first}", f"CSN|{first}"):
        found = stu3.search("Appointment", [("identifier", token)])
        ids = [e["resource"]["id"] for e in found.get("entry", []) if e["resource"]["resourceType"] == "Appointment"]
        assert ids == [booked["id"]], (token, found)
    nothing = stu3.search("Appointment", [("identifier", f"{system}|1000000000")])
    assert [e["resource"]["resourceType"] for e in nothing["entry"]] == ["OperationOutcome"]
