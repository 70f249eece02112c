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


def test_athena_call_verifies_the_caller_books_by_form_put_notes_and_cancels(client):
    """athenahealth (§3): the agent's backend fetches one token with Authlib (client_secret_basic,
    §3.2) and keeps it for the whole call, while a naive agent that asks for a token before every
    call is throttled (429 for the rest of the minute, §3.2); the caller is verified through the
    proprietary patient search (§3.4), open slots are listed for a department and reason, the
    slot is booked with a form-encoded PUT (§3.4, §3.8 (1, 2)), read back through FHIR with the
    practice context (§3.3), a call note is left, and the appointment is cancelled; the practice's
    cancel subscription receives the cancellation, signed (§3.7)."""
    import hashlib
    import hmac
    import json as jsonlib

    import requests
    from authlib.integrations.requests_client import OAuth2Session

    from athena import AUTH, FHIR, MDP, V1, register
    from fhirvalidation import assert_valid
    from test_vendor_athena_subscriptions import SECRET, subscription, verify
    from webhookreceiver import Receiver

    origin = client.origin
    token_url = origin + AUTH + "/token"
    client_id, secret = register(origin)
    agent = OAuth2Session(client_id, secret, token_endpoint_auth_method="client_secret_basic",
                          scope=f"system/Patient.read system/Appointment.read system/Subscription.write {MDP}")
    token = agent.fetch_token(token_url, grant_type="client_credentials")
    assert token["expires_in"] == 3600 and MDP in token["scope"].split()

    # A second agent that fetches a token per request hits the token throttle.
    naive_id, naive_secret = register(origin)
    statuses = [requests.post(token_url, auth=(naive_id, naive_secret),
                              data={"grant_type": "client_credentials", "scope": MDP}).status_code for _ in range(7)]
    assert 429 in statuses, statuses

    receiver = Receiver()
    try:
        subscribed = agent.post(origin + FHIR + "/Subscription", data=jsonlib.dumps(subscription("Appointment.cancel", receiver.url)),
                                headers={"Content-Type": "application/fhir+json", "X-Hub-Secret": SECRET})
        assert subscribed.status_code == 201, subscribed.text

        # "May I have your name and date of birth?"
        caller = agent.get(origin + V1 + "/patients", params={"firstname": "Maria", "lastname": "Garcia", "dob": "03/12/1984"})
        assert caller.status_code == 200 and caller.json()["totalcount"] == 1
        patient = caller.json()["patients"][0]["patientid"]
        assert patient == "60178"

        # "Let me look for a follow-up at the main clinic."
        departments = agent.get(origin + V1 + "/departments").json()["departments"]
        main = next(d for d in departments if d["name"] == "Riverbend Main Clinic")
        types = agent.get(origin + V1 + "/appointmenttypes").json()["appointmenttypes"]
        follow_up = next(t for t in types if t["name"] == "Follow-up visit")
        providers = agent.get(origin + V1 + "/providers").json()["providers"]
        okafor = next(p for p in providers if p["lastname"] == "Okafor")
        open_list = agent.get(origin + V1 + "/appointments/open", params={
            "departmentid": main["departmentid"], "reasonid": follow_up["appointmenttypeid"], "providerid": str(okafor["providerid"])})
        assert open_list.status_code == 200
        offered = open_list.json()["appointments"]
        assert offered and all(type(s["appointmentid"]) is int for s in offered)
        choice = offered[0]

        # "You're booked." A form-encoded PUT on the open appointment's id.
        booked = agent.put(origin + V1 + f"/appointments/{choice['appointmentid']}",
                           data={"patientid": patient, "reasonid": follow_up["appointmenttypeid"], "bookingnote": "Booked by voice agent"})
        assert booked.status_code == 200, booked.text
        appointment = booked.json()[0]
        assert appointment["appointmentstatus"] == "f" and appointment["appointmentid"] == str(choice["appointmentid"])

        # The chart, through FHIR with the practice context.
        fhir = agent.get(origin + FHIR + f"/Appointment/a-195900.Appointment-{appointment['appointmentid']}",
                         params={"ah-practice": "Organization/a-1.Practice-195900"}, headers={"Accept": "application/fhir+json"})
        assert fhir.status_code == 200, fhir.text
        assert_valid(fhir.json())
        assert fhir.json()["status"] == "booked" and fhir.json()["start"].startswith("2026-04-14T")

        # The call note.
        noted = agent.post(origin + V1 + f"/appointments/{appointment['appointmentid']}/notes",
                           data={"notetext": "Caller asked for the earliest morning slot", "displayonschedule": "true"})
        assert noted.status_code == 200 and noted.json() == {"success": True}

        # The caller calls back to cancel.
        cancelled = agent.put(origin + V1 + f"/appointments/{appointment['appointmentid']}/cancel",
                              data={"patientid": patient, "cancellationreason": "Patient request"})
        assert cancelled.status_code == 200 and cancelled.json() == {"status": "x"}
        notification = verify(receiver.wait(1)[0])
        focus = notification["entry"][0]["resource"]["notificationEvent"][0]["focus"]
        assert focus["reference"] == f"Appointment/a-195900.Appointment-{appointment['appointmentid']}"
        expected = "sha256=" + hmac.new(SECRET.encode(), receiver.calls[0]["body"], hashlib.sha256).hexdigest()
        assert receiver.calls[0]["headers"]["X-Hub-Signature"] == expected
    finally:
        receiver.close()
    # One token for the whole call: the journal shows a single token request from the agent.
    journal = client.admin("GET", "/_admin/requests?limit=500").json()
    entries = journal["requests"] if isinstance(journal, dict) else journal
    assert len([e for e in entries if e.get("clientId") == client_id and e["path"].endswith("/token")]) == 1


def test_ecw_call_verifies_the_caller_rides_out_the_practice_limit_and_books_by_npi(client):
    """eClinicalWorks (§4): the agent's backend signs its assertion RS384 (§4.1) with a key from
    its own JWKS URL, which eCW allow-listed, and gets a 300-second token it keeps for the call;
    the caller is verified by a facade Patient search walked with page= (§4.2, §4.5 (4)); on a
    busy morning the practice's 250 requests a minute (other apps' calls and token requests
    included) run out, the provider lookup is refused 429 without Retry-After (§4.4), and the
    agent backs off until the minute turns; the provider is then found by NPI and the slot
    through the healow Scheduling API (§4.3), booked and cancelled with numeric statuses (§4.4,
    ASSUMPTION shapes). In an isolated sandbox, so the practice's counter is the call's own."""
    import time

    import requests
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.oauth2.rfc7523 import PrivateKeyJWT

    from fhirvalidation import assert_valid
    from test_auth import RS384
    from test_vendor_ecw import BASE, OAUTH, JWKSServer
    from test_vendor_ecw_healow import HEALOW, OKAFOR_NPI

    keys = JWKSServer()
    made = client.admin("PUT", "/_admin/sandboxes/ecw-call", {"profiles": ["ecw"]})
    assert made.status_code in (200, 201), made.text
    try:
        registered = client.admin("POST", "/sandboxes/ecw-call/_admin/clients", {
            "id": "ecw-voice-agent", "type": "backend", "jwksUri": keys.url, "jwksAllowListed": True,
            "scopes": ["system/*.read", "system/Appointment.write"], "grantTypes": ["client_credentials"]})
        assert registered.status_code in (200, 201), registered.text
        origin = client.origin + "/sandboxes/ecw-call"
        token_url = origin + OAUTH + "/token"
        agent = OAuth2Session("ecw-voice-agent", RS384, scope="system/Patient.read system/Practitioner.read system/Schedule.read "
                                                               "system/Slot.read system/Appointment.read system/Appointment.write",
                              token_endpoint_auth_method=PrivateKeyJWT(
                                  token_url, alg="RS384", headers={"kid": "backend-rs384"},
                                  claims={"exp": int(time.time()) + 240}))  # SMART: at most 5 minutes ahead
        token = agent.fetch_token(token_url, grant_type="client_credentials")
        assert token["expires_in"] == 300 and token["token_type"].lower() == "bearer"
        fhir, healow = origin + BASE, origin + HEALOW

        def get(url, params=None):
            response = agent.get(url, params=params, headers={"Accept": "application/fhir+json"})
            if response.headers.get("Content-Type", "").startswith("application/fhir+json"):
                assert_valid(response.json())
            return response

        # "Your name and date of birth, please?" Maria Garcia, 30 July 1991: the agent walks the
        # Garcias page by page (page=N) until the birth date matches.
        caller, page = None, 1
        while caller is None:
            found = get(fhir + "/Patient", {"family": "Garcia", "given": "Maria", "_count": "1", "page": str(page)})
            assert found.status_code == 200 and found.json().get("entry"), found.text
            resource = found.json()["entry"][0]["resource"]
            caller = resource if resource["birthDate"] == "1991-07-30" else None
            page += 1
        assert caller["id"] == "pat-0002" and page > 2

        # A busy morning: other apps of the practice use up its 250 requests this minute.
        busy = OAuth2Session("sandbox-secret", "sandbox-secret-TEST-ONLY", scope="system/Patient.read")
        other = busy.fetch_token(token_url, grant_type="client_credentials")["access_token"]
        refused = None
        for _ in range(2):  # once more if the minute turns during the burst
            for _ in range(300):
                if requests.get(fhir + "/Patient/pat-0001", headers={"Authorization": f"Bearer {other}"}).status_code == 429:
                    break
            refused = get(fhir + "/Practitioner", {"identifier": f"http://hl7.org/fhir/sid/us-npi|{OKAFOR_NPI}"})
            if refused.status_code == 429:
                break
        assert refused.status_code == 429 and "Retry-After" not in refused.headers

        # No Retry-After: the agent backs off (1, 2, 4, ... s) until the practice's minute turns.
        delay, attempts, provider = 1, 0, refused
        while provider.status_code == 429:
            assert attempts < 8, "the limit did not lift within the minute"
            time.sleep(delay)
            delay, attempts = min(delay * 2, 16), attempts + 1
            provider = get(fhir + "/Practitioner", {"identifier": f"http://hl7.org/fhir/sid/us-npi|{OKAFOR_NPI}"})
        assert provider.status_code == 200 and provider.json()["entry"][0]["resource"]["name"][0]["family"] == "Okafor"

        # The provider's schedule at the main clinic (facility 1) by NPI, then a free slot.
        schedules = get(healow + "/Schedule", {"actor": OKAFOR_NPI, "actor.location": "1", "date": "ge2026-04-13"})
        assert schedules.status_code == 200, schedules.text
        schedule = schedules.json()["entry"][0]["resource"]["id"]
        slots = get(healow + "/Slot", {"schedule": schedule, "start": "ge2026-04-14", "_count": "5"})
        assert slots.status_code == 200
        slot = slots.json()["entry"][0]["resource"]

        # "You're booked." A write-back: status 1, not an OperationOutcome.
        booked = agent.post(healow + "/Appointment", json={
            "resourceType": "Appointment", "status": "booked", "slot": [{"reference": f"Slot/{slot['id']}"}],
            "participant": [{"actor": {"reference": f"Patient/{caller['id']}"}, "status": "accepted"},
                            {"actor": {"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": OKAFOR_NPI},
                                       "type": "Practitioner"}, "status": "accepted"}]})
        assert booked.status_code == 200 and booked.json()["status"] == 1, booked.text
        appointment = get(healow + f"/Appointment/{booked.json()['id']}").json()
        assert appointment["status"] == "booked" and appointment["start"] == slot["start"]

        # The caller calls back to cancel; the slot is offered again.
        cancelled = agent.put(healow + f"/Appointment/{booked.json()['id']}", json={
            "resourceType": "Appointment", "status": "cancelled", "cancelationReason": {"text": "Patient request"}})
        assert cancelled.status_code == 200 and cancelled.json()["status"] == 1, cancelled.text
        again = get(healow + "/Slot", {"schedule": schedule, "start": "ge2026-04-14", "_count": "5"}).json()
        assert slot["id"] in [e["resource"]["id"] for e in again["entry"]]

        # One token for the whole call.
        journal = client.admin("GET", "/sandboxes/ecw-call/_admin/requests?clientId=ecw-voice-agent&limit=1000").json()
        entries = journal["requests"] if isinstance(journal, dict) else journal
        assert len([e for e in entries if e.get("clientId") == "ecw-voice-agent" and e["path"].endswith("/token")]) == 1
    finally:
        client.admin("DELETE", "/_admin/sandboxes/ecw-call")
        keys.close()
