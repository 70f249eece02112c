"""One voice-agent booking call per vendor profile, end to end, the vendor's way: authenticate as
a SMART backend client, find the caller, find availability, book, read it back, cancel. Every
FHIR body is validated (R4, or STU3 on Epic's scheduling base). Facts: ../shared/reference/
vendor-quirks.md. The session clock is Monday 2026-04-13 08:00 America/Chicago."""
from conftest import Client
from test_vendor_auth import EPIC_BASE, EPIC_TOKEN, backend
from test_vendor_epic import EPIC_SYSTEM, epic_codes
from test_vendor_epic_stu3 import STU3_BASE

EPIC_SCOPES = ("system/Patient.read system/Patient.search system/Slot.read system/Schedule.read system/Appointment.read "
               "system/Appointment.write")


def match_entries(bundle):
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


def test_epic_call_finds_the_caller_books_on_stu3_and_cannot_cancel_through_fhir(client):
    """Epic (§1): backend token (§1.2, Epic-style scope string back); Patient search with a minimum
    data set (§1.4: given+family+birthdate; the two Maria Garcias are told apart by birth date);
    availability and booking through $find/$book on the STU3 base with Epic's parameter names
    (§1.3); the booking read back on R4 (§1.9 (6): two bases); cancel: R4 has no Appointment update
    or patch (§1.3), so the agent gets Epic's 405/4100 and must hand the call to staff."""
    token = backend(client.origin + EPIC_TOKEN, EPIC_SCOPES)
    assert token.status_code == 200 and token.json()["token_type"] == "bearer"
    assert "Appointment.read" in token.json()["scope"].split(" ")
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    r4 = Client(client.origin, base=EPIC_BASE)
    stu3 = Client(client.origin, base=STU3_BASE, release="STU3")
    r4.session.headers.update(headers)
    stu3.session.headers.update(headers)

    # "Hi, this is Maria Garcia." A name alone is not enough for Epic.
    refused = r4.get("Patient", params={"given": "Maria", "family": "Garcia"})
    assert refused.status_code == 400 and epic_codes(refused.json()) == [("fatal", "59159", EPIC_SYSTEM)]
    # "My date of birth is July 30th, 1991."
    found = match_entries(r4.get("Patient", params={"given": "Maria", "family": "Garcia", "birthdate": "1991-07-30"}).json())
    assert len(found) == 1 and found[0]["birthDate"] == "1991-07-30"
    patient = found[0]

    # "Do you have anything Thursday morning for a follow-up?"
    find = stu3.post("Appointment/$find", {"resourceType": "Parameters", "parameter": [
        {"name": "patient", "resource": {"resourceType": "Patient", "id": patient["id"]}},
        {"name": "startTime", "valueDateTime": "2026-04-16T08:00:00-05:00"},
        {"name": "endTime", "valueDateTime": "2026-04-16T12:00:00-05:00"},
        {"name": "serviceType", "valueCodeableConcept": {"coding": [
            {"system": "urn:oid:1.2.840.114350.1.13.0.1.7.3.808267.11", "code": "FOLLOW_UP"}]}}]})
    assert find.status_code == 200, find.text
    options = match_entries(find.json())
    assert options and all(o["status"] == "proposed" for o in options)
    chosen = options[0]

    # "The first one works." Book it with the agent's note.
    book = stu3.post("Appointment/$book", {"resourceType": "Parameters", "parameter": [
        {"name": "patient", "valueIdentifier": {"value": patient["id"]}},
        {"name": "appointment", "valueIdentifier": {"value": chosen["id"]}},
        {"name": "appointmentNote", "valueString": "Booked by voice agent: follow-up for blood pressure"}]})
    assert book.status_code == 200, book.text
    booked = book.json()["entry"][0]["resource"]
    assert booked["status"] == "booked" and booked["start"] == chosen["start"]

    # Read it back on R4, and find it among the patient's appointments.
    read = r4.get(f"Appointment/{booked['id']}")
    assert read.status_code == 200 and read.json()["status"] == "booked"
    assert any(p["actor"]["reference"] == f"Patient/{patient['id']}" for p in read.json()["participant"])
    listed = match_entries(r4.get("Appointment", params={"patient": patient["id"], "date": "2026-04-16"}).json())
    assert booked["id"] in [a["id"] for a in listed]

    # "Actually, cancel that." Epic has no FHIR cancel (a proprietary web service, §1.3).
    cancel = r4.patch(f"Appointment/{booked['id']}", [{"op": "replace", "path": "/status", "value": "cancelled"}])
    assert cancel.status_code == 405 and epic_codes(cancel.json()) == [("fatal", "4100", EPIC_SYSTEM)]
    assert r4.get(f"Appointment/{booked['id']}").json()["status"] == "booked"


def test_cerner_call_finds_the_caller_holds_books_reads_and_cancels(client):
    """Oracle Health / Cerner (§2): backend token with SMART v1 scopes (§2.2, 570 s); Patient search
    where each parameter appears once with one value (§2.4); free slots by service-type with a
    start ge+lt pair, with their Schedules (§2.3); hold by Slot JSON Patch with If-Match; book by
    POST Appointment (201, empty body: GET the Location); read it back by patient + date pair;
    cancel by JSON Patch with If-Match (the slot frees)."""
    from test_vendor_auth import CERNER_AUTH, CERNER_BASE
    scopes = ("system/Patient.read system/Slot.read system/Slot.write system/Schedule.read system/Appointment.read "
              "system/Appointment.write")
    token = backend(client.origin + CERNER_AUTH + "/token", scopes)
    assert token.status_code == 200 and token.json()["expires_in"] == 570
    cerner = Client(client.origin, base=CERNER_BASE)
    cerner.session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    # "This is Maria Garcia, born July 30th, 1991."
    found = match_entries(cerner.search("Patient", [("family", "Garcia"), ("given", "Maria"), ("birthdate", "1991-07-30")]))
    assert len(found) == 1 and found[0]["id"].isdigit()
    patient = found[0]["id"]

    # "Anything Thursday morning?" Free slots only, sorted by start, with their Schedules.
    bundle = cerner.search("Slot", [("service-type", "394814009"), ("start", "ge2026-04-16T13:00:00Z"),
                                    ("start", "lt2026-04-16T17:00:00Z"), ("_include", "Slot:schedule")])
    slots = match_entries(bundle)
    assert slots and all(s["status"] == "free" for s in slots)
    assert [s["start"] for s in slots] == sorted(s["start"] for s in slots)
    assert any(e["resource"]["resourceType"] == "Schedule" for e in bundle["entry"] if e["search"]["mode"] == "include")
    slot = slots[0]

    # Hold it while the caller confirms.
    read = cerner.get(f"Slot/{slot['id']}")
    held = cerner.patch(f"Slot/{slot['id']}", [{"op": "replace", "path": "/status", "value": "busy-tentative"}],
                        headers={"If-Match": read.headers["ETag"]})
    assert held.status_code == 200

    # "Yes, book it." 201 with an empty body.
    created = cerner.post("Appointment", {
        "resourceType": "Appointment", "status": "booked", "slot": [{"reference": f"Slot/{slot['id']}"}],
        "participant": [{"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"}],
        "reasonCode": [{"text": "Follow-up for blood pressure"}]})
    assert created.status_code == 201 and created.content == b""
    location = created.headers["Location"]
    appointment = cerner.get(location.split(CERNER_BASE + "/")[1].split("/_history")[0]).json()
    assert appointment["status"] == "booked" and appointment["start"] == slot["start"]

    # Read it back the Cerner way: patient plus a date pair.
    listed = match_entries(cerner.search("Appointment", [("patient", patient), ("date", "ge2026-04-16T00:00:00Z"),
                                                         ("date", "lt2026-04-17T00:00:00Z")]))
    assert appointment["id"] in [a["id"] for a in listed]

    # "Cancel it, please." JSON Patch with If-Match; 200, empty text/html body.
    cancelled = cerner.patch(f"Appointment/{appointment['id']}", [{"op": "replace", "path": "/status", "value": "cancelled"}],
                             headers={"If-Match": 'W/"0"'})
    assert cancelled.status_code == 200 and cancelled.headers["Content-Type"].startswith("text/html")
    assert cerner.get(f"Appointment/{appointment['id']}").json()["status"] == "cancelled"
    assert cerner.get(f"Slot/{slot['id']}").json()["status"] == "free"
