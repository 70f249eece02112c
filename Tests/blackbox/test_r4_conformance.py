"""R4 rules the generic profile broke (issue 13, "Generic profile (R4 spec)"): choice elements,
instance history paging, Schedule's `date`, unknown appointment types, and Slot's `_lastUpdated`.
Each test names the R4 rule. The session clock is Monday 2026-04-13 08:00 America/Chicago."""
from urllib.parse import parse_qsl, urlsplit

from conftest import issues

VISIT_TYPES = "http://riverbend.example.org/fhir/CodeSystem/visit-type"
V2_0276 = "http://terminology.hl7.org/CodeSystem/v2-0276"


def test_a_choice_element_takes_one_type_only(client):
    """R4 JSON, "Choice of Datatypes": value[x] appears under exactly one type, so a Patient with
    deceasedBoolean and deceasedDateTime is refused naming deceased[x]; either one alone is fine."""
    both = client.post("Patient", {"resourceType": "Patient", "name": [{"family": "Twice"}],
                                   "deceasedBoolean": False, "deceasedDateTime": "2020-01-01"})
    assert both.status_code in (400, 422), both.text
    found = issues(both.json())
    assert any(i.get("expression") == ["Patient.deceased[x]"] for i in found), found
    assert any("deceasedBoolean" in i["diagnostics"] and "deceasedDateTime" in i["diagnostics"] for i in found)
    # In a nested type too (Observation.component[].value[x]), and with a primitive's _ sibling.
    nested = client.post("Observation", {"resourceType": "Observation", "status": "final", "code": {"text": "bp"},
                                         "component": [{"code": {"text": "sys"}, "valueString": "120", "valueInteger": 120}]})
    assert nested.status_code in (400, 422)
    assert any(i.get("expression") == ["Observation.component[0].value[x]"] for i in issues(nested.json()))
    sibling = client.post("Patient", {"resourceType": "Patient", "deceasedBoolean": True,
                                      "_deceasedBoolean": {"extension": [{"url": "http://example.org/x", "valueString": "y"}]}})
    assert sibling.status_code == 201, sibling.text
    assert client.post("Patient", {"resourceType": "Patient", "deceasedDateTime": "2020-01-01"}).status_code == 201


def test_instance_history_pages_with_next_links(client):
    """R4 http.html#history: _count pages a history like a search, with a next link until the
    last page; following the links yields every version once, newest first, even when a new
    version is written between pages."""
    created = client.post("Patient", {"resourceType": "Patient", "name": [{"family": "Pager"}]})
    assert created.status_code == 201
    path = f"Patient/{created.json()['id']}"
    for given in ("A", "B", "C", "D"):
        assert client.put(path, {"resourceType": "Patient", "id": created.json()["id"],
                                 "name": [{"family": "Pager", "given": [given]}]}).status_code == 200
    page = client.get(f"{path}/_history", params={"_count": 2}).json()
    seen = []
    while True:
        assert page["type"] == "history"
        seen += [int(e["resource"]["meta"]["versionId"]) for e in page["entry"]]
        links = {link["relation"]: link["url"] for link in page["link"]}
        if "next" not in links:
            break
        if len(seen) == 2:
            # A write between pages must not shift the next page.
            assert client.put(path, {"resourceType": "Patient", "id": created.json()["id"],
                                     "name": [{"family": "Pager", "given": ["E"]}]}).status_code == 200
        assert dict(parse_qsl(urlsplit(links["next"]).query))["_count"] == "2"
        page = client.get(links["next"]).json()
    assert seen == [5, 4, 3, 2, 1]
    assert len(client.get(f"{path}/_history", params={"_count": 10}).json()["entry"]) == 6


def test_schedule_date_matches_the_schedules_whose_horizon_contains_it(client):
    """R4 Schedule `date`: "Schedule resources that have a period that contains this date": a day
    inside the planning horizon finds the active schedules; a day outside finds none."""
    every = client.search("Schedule", {"_count": 100})
    inside = client.search("Schedule", {"date": "2026-04-20", "_count": 100})
    assert inside.get("total", 0) > 0
    assert sorted(e["resource"]["id"] for e in inside["entry"]) == sorted(e["resource"]["id"] for e in every["entry"])
    assert client.search("Schedule", {"date": "2027-04-20"}).get("total", 0) == 0
    assert client.search("Schedule", {"date": "2020-01-01"}).get("total", 0) == 0


def free_slot(client):
    bundle = client.search("Slot", {"schedule": "sched-okafor-main", "status": "free", "start": "ge2026-04-15", "_count": 1})
    return bundle["entry"][0]["resource"]["id"]


def booked(slot, coding):
    return {"resourceType": "Appointment", "status": "booked", "slot": [{"reference": f"Slot/{slot}"}],
            "appointmentType": {"coding": [coding]},
            "participant": [{"actor": {"reference": "Patient/pat-0003"}, "status": "accepted"}]}


def test_an_appointment_type_the_clinic_does_not_know_is_422(client):
    """R4 Appointment.appointmentType (example binding v2-0276) and the clinic's visit types: a
    type in no system the clinic knows, or an unknown code, is a business-rule 422 naming
    Appointment.appointmentType and takes no slot; R4's v2-0276 codes and the clinic's codes book."""
    slot = free_slot(client)
    for coding in ({"system": "http://example.org/visit-types", "code": "FOLLOW_UP"}, {"system": V2_0276, "code": "NOPE"},
                   {"system": VISIT_TYPES, "code": "NOPE"}):
        response = client.post("Appointment", booked(slot, coding))
        assert response.status_code == 422, (coding, response.text)
        assert issues(response.json())[0]["expression"] == ["Appointment.appointmentType"]
    assert client.get(f"Slot/{slot}").json()["status"] == "free"
    assert client.post("Appointment", booked(slot, {"system": V2_0276, "code": "FOLLOWUP"})).status_code == 201
    other = free_slot(client)
    assert client.post("Appointment", booked(other, {"system": VISIT_TYPES, "code": "FOLLOW_UP"})).status_code == 201


def test_slot_lists_and_serves_id_and_last_updated(client):
    """R4 search.html: every resource type supports _id and _lastUpdated; the CapabilityStatement
    lists them for Slot, and a booking moves the slot's lastUpdated so _lastUpdated finds it."""
    statement = client.get("metadata", headers={"Accept": "application/fhir+json"}).json()
    slot_type = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Slot")
    names = [p["name"] for p in slot_type["searchParam"]]
    assert "_id" in names and "_lastUpdated" in names
    slot = free_slot(client)
    before = client.search("Slot", {"_lastUpdated": "gt2026-04-13T13:00:00Z", "_count": 500})
    assert slot not in [e["resource"]["id"] for e in before.get("entry", [])]
    client.admin("POST", "/_admin/clock/advance", {"seconds": 60})
    assert client.post("Appointment", booked(slot, {"system": V2_0276, "code": "ROUTINE"})).status_code == 201
    after = client.search("Slot", {"_lastUpdated": "gt2026-04-13T13:00:30Z", "_count": 500})
    assert [e["resource"]["id"] for e in after["entry"]] == [slot]
    assert after["entry"][0]["resource"]["meta"]["lastUpdated"].startswith("2026-04-13T13:01:00")


def test_included_resources_are_bounded_by_the_tokens_scopes(client):
    """SMART App Launch (scopes and launch context): a token grants access to the resource types
    its scopes name, and an _include does not widen that: with only Slot scopes, Slot:schedule
    brings no Schedules (the search itself still answers); with Schedule too, it does."""
    import requests
    def token(scope):
        response = requests.post(client.origin + "/fhir/auth/token", data={"grant_type": "client_credentials", "scope": scope},
                                 auth=("sandbox-secret", "sandbox-secret-TEST-ONLY"))
        assert response.status_code == 200, response.text
        return {"Authorization": "Bearer " + response.json()["access_token"]}
    params = {"schedule": "sched-okafor-main", "status": "free", "start": "ge2026-04-15", "_count": 3, "_include": "Slot:schedule"}
    narrow = client.get("Slot", params=params, headers=token("system/Slot.read")).json()
    assert [e["search"]["mode"] for e in narrow["entry"]] == ["match"] * 3
    wide = client.get("Slot", params=params, headers=token("system/Slot.read system/Schedule.read")).json()
    assert [e["resource"]["resourceType"] for e in wide["entry"] if e["search"]["mode"] == "include"] == ["Schedule"]


def procedure_slot(client):
    bundle = client.search("Slot", {"schedule": "sched-nguyen-main", "status": "free", "start": "ge2026-04-16",
                                    "appointment-type": "PROCEDURE_CONSULT", "_count": 1})
    return bundle["entry"][0]["resource"]["id"]


def test_an_insured_only_visit_type_needs_an_active_coverage_from_its_payers(client):
    """Issue 13 (insurance prerequisites): Seeds/default/appointment-types.yaml gives
    PROCEDURE_CONSULT an insurance prerequisite (active Coverage from Prairie, Heartland or
    Lakeshore on the visit's date). Booking it for a patient without one (pat-0015 has no
    coverage, pat-0008 is a Medicare patient) is a 422 naming the rule; Maria Garcia (Lakeshore)
    books it; $find offers it only to patients who could book it."""
    slot = procedure_slot(client)
    concept = {"system": VISIT_TYPES, "code": "PROCEDURE_CONSULT"}
    for patient in ("pat-0015", "pat-0008"):
        body = booked(slot, concept)
        body["participant"][0]["actor"]["reference"] = f"Patient/{patient}"
        refused = client.post("Appointment", body)
        assert refused.status_code == 422, refused.text
        issue = issues(refused.json())[0]
        assert issue["expression"] == ["Appointment.appointmentType"]
        assert "needs an active Coverage" in issue["diagnostics"] and "org-payer-lakeshore" in issue["diagnostics"]
    assert client.get(f"Slot/{slot}").json()["status"] == "free"
    def offered(patient):
        found = client.post("Appointment/$find", {"resourceType": "Parameters", "parameter": [
            {"name": "start", "valueDateTime": "2026-04-15T00:00:00-05:00"}, {"name": "end", "valueDateTime": "2026-04-23T00:00:00-05:00"},
            {"name": "visit-type", "valueString": f"{VISIT_TYPES}|PROCEDURE_CONSULT"},
            {"name": "patient-reference", "valueString": f"Patient/{patient}"}]})
        assert found.status_code == 200
        return [e["resource"] for e in found.json().get("entry", []) if e["resource"]["resourceType"] == "Appointment"]
    assert offered("pat-0008") == [] and offered("pat-0001")
    body = booked(slot, concept)
    body["participant"][0]["actor"]["reference"] = "Patient/pat-0001"
    assert client.post("Appointment", body).status_code == 201


def written_slot(start="2026-04-18T09:00:00-05:00", end="2026-04-18T09:20:00-05:00", **extra):
    return {"resourceType": "Slot", "schedule": {"reference": "Schedule/sched-okafor-main"}, "status": "free",
            "start": start, "end": end, "appointmentType": {"coding": [{"system": VISIT_TYPES, "code": "FOLLOW_UP"}]}, **extra}


def test_slots_can_be_created_updated_and_deleted(client):
    """R4 Slot is a writable resource: the CapabilityStatement lists create, update and delete;
    a written slot is searchable and bookable at once; an element the server cannot keep is a 422
    (not silently dropped); a slot an appointment holds cannot be changed (409); delete removes it."""
    statement = client.get("metadata", headers={"Accept": "application/fhir+json"}).json()
    slot_type = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Slot")
    assert {"create", "update", "delete", "vread"} <= {i["code"] for i in slot_type["interaction"]}
    created = client.post("Slot", written_slot())
    assert created.status_code == 201, created.text
    slot = created.json()
    assert client.get(created.headers["Location"]).status_code == 200
    assert slot["start"] == "2026-04-18T09:00:00-05:00" and slot["status"] == "free"
    found = client.search("Slot", {"schedule": "sched-okafor-main", "start": "2026-04-18T09:00:00-05:00"})
    assert [e["resource"]["id"] for e in found["entry"]] == [slot["id"]]
    refused = client.post("Slot", written_slot(comment="only for Mrs. Lee"))
    assert refused.status_code == 422 and issues(refused.json())[0]["expression"] == ["Slot.comment"]
    assert client.post("Slot", {**written_slot(), "schedule": {"reference": "Schedule/nope"}}).status_code == 422
    moved = client.put(f"Slot/{slot['id']}", {**written_slot("2026-04-18T10:00:00-05:00", "2026-04-18T10:20:00-05:00"), "id": slot["id"]},
                       headers={"If-Match": created.headers["ETag"]})
    assert moved.status_code == 200 and moved.json()["meta"]["versionId"] == "2"
    assert client.put(f"Slot/{slot['id']}", {**written_slot(), "id": slot["id"]}, headers={"If-Match": 'W/"1"'}).status_code == 412
    appointment = client.post("Appointment", booked(slot["id"], {"system": VISIT_TYPES, "code": "FOLLOW_UP"}))
    assert appointment.status_code == 201, appointment.text
    held = client.delete(f"Slot/{slot['id']}")
    assert held.status_code == 409 and "Appointment/" in issues(held.json())[0]["diagnostics"]
    cancel = [{"op": "replace", "path": "/status", "value": "cancelled"}]
    assert client.patch(f"Appointment/{appointment.json()['id']}", cancel).status_code == 200
    assert client.delete(f"Slot/{slot['id']}").status_code == 204
    assert client.get(f"Slot/{slot['id']}").status_code == 404


def test_a_written_slot_overrides_the_generated_one_until_a_reset(client):
    """A written slot with a generated slot's id replaces it (an update creates nothing new); a
    reset restores the templates' slot."""
    generated = free_slot(client)
    original = client.get(f"Slot/{generated}").json()
    blocked = client.put(f"Slot/{generated}", {**original, "status": "busy-unavailable"})
    assert blocked.status_code == 200 and blocked.json()["status"] == "busy-unavailable"
    assert client.get(f"Slot/{generated}").json()["status"] == "busy-unavailable"
    free = client.search("Slot", {"schedule": "sched-okafor-main", "status": "free", "start": "ge2026-04-15", "_count": 500})
    assert generated not in [e["resource"]["id"] for e in free["entry"]]
    assert client.admin("POST", "/_admin/reset").status_code == 200
    assert client.get(f"Slot/{generated}").json()["status"] == "free"
