"""Oracle Health (Cerner Millennium) booking (Profiles/cerner.yaml, writes.appointments: cerner):
Slot holds by JSON Patch, Appointment create rules, PATCH-only updates with Cerner's status
transitions, extensions, and the date search that excludes proposed appointments. Each test names
the fact it reproduces in ../shared/reference/vendor-quirks.md §2.3. The session clock is Monday
2026-04-13 08:00 America/Chicago."""
import pytest

from conftest import Client
from test_vendor_auth import CERNER_AUTH, CERNER_BASE, backend
from test_vendor_cerner import cerner_id, cerner_patient

EXTENSION = "https://fhir-ehr.cerner.com/r4/StructureDefinition/"
PATCH_HOLD = [{"op": "replace", "path": "/status", "value": "busy-tentative"}]
PATCH_FREE = [{"op": "replace", "path": "/status", "value": "free"}]
CANCEL = [{"op": "replace", "path": "/status", "value": "cancelled"}]
WINDOW = [("start", "ge2026-04-14T13:00:00Z"), ("start", "lt2026-04-15T00:00:00Z")]


def cerner_client(client, scopes):
    token = backend(client.origin + CERNER_AUTH + "/token", scopes).json()["access_token"]
    c = Client(client.origin, base=CERNER_BASE)
    c.session.headers["Authorization"] = f"Bearer {token}"
    return c


@pytest.fixture
def cerner(client):
    return cerner_client(client, "system/Patient.read system/Slot.read system/Slot.write system/Schedule.read "
                                 "system/Appointment.read system/Appointment.write")


def free_slot(cerner, index=0):
    bundle = cerner.search("Slot", [("service-type", "394814009")] + WINDOW)
    return bundle["entry"][index]["resource"]


def etag(response):
    return response.headers["ETag"]


def booked_body(slot_id, patient="pat-0001", **extra):
    """§2.3's example: one slot, one Patient participant accepted, one reasonCode."""
    body = {"resourceType": "Appointment", "status": "booked", "slot": [{"reference": f"Slot/{slot_id}"}],
            "participant": [{"actor": {"reference": f"Patient/{cerner_patient(patient)}"}, "status": "accepted"}],
            "reasonCode": [{"text": "I have a cramp"}]}
    body.update(extra)
    return body


def create(cerner, body):
    """§2.3: 201 with an empty body; the client GETs the Location."""
    response = cerner.post("Appointment", body)
    assert response.status_code == 201, response.text
    assert response.content == b"" and etag(response) == 'W/"0"'
    path = "Appointment/" + response.headers["Location"].split("/Appointment/")[1].split("/")[0]
    return path, cerner.get(path).json()


def extension(resource, name):
    return next((e["valueBoolean"] for e in resource.get("extension", []) if e["url"] == EXTENSION + name), None)


def test_slot_hold_by_json_patch(cerner):
    """§2.3: PATCH /Slot/{id} with If-Match, only replace /status with busy-tentative or free;
    200 with Content-Type text/html and a new ETag; a held slot leaves search (only free slots)."""
    slot = free_slot(cerner)
    path = f"Slot/{slot['id']}"
    current = cerner.get(path)
    assert cerner.patch(path, PATCH_HOLD).status_code == 412  # §2.9 (2): If-Match required
    held = cerner.patch(path, PATCH_HOLD, headers={"If-Match": etag(current)})
    assert held.status_code == 200 and held.content == b"" and held.headers["Content-Type"].startswith("text/html")
    assert etag(held) != etag(current)
    assert cerner.get(path).json()["status"] == "busy-tentative"
    ids = [e["resource"]["id"] for e in cerner.search("Slot", [("service-type", "394814009")] + WINDOW + [("_count", "200")])["entry"]]
    assert slot["id"] not in ids
    # Stale If-Match: 409 (§2.8); other statuses or paths: 422.
    assert cerner.patch(path, PATCH_FREE, headers={"If-Match": etag(current)}).status_code == 409
    busy = cerner.patch(path, [{"op": "replace", "path": "/status", "value": "busy"}], headers={"If-Match": etag(held)})
    assert busy.status_code == 422 and busy.json()["issue"][0]["expression"] == ["Slot.status"]
    other = cerner.patch(path, [{"op": "replace", "path": "/end", "value": "2026-04-14T16:00:00Z"}], headers={"If-Match": etag(held)})
    assert other.status_code == 422
    released = cerner.patch(path, PATCH_FREE, headers={"If-Match": etag(held)})
    assert released.status_code == 200 and cerner.get(path).json()["status"] == "free"


def test_book_a_held_slot_then_cancel_frees_it(cerner):
    """§2.3: hold, then POST a booked Appointment for the slot (the slot implies time, practitioner
    and location); the read shows them, the Patient participant's codeSet 14250 type and the
    is-cancelable/is-reschedulable extensions. Cancel by JSON Patch with If-Match frees the slot."""
    slot = free_slot(cerner)
    current = cerner.get(f"Slot/{slot['id']}")
    assert cerner.patch(f"Slot/{slot['id']}", PATCH_HOLD, headers={"If-Match": etag(current)}).status_code == 200
    path, appointment = create(cerner, booked_body(slot["id"]))
    assert appointment["status"] == "booked"
    assert appointment["start"] == slot["start"] and appointment["end"] == slot["end"]
    assert appointment["minutesDuration"] > 0 and appointment["serviceType"]
    actors = [p["actor"]["reference"].split("/")[0] for p in appointment["participant"]]
    assert sorted(actors) == ["Location", "Patient", "Practitioner"]
    patient = next(p for p in appointment["participant"] if p["actor"]["reference"].startswith("Patient/"))
    assert patient["type"][0]["coding"][0]["code"] == "4572"
    assert extension(appointment, "is-cancelable") is True and extension(appointment, "is-reschedulable") is True
    assert cerner.get(f"Slot/{slot['id']}").json()["status"] == "busy"
    # No PUT (§2.3: updates are JSON Patch only).
    assert cerner.put(path, appointment, headers={"If-Match": 'W/"0"'}).status_code == 405
    cancelled = cerner.patch(path, CANCEL, headers={"If-Match": 'W/"0"'})
    assert cancelled.status_code == 200 and cancelled.content == b"" and etag(cancelled) == 'W/"1-1"'
    after = cerner.get(path).json()
    assert after["status"] == "cancelled" and extension(after, "is-cancelable") is False
    assert cerner.get(f"Slot/{slot['id']}").json()["status"] == "free"


def test_create_rules_are_422(cerner):
    """§2.3: implicitRules/modifierExtension rejected (422); status booked or proposed; reasonCode
    exactly one; no participant.type; booked needs one slot and the Patient alone, accepted."""
    slot = free_slot(cerner)
    bad = [
        booked_body(slot["id"], implicitRules="http://example.org/rules"),
        booked_body(slot["id"], modifierExtension=[{"url": "http://example.org/x", "valueBoolean": True}]),
        booked_body(slot["id"], status="pending"),
        booked_body(slot["id"], reasonCode=[{"text": "a"}, {"text": "b"}]),
        booked_body(slot["id"], slot=[{"reference": f"Slot/{slot['id']}"}, {"reference": f"Slot/{free_slot(cerner, 1)['id']}"}]),
    ]
    typed = booked_body(slot["id"])
    typed["participant"][0]["type"] = [{"text": "Patient"}]
    needs_action = booked_body(slot["id"])
    needs_action["participant"][0]["status"] = "needs-action"
    with_practitioner = booked_body(slot["id"])
    with_practitioner["participant"].append({"actor": {"reference": f"Practitioner/{cerner_id('Practitioner', 'pract-okafor')}"}, "status": "accepted"})
    for body in bad + [typed, needs_action, with_practitioner]:
        response = cerner.post("Appointment", body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["resourceType"] == "OperationOutcome"
    assert cerner.get(f"Slot/{slot['id']}").json()["status"] == "free"


def test_proposed_request_and_date_search_excludes_it(cerner):
    """§2.3: a proposed appointment (one serviceType, the Patient and a Location needs-action, one
    requestedPeriod) is a request for staff; search by date excludes proposed ones. Proposed →
    booked needs add /slot."""
    body = {"resourceType": "Appointment", "status": "proposed",
            "serviceType": [{"coding": [{"system": "http://snomed.info/sct", "code": "408443003"}]}],
            "participant": [{"actor": {"reference": f"Patient/{cerner_patient('pat-0003')}"}, "status": "needs-action"},
                            {"actor": {"reference": f"Location/{cerner_id('Location', 'loc-main')}"}, "status": "needs-action"}],
            "requestedPeriod": [{"start": "2026-04-20T13:00:00Z", "end": "2026-04-24T23:00:00Z"}],
            "comment": "Prefers mornings"}
    path, proposed = create(cerner, body)
    assert proposed["status"] == "proposed" and extension(proposed, "is-reschedulable") is False
    patient = cerner_patient("pat-0003")
    with_date = cerner.search("Appointment", [("patient", patient), ("date", "ge2026-04-01T00:00:00Z"), ("date", "lt2026-05-01T00:00:00Z")])
    assert proposed["id"] not in [e["resource"]["id"] for e in with_date.get("entry", [])]
    assert cerner.get("Appointment", params={"_id": proposed["id"]}).json()["entry"][0]["resource"]["status"] == "proposed"
    no_slot = cerner.patch(path, [{"op": "replace", "path": "/status", "value": "booked"}], headers={"If-Match": 'W/"0"'})
    assert no_slot.status_code == 422
    for missing in ("serviceType", "requestedPeriod"):
        partial = {k: v for k, v in body.items() if k != missing}
        assert cerner.post("Appointment", partial).status_code == 422, missing


def test_status_transitions_and_cancel_reason_rules(cerner):
    """§2.3: booked → arrived → checked-in → fulfilled; booked cannot go back to proposed;
    cancelationReason only together with replace /status cancelled (optional with it)."""
    path, _ = create(cerner, booked_body(free_slot(cerner)["id"]))
    reason = {"op": "add", "path": "/cancelationReason", "value": {"coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason", "code": "oth-err"}]}}
    alone = cerner.patch(path, [reason], headers={"If-Match": 'W/"0"'})
    assert alone.status_code == 422 and alone.json()["issue"][0]["expression"] == ["Appointment.cancelationReason"]
    back = cerner.patch(path, [{"op": "replace", "path": "/status", "value": "proposed"}], headers={"If-Match": 'W/"0"'})
    assert back.status_code == 422
    current = 'W/"0"'
    for status in ("arrived", "checked-in"):
        step = cerner.patch(path, [{"op": "replace", "path": "/status", "value": status}], headers={"If-Match": current})
        assert step.status_code == 200, (status, step.text)
        current = etag(step)  # §2.9 (2): echo the ETag; it is not always an integer
    with_reason = cerner.patch(path, CANCEL + [reason], headers={"If-Match": current})
    assert with_reason.status_code == 200
    after = cerner.get(path).json()
    assert after["status"] == "cancelled" and after["cancelationReason"]["coding"][0]["code"] == "oth-err"


def test_reschedule_by_replacing_the_slot(cerner):
    """§2.3: replace /slot reschedules: the old slot frees, the new one is busy, times follow."""
    first, second = free_slot(cerner, 0), free_slot(cerner, 3)
    path, _ = create(cerner, booked_body(first["id"]))
    moved = cerner.patch(path, [{"op": "replace", "path": "/slot/0/reference", "value": f"Slot/{second['id']}"}],
                         headers={"If-Match": 'W/"0"'})
    assert moved.status_code == 200, moved.text
    after = cerner.get(path).json()
    assert after["start"] == second["start"] and after["slot"] == [{"reference": f"Slot/{second['id']}"}]
    assert cerner.get(f"Slot/{first['id']}").json()["status"] == "free"
    assert cerner.get(f"Slot/{second['id']}").json()["status"] == "busy"


def test_a_slot_is_booked_once(cerner):
    """No slot is ever booked twice: the second booked create for a taken slot is 409."""
    slot = free_slot(cerner)
    create(cerner, booked_body(slot["id"]))
    again = cerner.post("Appointment", booked_body(slot["id"], patient="pat-0002"))
    assert again.status_code == 409 and again.json()["resourceType"] == "OperationOutcome"


def test_slot_names_its_scheduling_location_and_appointments_keep_an_action_comment(cerner):
    """§2.3: Slots carry the scheduling-location extension (a Location reference); Appointment
    PATCH may add the action-comment extension, which reads keep beside is-cancelable."""
    slot = free_slot(cerner)
    location = [e for e in slot["extension"] if e["url"] == EXTENSION + "scheduling-location"]
    assert len(location) == 1 and location[0]["valueReference"]["reference"].startswith("Location/")
    path, appointment = create(cerner, booked_body(slot["id"]))
    assert any(p["actor"]["reference"] == location[0]["valueReference"]["reference"] for p in appointment["participant"])
    comment = [{"op": "add", "path": "/extension/-", "value": {"url": EXTENSION + "action-comment", "valueString": "Running late"}}]
    assert cerner.patch(path, comment, headers={"If-Match": 'W/"0"'}).status_code == 200
    after = cerner.get(path).json()
    urls = [e["url"] for e in after["extension"]]
    assert EXTENSION + "action-comment" in urls and EXTENSION + "is-cancelable" in urls
    assert next(e["valueString"] for e in after["extension"] if e["url"].endswith("action-comment")) == "Running late"


def test_a_locked_appointment_patch_is_423_until_the_lock_lapses(cerner, client):
    """§2.3 patch errors: 423 Locked when the appointment is being modified by someone else. The
    admin API locks a resource (by its Cerner id) for a span of sandbox time."""
    path, appointment = create(cerner, booked_body(free_slot(cerner)["id"]))
    bad = client.admin("POST", "/_admin/locks", {"profile": "nope", "type": "Appointment", "id": appointment["id"], "seconds": 60})
    assert bad.status_code == 400 and bad.json()["field"] == "profile"
    locked = client.admin("POST", "/_admin/locks", {"profile": "cerner", "type": "Appointment", "id": appointment["id"], "seconds": 60})
    assert locked.status_code == 200, locked.text
    assert [entry["resource"] for entry in client.admin("GET", "/_admin/locks").json()["cerner"]] == [locked.json()["resource"]]
    refused = cerner.patch(path, CANCEL, headers={"If-Match": 'W/"0"'})
    assert refused.status_code == 423 and refused.json()["issue"][0]["code"] == "lock-error"
    assert cerner.get(path).json()["status"] == "booked"  # reads are not blocked
    client.admin("POST", "/_admin/clock/advance", {"seconds": 61})
    assert cerner.patch(path, CANCEL, headers={"If-Match": 'W/"0"'}).status_code == 200


def test_a_booked_slot_is_found_by_id_only(cerner):
    """Issue 13, §2.3: only free slots come back from a search by service-type or provider, but
    "booked slots can only be fetched by _id" — so Slot?_id= returns the booked slot."""
    slot = free_slot(cerner)
    create(cerner, booked_body(slot["id"], patient="pat-0006"))
    by_id = cerner.search("Slot", {"_id": slot["id"]})
    found = [e["resource"] for e in by_id["entry"] if e["search"]["mode"] == "match"]
    assert [s["id"] for s in found] == [slot["id"]] and found[0]["status"] == "busy"
    listed = [e["resource"]["id"] for e in cerner.search("Slot", [("service-type", "394814009")] + WINDOW + [("_count", "500")])["entry"]]
    assert slot["id"] not in listed


def test_an_insured_only_visit_needs_the_patients_coverage(cerner):
    """Issue 13 (insurance prerequisites) on Cerner: a booked create of the seed's
    PROCEDURE_CONSULT (which needs an active Coverage from Prairie, Heartland or Lakeshore) is a
    422 (§2.8 business rule) for a Medicare patient, and books for an insured one."""
    window = [("service-type", "4047611"), ("start", "ge2026-04-15T13:00:00Z"), ("start", "lt2026-04-15T17:00:00Z")]
    slot = cerner.search("Slot", window)["entry"][0]["resource"]["id"]
    procedure = {"coding": [{"system": "http://riverbend.example.org/fhir/CodeSystem/visit-type", "code": "PROCEDURE_CONSULT"}]}
    refused = cerner.post("Appointment", booked_body(slot, patient="pat-0008", appointmentType=procedure))
    assert refused.status_code == 422, refused.text
    assert "needs an active Coverage" in refused.json()["issue"][0]["diagnostics"]
    assert cerner.get(f"Slot/{slot}").json()["status"] == "free"
    create(cerner, booked_body(slot, patient="pat-0001", appointmentType=procedure))
    assert cerner.get(f"Slot/{slot}").json()["status"] == "busy"


def test_appointment_etags_are_not_always_integers(cerner):
    """§2.3, §2.9 (2): a patch answers a new weak ETag "such as W/"10" or W/"10-1"" — not always
    an integer. ASSUMPTION (profile: writes.versionSuffix): every Appointment version after the
    first shows as n-1. A client that echoes the ETag works; one that builds If-Match from an
    integer gets 409, as in production; meta.versionId and If-None-Match agree with the ETag."""
    path, created = create(cerner, booked_body(free_slot(cerner, 1)["id"]))
    assert created["meta"]["versionId"] == "0"
    arrived = cerner.patch(path, [{"op": "replace", "path": "/status", "value": "arrived"}], headers={"If-Match": 'W/"0"'})
    assert arrived.status_code == 200 and etag(arrived) == 'W/"1-1"'
    read = cerner.get(path)
    assert read.headers["ETag"] == 'W/"1-1"' and read.json()["meta"]["versionId"] == "1-1"
    assert cerner.get(path, headers={"If-None-Match": 'W/"1-1"'}).status_code == 304
    # A client that parses the version as an integer and counts on: W/"1" names no version.
    naive = cerner.patch(path, [{"op": "replace", "path": "/status", "value": "checked-in"}], headers={"If-Match": 'W/"1"'})
    assert naive.status_code == 409, naive.text
    assert 'If-Match is W/"1" but' in naive.json()["issue"][0]["diagnostics"]
    assert 'is at W/"1-1"' in naive.json()["issue"][0]["diagnostics"]
    echoed = cerner.patch(path, [{"op": "replace", "path": "/status", "value": "checked-in"}], headers={"If-Match": etag(read)})
    assert echoed.status_code == 200 and etag(echoed) == 'W/"2-1"'
    assert cerner.get(path).json()["status"] == "checked-in"
    # Types without the suffix keep integer ETags (a Slot hold below counts 0, 1, ...).
    slot = free_slot(cerner, 2)
    held = cerner.patch(f"Slot/{slot['id']}", PATCH_HOLD, headers={"If-Match": f'W/"{slot["meta"]["versionId"]}"'})
    assert held.status_code == 200 and etag(held).strip('W/"').isdigit()


def test_video_visit_links_are_patched_into_contained(cerner):
    """§2.3 "Patch an appointment": video-visit links go in contained[0] (the provider's) and
    contained[1] (the patient's); patching add operations again on an appointment already patched
    for links is 409. ASSUMPTION (profile comment): each link is an R4 Endpoint; only appointments
    at a virtual location take links; a replace of the address changes it."""
    virtual = [("-location", cerner_id("Location", "loc-telehealth"))]
    slot = cerner.search("Slot", [("service-type", "394814009")] + virtual + WINDOW)["entry"][0]["resource"]
    path, _ = create(cerner, booked_body(slot["id"]))

    def link(role):
        return {"resourceType": "Endpoint", "id": f"{role}-link", "status": "active",
                "connectionType": {"system": "http://terminology.hl7.org/CodeSystem/endpoint-connection-type",
                                   "code": "hl7-fhir-rest"},
                "payloadType": [{"text": "video visit"}], "address": f"https://video.example.org/visit/{role}"}

    # RFC 6902: the first patch adds the array (an add at /contained/0 needs it to exist).
    adds = [{"op": "add", "path": "/contained", "value": [link("provider"), link("patient")]}]
    patched = cerner.patch(path, adds, headers={"If-Match": 'W/"0"'})
    assert patched.status_code == 200, patched.text
    read = cerner.get(path).json()
    assert [c["address"] for c in read["contained"]] == ["https://video.example.org/visit/provider",
                                                         "https://video.example.org/visit/patient"]
    again = cerner.patch(path, [{"op": "add", "path": "/contained/0", "value": link("provider")}], headers={"If-Match": etag(patched)})
    assert again.status_code == 409 and again.json()["issue"][0]["expression"] == ["Appointment.contained"]
    moved = [{"op": "replace", "path": "/contained/1/address", "value": "https://video.example.org/visit/patient-2"}]
    replaced = cerner.patch(path, moved, headers={"If-Match": etag(patched)})
    assert replaced.status_code == 200, replaced.text
    assert cerner.get(path).json()["contained"][1]["address"] == "https://video.example.org/visit/patient-2"
    # Not an Endpoint with a URL: 422 naming the link.
    bad = [{"op": "replace", "path": "/contained/0/address", "value": "tel:+15555550100"}]
    refused = cerner.patch(path, bad, headers={"If-Match": etag(replaced)})
    assert refused.status_code == 422 and refused.json()["issue"][0]["expression"] == ["Appointment.contained[0]"]
    # An in-person appointment takes no links.
    office, _ = create(cerner, booked_body(free_slot(cerner, 3)["id"]))
    in_person = cerner.patch(office, adds, headers={"If-Match": 'W/"0"'})
    assert in_person.status_code == 422 and in_person.json()["issue"][0]["expression"] == ["Appointment.contained"]
