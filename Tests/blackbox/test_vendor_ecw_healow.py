"""eClinicalWorks' healow FHIR Scheduling API (Profiles/ecw.yaml, proprietary: healow), the
separate scheduling base beside the read-only facade: Schedule by provider NPI, facility and date
(vendor-quirks §4.3), and — ASSUMPTION (§4.3: shapes not captured) — Slot search, booking and
cancelling, with write-backs answered by eCW's numeric status codes (§4.4). Also the facade's
Patient/$everything (§4.2) and the practice code taken from the seed (§4.1). Every FHIR body is
validated; write-back bodies are checked key by key."""
import os
import shutil
import threading

import requests

from conftest import Client, Sandbox, basic_token
from fhirvalidation import assert_valid
from test_vendor_ecw import BASE, OAUTH

HEALOW = "/ecw/healow/apps/api/v1/fhir/RIVBCD/fhir"
OKAFOR_NPI = "1413124951"
REYES_NPI = "1933766430"
SCOPE = "system/*.read system/*.write"
STATUS_KEYS = {"status", "statusText", "message"}


def healow(client, scope=SCOPE):
    c = Client(client.origin, base=HEALOW)
    c.session.headers["Authorization"] = f"Bearer {basic_token(client.origin, OAUTH + '/token', scope)}"
    return c


def appointment(slot, patient="Patient/pat-0002", **extra):
    body = {"resourceType": "Appointment", "status": "booked", "slot": [{"reference": slot}],
            "participant": [{"actor": {"reference": patient}, "status": "accepted"}]}
    body.update(extra)
    return body


def write(api, method, path, body):
    response = api.request(method, path, data=None if body is None else __import__("json").dumps(body),
                           headers={"Content-Type": "application/json"})
    answer = response.json()
    assert set(answer) in (STATUS_KEYS, STATUS_KEYS | {"resourceType", "id"}), answer
    assert type(answer["status"]) is int
    return response.status_code, answer


def free_slots(api, schedule="sched-okafor-main", count=3):
    bundle = api.search("Slot", {"schedule": schedule, "start": "ge2026-04-14", "_count": str(count)})
    return [e["resource"] for e in bundle["entry"]]


def test_schedule_search_by_provider_npi_facility_and_date(client):
    """§4.3: actor is the provider's NPI, actor.location the facility id (ASSUMPTION: the seed's
    locations numbered from 1), date=geYYYY-MM-DD; type and identifier are unsupported; a
    Practitioner reference is not an NPI."""
    api = healow(client)
    both = api.search("Schedule", {"actor": OKAFOR_NPI, "date": "ge2026-04-13"})
    assert both["type"] == "searchset" and {e["resource"]["id"] for e in both["entry"]} >= {"sched-okafor-main"}
    assert both["link"][0]["url"] == api.base + f"/Schedule?actor={OKAFOR_NPI}&date=ge2026-04-13"
    main = api.search("Schedule", {"actor": OKAFOR_NPI, "actor.location": "1", "date": "ge2026-04-13"})
    assert [e["resource"]["id"] for e in main["entry"]] == ["sched-okafor-main"]
    actors = [a["reference"] for a in main["entry"][0]["resource"]["actor"]]
    assert "Practitioner/pract-okafor" in actors and "Location/loc-main" in actors
    two = api.search("Schedule", {"actor": f"{OKAFOR_NPI},{REYES_NPI}"})
    assert {"sched-okafor-main", "sched-reyes-main"} <= {e["resource"]["id"] for e in two["entry"]}
    for empty in ({"actor": "1000000004"}, {"actor": OKAFOR_NPI, "actor.location": "99"}):
        assert api.search("Schedule", empty)["total"] == 0
    for params, named in (({"actor": OKAFOR_NPI, "type": "x"}, "type"), ({"actor": OKAFOR_NPI, "identifier": "x"}, "identifier"),
                          ({"actor": "Practitioner/pract-okafor"}, "NPI"), ({"date": "ge2026-04-13"}, "actor"),
                          ({"actor": OKAFOR_NPI, "date": "ge04/13/2026"}, "date"), ({"actor": OKAFOR_NPI, "actor.location": "main"},
                                                                                       "facility")):
        refused = api.get("Schedule", params=params)
        assert refused.status_code == 400, (params, refused.text)
        assert named in refused.json()["issue"][0]["diagnostics"]


def test_slot_search_by_schedule_offers_free_slots_and_pages_under_the_scheduling_base(client):
    """ASSUMPTION (§4.3): Slot?schedule={id}&start=... answers free slots (status=free unless
    asked otherwise); continuation links stay on the scheduling base and work; schedule is required."""
    api = healow(client)
    first = api.search("Slot", {"schedule": "sched-okafor-main", "start": "ge2026-04-14", "_count": "3"})
    assert len(first["entry"]) == 3 and all(e["resource"]["status"] == "free" for e in first["entry"])
    assert all(e["fullUrl"].startswith(api.base + "/Slot/") for e in first["entry"])
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    assert following.startswith(api.base + "/Slot?")
    second = api.search(following)
    assert not {e["resource"]["id"] for e in first["entry"]} & {e["resource"]["id"] for e in second["entry"]}
    busy = api.search("Slot", {"schedule": "Schedule/sched-okafor-main", "status": "busy", "_count": "50"})
    assert all(e["resource"]["status"] == "busy" for e in busy.get("entry", []))
    read = api.get("Slot/" + first["entry"][0]["resource"]["id"])
    assert read.status_code == 200 and read.json()["resourceType"] == "Slot"
    missing = api.get("Slot", params={"start": "ge2026-04-14"})
    assert missing.status_code == 400 and "schedule" in missing.json()["issue"][0]["diagnostics"]


def test_booking_answers_numeric_status_codes(client):
    """§4.4: write-backs answer {"status": <code>} instead of an OperationOutcome — 1 SUCCESS with
    the new id, 2 FAILURE (slot taken: 409; a duration as a string), 100 INVALID_PATIENT, 101
    INVALID_PROVIDER, 204 INVALID_DATE_FORMAT, 207 PATIENT_NOT_FOUND; the booked appointment
    reads back as a valid R4 Appointment with the slot's times and the scheduled provider."""
    api = healow(client)
    slot, other = free_slots(api, count=2)
    status, booked = write(api, "POST", "Appointment", appointment("Slot/" + slot["id"]))
    assert status == 200 and booked["status"] == 1 and booked["statusText"] == "SUCCESS" and booked["resourceType"] == "Appointment"
    stored = api.get("Appointment/" + booked["id"])
    assert stored.status_code == 200
    body = stored.json()
    assert body["status"] == "booked" and body["start"] == slot["start"] and body["end"] == slot["end"]
    assert {"Patient/pat-0002", "Practitioner/pract-okafor"} <= {p["actor"]["reference"] for p in body["participant"]}
    status, taken = write(api, "POST", "Appointment", appointment("Slot/" + slot["id"], "Patient/pat-0003"))
    assert status == 409 and taken["status"] == 2 and taken["statusText"] == "FAILURE"
    target = "Slot/" + other["id"]
    cases = [
        (appointment(target, "Patient/pat-9999"), 404, 207, "PATIENT_NOT_FOUND"),
        (appointment(target, "pat-0002"), 400, 100, "INVALID_PATIENT"),
        ({**appointment(target), "participant": [{"actor": {"display": "Maria"}}]}, 400, 100, "INVALID_PATIENT"),
        ({**appointment(target), "participant": [{"actor": {"reference": "Patient/pat-0002"}},
                                                 {"actor": {"identifier": {"value": REYES_NPI}, "type": "Practitioner"}}]},
         400, 101, "INVALID_PROVIDER"),
        (appointment(target, start="2026-04-14 10:00"), 400, 204, "INVALID_DATE_FORMAT"),
        (appointment(target, minutesDuration="30 minutes"), 400, 2, "FAILURE"),
        (appointment(target, status="proposed"), 400, 2, "FAILURE"),
    ]
    for body, http, code, text in cases:
        status, answer = write(api, "POST", "Appointment", body)
        assert (status, answer["status"], answer["statusText"]) == (http, code, text), (body, answer)
    assert "minutesDuration" in write(api, "POST", "Appointment", appointment(target, minutesDuration="30 minutes"))[1]["message"]
    # The provider by NPI, the patient by identifier: accepted.
    status, by_identifiers = write(api, "POST", "Appointment", {
        **appointment(target), "participant": [
            {"actor": {"identifier": {"value": "RB100001"}, "type": "Patient"}},
            {"actor": {"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": OKAFOR_NPI}, "type": "Practitioner"}}]})
    assert status == 200 and by_identifiers["status"] == 1, by_identifiers
    assert any(p["actor"]["reference"] == "Patient/pat-0001" for p in api.get("Appointment/" + by_identifiers["id"]).json()["participant"])
    # A token that may not write: FAILURE with the scope named, 403.
    reader = healow(client, "system/*.read")
    status, denied = write(reader, "POST", "Appointment", appointment("Slot/" + free_slots(api)[0]["id"]))
    assert status == 403 and denied["status"] == 2 and "Appointment" in denied["message"]


def test_a_patient_identifier_on_two_charts_is_201_and_a_second_chart_202(client):
    """§4.4: 202 INVALID_PATIENT_ALREADY_EXIST for a new chart with an existing chart's name and
    birth date (ASSUMPTION: that is the duplicate rule), 204 for a birth date that is not a full
    date; a booking naming the patient by an identifier two charts carry is 201
    INVALID_MULTIPLE_PATIENT_FOUND."""
    api = healow(client)
    chart = {"resourceType": "Patient", "name": [{"family": "Quill", "given": ["Juniper"]}], "birthDate": "1990-05-06",
             "identifier": [{"system": "urn:example:shared", "value": "SHARED-1"}]}
    status, created = write(api, "POST", "Patient", chart)
    assert status == 200 and created["status"] == 1 and created["resourceType"] == "Patient"
    status, again = write(api, "POST", "Patient", chart)
    assert (status, again["status"], again["statusText"]) == (400, 202, "INVALID_PATIENT_ALREADY_EXIST")
    status, bad_date = write(api, "POST", "Patient", {**chart, "birthDate": "05/06/1990"})
    assert (status, bad_date["status"]) == (400, 204)
    status, unnamed = write(api, "POST", "Patient", {"resourceType": "Patient", "birthDate": "1990-05-06"})
    assert (status, unnamed["status"]) == (400, 100)
    status, twin = write(api, "POST", "Patient", {**chart, "name": [{"family": "Quill", "given": ["Rowan"]}]})
    assert twin["status"] == 1, twin
    status, ambiguous = write(api, "POST", "Appointment", {
        **appointment("Slot/" + free_slots(api)[0]["id"]),
        "participant": [{"actor": {"identifier": {"system": "urn:example:shared", "value": "SHARED-1"}, "type": "Patient"}}]})
    assert (status, ambiguous["status"], ambiguous["statusText"]) == (400, 201, "INVALID_MULTIPLE_PATIENT_FOUND")


def test_cancel_reopens_the_slot_and_only_cancellation_is_a_write(client):
    """ASSUMPTION (§4.3): PUT Appointment/{id} with status cancelled cancels (1 SUCCESS) and the
    slot is offered again; cancelling twice is 2 (409); any other change is 2; an unknown id 404."""
    api = healow(client)
    slot = free_slots(api)[0]
    booked = write(api, "POST", "Appointment", appointment("Slot/" + slot["id"]))[1]
    assert slot["id"] not in {s["id"] for s in free_slots(api, count=50)}
    status, cancelled = write(api, "PUT", "Appointment/" + booked["id"],
                              {"resourceType": "Appointment", "status": "cancelled",
                               "cancelationReason": {"text": "Patient request"}})
    assert status == 200 and cancelled["status"] == 1 and cancelled["id"] == booked["id"]
    stored = api.get("Appointment/" + booked["id"]).json()
    assert stored["status"] == "cancelled" and stored["cancelationReason"]["text"] == "Patient request"
    assert slot["id"] in {s["id"] for s in free_slots(api, count=50)}
    assert write(api, "PUT", "Appointment/" + booked["id"], {"resourceType": "Appointment", "status": "cancelled"})[:1] == (409,)
    status, moved = write(api, "PUT", "Appointment/" + booked["id"], {"resourceType": "Appointment", "status": "booked"})
    assert (status, moved["status"]) == (400, 2) and "cancel" in moved["message"]
    status, unknown = write(api, "PUT", "Appointment/no-such-appointment", {"resourceType": "Appointment", "status": "cancelled"})
    assert (status, unknown["status"]) == (404, 2)
    listed = api.search("Appointment", {"patient": "Patient/pat-0002"})
    assert booked["id"] in {e["resource"]["id"] for e in listed["entry"]}


def test_concurrent_bookings_of_one_slot_succeed_once(client):
    """No slot is booked twice: ten agents booking one slot through the scheduling API at once,
    plus test control's slot-taken (the front desk books it first) on another slot."""
    api = healow(client)
    slot, raced = free_slots(api, count=2)
    answers = []

    def book(patient):
        answers.append(write(healow(client), "POST", "Appointment", appointment("Slot/" + slot["id"], patient)))

    threads = [threading.Thread(target=book, args=(f"Patient/pat-00{n:02d}",)) for n in range(10, 20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in answers) == [200] + [409] * 9, answers
    armed = client.admin("POST", "/_admin/faults", {"match": {"profile": "ecw"}, "action": {"type": "slot-taken"}, "times": 1})
    assert armed.status_code == 201, armed.text
    status, stolen = write(api, "POST", "Appointment", appointment("Slot/" + raced["id"]))
    assert (status, stolen["status"]) == (409, 2)


def test_patient_everything_on_the_facade(client):
    """§4.2: $everything on Patient (and Encounter) — the patient and its compartment as one
    searchset, without the types the facade leaves out (no Appointment); _type narrows it; an
    unknown encounter is 404; the CapabilityStatement lists both operations."""
    facade = Client(client.origin, base=BASE)
    facade.session.headers["Authorization"] = f"Bearer {basic_token(client.origin, OAUTH + '/token', 'system/*.read')}"
    everything = facade.get("Patient/pat-0001/$everything")
    assert everything.status_code == 200, everything.text
    bundle = everything.json()
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds[0] == "Patient" and {"Coverage", "Condition"} <= set(kinds) and "Appointment" not in kinds
    assert bundle["total"] == len(bundle["entry"])
    narrowed = facade.get("Patient/pat-0001/$everything", params={"_type": "Coverage"}).json()
    assert {e["resource"]["resourceType"] for e in narrowed["entry"]} == {"Patient", "Coverage"}
    assert facade.get("Patient/pat-0001/$everything", params={"_type": "Appointment"}).status_code == 400
    assert facade.get("Encounter/enc-none/$everything").status_code == 404
    operations = {o["name"] for r in facade.get("metadata").json()["rest"][0]["resource"] for o in r.get("operation", [])}
    assert operations == {"everything"}


def test_the_practice_code_comes_from_the_seed(tmpdir_path):
    """§4.1: the facade, its discovery (issuer = tenant base) and the scheduling base carry the
    practice's code, which is the seed's practiceCode: another seed moves the URLs."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    seed = os.path.join(tmpdir_path, "seed")
    shutil.copytree(os.path.join(root, "Seeds", "default"), seed)
    path = os.path.join(seed, "seed.yaml")
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text.replace("practiceCode: RIVBCD", "practiceCode: FEIGCD"))
    server = Sandbox("--seed", seed, "--profiles", "ecw")
    try:
        assert any("/ecw/fhir/r4/FEIGCD" in line for line in server.lines)
        discovery = requests.get(server.origin + "/ecw/fhir/r4/FEIGCD/.well-known/smart-configuration")
        assert discovery.status_code == 200 and discovery.json()["issuer"] == server.origin + "/ecw/fhir/r4/FEIGCD"
        assert requests.get(server.origin + BASE + "/metadata").status_code == 400
        token = basic_token(server.origin, OAUTH + "/token", "system/*.read")
        schedules = requests.get(server.origin + "/ecw/healow/apps/api/v1/fhir/FEIGCD/fhir/Schedule",
                                 params={"actor": OKAFOR_NPI}, headers={"Authorization": f"Bearer {token}"})
        assert schedules.status_code == 200, schedules.text
        assert_valid(schedules.json())
    finally:
        server.stop()
