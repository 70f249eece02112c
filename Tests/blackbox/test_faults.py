"""Test control (issue 12): fault rules, rate limits, latency, staff actions, the journal's fault
field and Provenance, per vendor profile, each test in its own isolated sandbox (so rules,
counters and writes never meet another test's). Clients are real HTTP clients (`requests`,
`fhirclient` where it applies); every FHIR body received is validated as R4 (STU3 on Epic's
STU3 base)."""
import concurrent.futures
import re
import time

import pytest
import requests
from fhirclient import client as smart_client
from fhirclient.models.patient import Patient as SmartPatient

from conftest import CLOCK, Client
from fhirvalidation import assert_valid
from test_vendor_auth import CERNER_AUTH, CERNER_BASE, EPIC_BASE, EPIC_TOKEN, backend, epic_id
from test_vendor_epic_stu3 import MARIA, book_parameters, find_parameters, proposals
from vendorclient import CernerIds, EpicIds

PROFILES = ["generic", "epic", "cerner"]
SCOPES = {
    "generic": "system/Patient.read system/Patient.write system/Slot.read system/Appointment.read system/Appointment.write "
               "system/Provenance.read",
    "epic": "system/Patient.read system/Slot.read system/Schedule.read system/Appointment.read system/Appointment.write",
    "cerner": "system/Patient.read system/Slot.read system/Slot.write system/Schedule.read system/Appointment.read "
              "system/Appointment.write system/Provenance.read",
}
BASES = {"generic": "/fhir/r4", "epic": EPIC_BASE, "cerner": CERNER_BASE}
TOKENS = {"generic": "/fhir/auth/token", "epic": EPIC_TOKEN, "cerner": CERNER_AUTH + "/token"}
# Tuesday 2026-04-14 10:00 Chicago with Dr Okafor: free in the seed (appt-0001 is at 09:00).
SLOT = "slot-okafor-main-20260414-1000"
SLOT_START = "2026-04-14T10:00:00-05:00"


class Identity:
    def external(self, id_, type_):
        return id_

    def internal(self, id_, type_):
        return id_


class Box:
    """An isolated sandbox holding one profile, seen as a client of that vendor sees it."""

    def __init__(self, origin, name, sandbox_id, **body):
        self.origin = origin
        self.name = name
        self.prefix = f"/sandboxes/{sandbox_id}"
        self.control = Client(origin)
        created = self.control.admin("PUT", f"/_admin/sandboxes/{sandbox_id}",
                                     {"profiles": [name], "clock": {"now": CLOCK, "frozen": True}, **body})
        assert created.status_code == 201, created.text
        self.urls = created.json()["profiles"][name]
        self.ids = {"generic": Identity(), "epic": EpicIds(), "cerner": CernerIds()}[name]
        self.token = self.new_token()
        self.fhir = self.client(BASES[name])

    def new_token(self):
        response = backend(self.urls["tokenUrl"], SCOPES[self.name])
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def refresh(self):
        """A new token (after the sandbox clock moved past the old one's expiry)."""
        self.token = self.new_token()
        self.fhir = self.client(BASES[self.name])

    def client(self, base, release="R4", token=None):
        c = Client(self.origin, base=self.prefix + base, release=release)
        c.session.headers["Authorization"] = f"Bearer {token or self.token}"
        return c

    def admin(self, method, path, body=None):
        return self.control.admin(method, self.prefix + path, body)

    def arm(self, **rule):
        response = self.admin("POST", "/_admin/faults", rule)
        assert response.status_code == 201, response.text
        return response.json()

    def vendor(self, type_, seed_id):
        return self.ids.external(seed_id, type_)

    def read_patient(self, **kwargs):
        return self.fhir.get(f"Patient/{self.vendor('Patient', 'pat-0001')}", **kwargs)

    def slot_status(self, seed_id):
        """The slot's status as this vendor shows it (Epic: on its STU3 base; R4 has no Slot)."""
        if self.name == "epic":
            return self.client("/epic/api/FHIR/STU3", "STU3").get(f"Slot/{self.vendor('Slot', seed_id)}").json()["status"]
        return self.fhir.get(f"Slot/{self.vendor('Slot', seed_id)}").json()["status"]

    def book(self, patient="pat-0002"):
        """Books SLOT the way this vendor's API books: Epic $find then $book (STU3), Cerner and
        generic POST Appointment."""
        if self.name == "epic":
            stu3 = self.client("/epic/api/FHIR/STU3", "STU3")
            found = stu3.post("Appointment/$find", find_parameters("2026-04-14T10:00:00-05:00", "2026-04-14T10:20:00-05:00",
                                                                    patient=MARIA))
            assert found.status_code == 200, found.text
            option = next((o for o in proposals(found.json()) if o["slot"][0]["reference"] == f"Slot/{epic_id(SLOT)}"), None)
            if option is None:
                return None  # $find no longer offers it: the client sees it is taken
            return stu3.post("Appointment/$book", book_parameters(option["id"], epic_id(patient)))
        body = {"resourceType": "Appointment", "status": "booked", "slot": [{"reference": f"Slot/{self.vendor('Slot', SLOT)}"}],
                "participant": [{"actor": {"reference": f"Patient/{self.vendor('Patient', patient)}"}, "status": "accepted"}]}
        if self.name == "cerner":
            body["reasonCode"] = [{"text": "Follow-up"}]
        else:
            body.update(start=SLOT_START, end="2026-04-14T10:20:00-05:00")
        return self.fhir.post("Appointment", body)

    def journal(self, **filters):
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        return self.admin("GET", "/_admin/requests" + (f"?{query}" if query else "")).json()

    def delete(self):
        assert self.control.admin("DELETE", f"/_admin/sandboxes/{self.prefix.split('/')[-1]}").status_code == 204


@pytest.fixture(params=PROFILES)
def box(request, sandbox):
    made = Box(sandbox.origin, request.param, f"faults-{request.param}-{request.node.name.split('[')[0][-40:].replace('_', '-')}")
    yield made
    made.delete()


def digits(value):
    """Phone numbers as digits (Cerner shows them without punctuation, §2.4)."""
    return re.sub(r"[^0-9]", "", str(value))


def outcome(response):
    assert response.headers["Content-Type"].startswith("application/fhir+json"), response.headers
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]


# --- two sandboxes side by side --------------------------------------------------------------

def test_two_sandboxes_share_nothing(box, sandbox):
    other = Box(sandbox.origin, box.name, f"faults-{box.name}-other")
    try:
        box.arm(match={"resourceType": "Patient"}, action={"type": "error", "status": 500})
        assert box.read_patient().status_code == 500
        assert other.read_patient().status_code == 200  # faults stay in their sandbox
        # Writes: a staff change in one is not in the other.
        changed = box.admin("POST", "/_admin/actions", {"action": "update-patient", "patient": "Patient/pat-0003",
                                                        "set": {"phone": "555-0100"}})
        assert changed.status_code == 200, changed.text
        box.admin("DELETE", "/_admin/faults")
        mine = box.fhir.get(f"Patient/{box.vendor('Patient', 'pat-0003')}").json()
        theirs = other.fhir.get(f"Patient/{other.vendor('Patient', 'pat-0003')}").json()
        assert "5550100" in digits(mine["telecom"]) and "5550100" not in digits(theirs.get("telecom"))
        # Clock.
        box.admin("POST", "/_admin/clock/advance", {"seconds": 3600})
        assert box.admin("GET", "/_admin/clock").json()["local"] == "2026-04-13T09:00:00-05:00"
        assert other.admin("GET", "/_admin/clock").json()["local"] == "2026-04-13T08:00:00-05:00"
        # Tokens: one sandbox's token is refused by the other, in the vendor's 401.
        crossed = requests.get(other.fhir.base + f"/Patient/{other.vendor('Patient', 'pat-0001')}",
                               headers={"Authorization": f"Bearer {box.token}"}, timeout=10)
        assert crossed.status_code == 401 and "invalid_token" in crossed.headers["WWW-Authenticate"]
        # Journals.
        assert all(entry["path"].startswith(box.prefix) for entry in box.journal())
    finally:
        other.delete()


# --- faults ------------------------------------------------------------------------------------

def test_error_fault_fires_as_armed_in_the_vendor_dialect(box):
    rule = box.arm(match={"profile": box.name, "method": "GET", "resourceType": "Patient", "interaction": "read",
                          "clientId": "sandbox-backend"},
                   action={"type": "error", "status": 503, "retryAfter": 30}, times=2, after=1)
    statuses = [box.read_patient() for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 503, 503, 200]
    refused = statuses[1]
    assert refused.headers["Retry-After"] == "30"
    assert outcome(refused)["code"] == "transient"
    listed = box.admin("GET", f"/_admin/faults/{rule['id']}").json()
    # Matches are counted while the rule can fire (the first, skipped by `after`, counts).
    assert listed["hits"] == 2 and listed["matches"] == 3 and listed["spent"] is True
    # Another path is never hit by the rule.
    assert box.fhir.get("metadata").status_code == 200
    entries = box.journal(status=503)
    assert [e["fault"] for e in entries] == [{"id": rule["id"], "type": "error"}] * 2
    for status in (429, 500, 502, 504):
        box.arm(match={"resourceType": "Patient"}, action={"type": "error", "status": status}, times=1)
        response = box.read_patient()
        assert response.status_code == status and "Retry-After" not in response.headers
        assert outcome(response)["severity"] in ("error", "fatal")


def test_a_seeded_probability_hits_the_same_requests_every_time(box):
    def pattern():
        rule = box.arm(match={"resourceType": "Patient"}, action={"type": "error", "status": 500}, probability=0.5, seed=7)
        hits = [box.read_patient().status_code == 500 for _ in range(16)]
        assert box.admin("DELETE", f"/_admin/faults/{rule['id']}").json()["hits"] == sum(hits)
        return hits
    first = pattern()
    assert first == pattern() and 2 <= sum(first) <= 14


def test_latency_hang_and_drop(box):
    box.arm(match={"resourceType": "Patient"}, action={"type": "latency", "ms": 400}, times=1)
    started = time.monotonic()
    assert box.read_patient().status_code == 200
    assert time.monotonic() - started >= 0.4
    box.arm(match={"resourceType": "Patient"}, action={"type": "hang", "ms": 500}, times=1)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(box.fhir.base + f"/Patient/{box.vendor('Patient', 'pat-0001')}", headers={"Authorization": f"Bearer {box.token}"},
                     timeout=10)
    assert time.monotonic() - started >= 0.5
    box.arm(match={"resourceType": "Patient"}, action={"type": "drop"}, times=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(box.fhir.base + f"/Patient/{box.vendor('Patient', 'pat-0001')}", headers={"Authorization": f"Bearer {box.token}"},
                     timeout=10)
    assert box.read_patient().status_code == 200  # the server is fine
    closed = box.journal(status=0)
    assert sorted(e["fault"]["type"] for e in closed) == ["drop", "hang"]


def test_token_expired_fails_that_token_from_then_on(box):
    rule = box.arm(match={"resourceType": "Patient"}, action={"type": "token-expired"}, times=1)
    first = box.read_patient()
    assert first.status_code == 401 and 'error="invalid_token"' in first.headers["WWW-Authenticate"]
    assert "expired" in first.headers["WWW-Authenticate"]
    assert box.fhir.get("Appointment", params={"_id": box.vendor("Appointment", "appt-0001")}).status_code == 401
    fresh = box.client(BASES[box.name], token=box.new_token())
    assert fresh.get(f"Patient/{box.vendor('Patient', 'pat-0001')}").status_code == 200
    assert box.admin("GET", f"/_admin/faults/{rule['id']}").json()["hits"] == 1


def test_outage_answers_every_request_then_lifts(box):
    box.arm(match={"method": "GET", "resourceType": "Patient"}, action={"type": "outage", "seconds": 2, "retryAfter": 2})
    down = box.read_patient()
    assert down.status_code == 503 and down.headers["Retry-After"] == "2"
    assert outcome(down)["code"] == "transient"
    assert box.fhir.get("metadata").status_code == 503
    token = requests.post(box.urls["tokenUrl"], data={"grant_type": "client_credentials"}, timeout=10)
    assert token.status_code == 503 and token.json()["error"] == "temporarily_unavailable"
    time.sleep(2.1)
    assert box.read_patient().status_code == 200
    assert box.admin("GET", "/_admin/faults").json()[0]["spent"] is True


def test_token_endpoint_faults_only_when_named(box):
    box.arm(action={"type": "error", "status": 500})  # hits API calls only
    assert backend(box.urls["tokenUrl"], SCOPES[box.name]).status_code == 200
    box.admin("DELETE", "/_admin/faults")
    box.arm(match={"interaction": "token"}, action={"type": "error", "status": 503, "retryAfter": 5}, times=1)
    refused = backend(box.urls["tokenUrl"], SCOPES[box.name])
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    assert backend(box.urls["tokenUrl"], SCOPES[box.name]).status_code == 200
    assert box.journal(status=503)[0]["fault"]["type"] == "error"
    # A fault that lets the request through is journaled with the answer it led to.
    slow = box.arm(match={"interaction": "token"}, action={"type": "latency", "ms": 50}, times=1)
    assert backend(box.urls["tokenUrl"], SCOPES[box.name]).status_code == 200
    assert box.journal(path="*token*", limit=1)[0]["fault"] == {"id": slow["id"], "type": "latency"}


def test_slot_taken_makes_the_booking_lose_and_the_slot_is_booked_once(box):
    # Any request may match; the rule fires on the first that books (Epic's $find does not).
    rule = box.arm(match={"resourceType": "Appointment"}, action={"type": "slot-taken"}, times=1)
    lost = box.book()
    assert lost.status_code == 409, lost.text
    assert box.slot_status(SLOT) == "busy"
    entry = box.journal(status=409)[0]
    assert entry["fault"] == {"id": rule["id"], "type": "slot-taken"}
    assert "no longer free" in lost.text or "taken" in lost.text
    # The front desk's booking holds the slot; booking again still loses (never twice).
    again = box.book(patient="pat-0003")
    assert again is None or again.status_code == 409
    if box.name == "generic":
        holders = box.fhir.search("Appointment", {"slot": f"Slot/{SLOT}", "status": "booked"})
        assert len(holders.get("entry", [])) == 1


def test_bad_rules_are_400_naming_the_field(box):
    for rule, field in [({"action": {"type": "boom"}}, "action.type"), ({"action": {"type": "error"}}, "action.status"),
                        ({"action": {"type": "drop"}, "match": {"profile": "nope"}}, "match.profile"),
                        ({"action": {"type": "drop"}, "probability": 3}, "probability"), ({"times": 1}, "action")]:
        response = box.admin("POST", "/_admin/faults", rule)
        assert response.status_code == 400 and response.json()["field"] == field, (rule, response.text)
    assert box.admin("DELETE", "/_admin/faults/fault-999").status_code == 404


# --- rate limits ------------------------------------------------------------------------------------

def test_rate_limits_are_profile_data_reached_and_recovered(box, sandbox):
    limits = box.admin("GET", "/_admin/rate-limits").json()
    assert limits["mode"] == "defaults"
    defined = limits["profiles"][box.name]
    assert all(not limit["enabled"] for limit in defined)  # no documented number: off by default
    assert box.admin("PUT", "/_admin/rate-limits", {"enabled": True}).status_code == 200
    if box.name == "epic":
        # §1.8: Epic publishes no limit and answers no 429.
        assert defined == []
        assert all(box.read_patient().status_code == 200 for _ in range(60))
        return
    limit = defined[0]
    assert "ASSUMPTION" in limit["source"]
    # Bursts of concurrent reads until one window sees more than the limit (a slow machine may
    # spread a sequential burst over two windows).
    url = box.fhir.base + f"/Patient/{box.vendor('Patient', 'pat-0001')}"
    headers = {"Authorization": f"Bearer {box.token}"}
    refused, statuses, deadline = None, [], time.time() + 20
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        while refused is None and time.time() < deadline:
            for response in pool.map(lambda _: requests.get(url, headers=headers, timeout=10), range(limit["requests"] + 10)):
                statuses.append(response.status_code)
                if response.status_code == 429 and refused is None:
                    refused = response
    assert refused is not None and statuses.count(200) >= limit["requests"], statuses
    assert set(statuses) <= {200, 429}
    assert_valid(refused.json())  # the throttle's body is R4 too
    issue = outcome(refused)
    assert issue["code"] == "throttled"
    if box.name == "cerner":
        assert issue["diagnostics"] == "Too Many Requests" and "Retry-After" not in refused.headers
    else:
        assert 1 <= int(refused.headers["Retry-After"]) <= limit["windowSeconds"]
    assert box.journal(status=429)[0]["fault"] == {"id": limit["name"], "type": "rate-limit"}
    counters = box.admin("GET", "/_admin/rate-limits").json()["profiles"][box.name][0]["counters"]
    assert counters["sandbox-backend"] >= limit["requests"]
    # Recovered when the window ends.
    time.sleep(float(refused.headers.get("Retry-After", limit["windowSeconds"])) + 0.1)
    assert box.read_patient().status_code == 200
    assert box.admin("PUT", "/_admin/rate-limits", {"enabled": False}).json()["enabled"] is False
    assert all(box.read_patient().status_code == 200 for _ in range(limit["requests"] + 2))


def test_rate_limits_and_latency_from_the_creation_body(sandbox):
    made = Box(sandbox.origin, "generic", "faults-created-limits", rateLimits=True, latency="profile")
    try:
        assert made.admin("GET", "/_admin/rate-limits").json()["profiles"]["generic"][0]["enabled"] is True
        latency = made.admin("GET", "/_admin/latency").json()
        assert latency["mode"] == "profile" and latency["profiles"]["generic"]["classes"]["read"]["minMs"] == 10
        started = time.monotonic()
        assert made.read_patient().status_code == 200
        assert time.monotonic() - started >= 0.01
        assert made.admin("PUT", "/_admin/latency", {"mode": "off"}).json()["mode"] == "off"
        assert made.admin("PUT", "/_admin/latency", {"mode": "fast"}).status_code == 400
    finally:
        made.delete()


# --- staff actions --------------------------------------------------------------------------------

def appointment(box, seed_or_vendor_id, vendor=False):
    id_ = seed_or_vendor_id if vendor else box.vendor("Appointment", seed_or_vendor_id)
    response = box.fhir.get(f"Appointment/{id_}")
    assert response.status_code == 200, response.text
    return response.json()


def test_staff_actions_are_visible_at_once(box):
    # A phone booking by someone else, with the ids this vendor shows.
    booked = box.admin("POST", "/_admin/actions", {"action": "book-slot", "profile": box.name,
                                                   "slot": f"Slot/{box.vendor('Slot', SLOT)}",
                                                   "patient": f"Patient/{box.vendor('Patient', 'pat-0004')}"})
    assert booked.status_code == 200, booked.text
    new = booked.json()["results"][box.name]["changed"][0].split("/")[1]
    assert appointment(box, new, vendor=True)["status"] == "booked"
    assert box.slot_status(SLOT) == "busy"
    late = box.book()
    assert late is None or late.status_code == 409  # the client meets it
    # Cancel (seed ids, every tenant of the sandbox): cancelled with a reason, slot freed.
    cancelled = box.admin("POST", "/_admin/actions", {"action": "cancel-appointment", "appointment": "Appointment/appt-0001",
                                                      "reason": "Patient called to cancel"})
    assert cancelled.status_code == 200, cancelled.text
    seen = appointment(box, "appt-0001")
    assert seen["status"] == "cancelled" and "Patient called to cancel" in str(seen.get("cancelationReason"))
    # Reschedule, check in, no-show.
    moved = box.admin("POST", "/_admin/actions", {"action": "reschedule-appointment", "appointment": "Appointment/appt-0002",
                                                  "slot": "Slot/slot-okafor-main-20260414-1100"})
    assert moved.status_code == 200, moved.text
    assert appointment(box, "appt-0002")["start"].startswith("2026-04-14T")
    assert box.admin("POST", "/_admin/actions", {"action": "check-in", "appointment": "Appointment/appt-0002"}).status_code == 200
    assert appointment(box, "appt-0002")["status"] in ("checked-in", "arrived")
    assert box.admin("POST", "/_admin/actions", {"action": "no-show", "appointment": f"Appointment/{new}", "profile": box.name}
                     ).status_code == 200
    assert appointment(box, new, vendor=True)["status"] == "noshow"
    # Update a patient.
    assert box.admin("POST", "/_admin/actions", {"action": "update-patient", "patient": "Patient/pat-0001",
                                                 "set": {"phone": "555-0199", "address": {"use": "home", "line": ["1 New St"],
                                                                                          "city": "Springfield"}}}
                     ).status_code == 200
    patient = box.read_patient().json()
    assert "5550199" in digits(patient["telecom"]) and "1 New St" in str(patient["address"])


def test_block_schedule_cancels_and_blocks(box):
    response = box.admin("POST", "/_admin/actions", {"action": "block-schedule", "practitioner": "Practitioner/pract-okafor",
                                                     "start": "2026-04-14T08:00:00-05:00", "end": "2026-04-14T12:00:00-05:00",
                                                     "reason": "provider out sick"})
    assert response.status_code == 200, response.text
    result = response.json()["results"][box.name]
    assert any(c.startswith("Appointment/") for c in result["changed"])
    seen = appointment(box, "appt-0001")
    assert seen["status"] == "cancelled" and "provider out sick" in str(seen["cancelationReason"])
    assert box.slot_status(SLOT) == "busy-unavailable"
    assert box.slot_status("slot-okafor-main-20260414-0900") == "busy-unavailable"  # freed by the cancel, then blocked
    late = box.book()
    assert late is None or late.status_code in (409, 422)


def test_a_scheduled_action_fires_on_a_clock_advance(box):
    scheduled = box.admin("POST", "/_admin/actions", {"action": "book-slot", "slot": f"Slot/{SLOT}", "patient": "Patient/pat-0005",
                                                      "at": "2026-04-13T10:02:00-05:00"})
    assert scheduled.status_code == 200 and scheduled.json()["state"] == "pending"
    assert box.slot_status(SLOT) == "free"
    box.admin("POST", "/_admin/clock/advance", {"seconds": 7200})  # 10:00: not yet
    box.refresh()
    assert box.slot_status(SLOT) == "free"
    box.admin("POST", "/_admin/clock/advance", {"seconds": 180})  # 10:03: fired within this call
    assert box.slot_status(SLOT) == "busy"
    listed = box.admin("GET", "/_admin/actions").json()
    assert listed[0]["state"] == "fired" and listed[0]["outcome"]["results"][box.name]["ok"] is True


def test_bad_actions_name_the_field(box):
    cases = [({"action": "explode"}, 400, "action"), ({"action": "cancel-appointment"}, 400, "appointment"),
             ({"action": "cancel-appointment", "appointment": "Appointment/nope"}, 404, "appointment"),
             ({"action": "book-slot", "slot": f"Slot/{SLOT}", "patient": "Patient/pat-0001", "profile": "nope"}, 404, "profile"),
             ({"action": "book-slot", "slot": "Slot/slot-okafor-main-20260414-0900", "patient": "Patient/pat-0002"}, 409, "slot"),
             ({"action": "update-patient", "patient": "Patient/pat-0001", "set": {"eyes": "blue"}}, 400, "set.eyes"),
             ({"action": "no-show", "appointment": "Appointment/appt-0001", "at": "tomorrow"}, 400, "at")]
    for body, status, field in cases:
        response = box.admin("POST", "/_admin/actions", body)
        assert response.status_code == status and response.json()["field"] == field, (body, response.text)


# --- provenance ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["generic", "cerner"])
def test_client_writes_record_provenance(sandbox, name):
    made = Box(sandbox.origin, name, f"faults-provenance-{name}")
    try:
        response = made.book()
        assert response.status_code == 201, response.text
        location = response.headers["Location"]
        appointment_id = location.split("/Appointment/")[1].split("/")[0]
        bundle = made.fhir.search("Appointment", {"_id": appointment_id, "_revinclude": "Provenance:target"})
        provenances = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Provenance"]
        assert len(provenances) == 1
        provenance = provenances[0]
        assert provenance["target"] == [{"reference": f"Appointment/{appointment_id}"}]
        assert provenance["agent"][0]["who"]["identifier"]["value"] == "sandbox-backend"
        assert provenance["recorded"].startswith("2026-04-13T13:00:00")
        # A staff action is not a client's write: no Provenance.
        made.admin("POST", "/_admin/actions", {"action": "cancel-appointment", "appointment": "Appointment/appt-0001"})
        staff = made.fhir.search("Appointment", {"_id": made.vendor("Appointment", "appt-0001"), "_revinclude": "Provenance:target"})
        assert [e["resource"]["resourceType"] for e in staff["entry"]] == ["Appointment"]
    finally:
        made.delete()


def test_fhirclient_sees_a_fault_and_recovers(sandbox):
    made = Box(sandbox.origin, "generic", "faults-fhirclient")
    try:
        smart = smart_client.FHIRClient(settings={"app_id": "fault-check", "api_base": made.fhir.base})
        made.arm(match={"resourceType": "Patient"}, action={"type": "error", "status": 503}, times=1)
        with pytest.raises(Exception) as failure:
            SmartPatient.read("pat-0001", smart.server)
        assert "503" in str(failure.value)
        assert SmartPatient.read("pat-0001", smart.server).id == "pat-0001"
    finally:
        made.delete()
