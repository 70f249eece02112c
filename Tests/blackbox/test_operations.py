"""$find, $hold and $book (Argonaut and IHE names), hold expiry in sandbox time, reschedule in
one call, and a race of every booking path on one slot. Clock: Monday 2026-04-13 08:00 Chicago."""
import threading

import requests

from conftest import outcome_text


def params(**values):
    parameters = []
    for name, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                parameters.append({"name": name.replace("_", "-"), "resource": item})
            else:
                parameters.append({"name": name.replace("_", "-"), "valueString": item})
    return {"resourceType": "Parameters", "parameter": parameters}


def find(client, **query):
    response = client.get("Appointment/$find", params=query)
    assert response.status_code == 200, response.text
    bundle = response.json()
    proposals = [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]
    outcomes = [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "outcome"]
    assert bundle["total"] == len(proposals) and len(outcomes) == 1
    return proposals, outcomes[0]


def slot_status(client, reference):
    return client.get(reference).json()["status"]


def test_find_hold_book_for_a_new_patient(client):
    proposals, outcome = find(client, start="2026-04-20", end="2026-04-25", practitioner="Practitioner/pract-raman",
                              **{"visit-type": "http://riverbend.example.org/fhir/CodeSystem/visit-type|NEW_PATIENT",
                                 "patient-reference": "Patient/pat-0300", "_count": 3})
    assert outcome["issue"][0]["severity"] == "information"
    assert 1 <= len(proposals) <= 3
    for proposal in proposals:
        assert proposal["status"] == "proposed" and proposal["minutesDuration"] == 40 and len(proposal["slot"]) == 2
        assert proposal["start"].startswith("2026-04-21T1") and proposal["start"][11:13] >= "13"  # Tuesday afternoon
        assert {p["status"] for p in proposal["participant"]} == {"needs-action"}
    again, _ = find(client, start="2026-04-20", end="2026-04-25", practitioner="Practitioner/pract-raman", **{"visit-type": "NEW_PATIENT",
                                                                                                           "patient-reference": "Patient/pat-0300", "_count": 3})
    assert {p["id"] for p in again}.isdisjoint({p["id"] for p in proposals})  # ephemeral ids
    chosen = proposals[0]
    held = client.post("Appointment/$hold", params(appt_id=f"Appointment/{chosen['id']}"))
    assert held.status_code == 200, held.text
    appointment = held.json()["entry"][0]["resource"]
    assert appointment["status"] == "pending" and {p["status"] for p in appointment["participant"]} == {"tentative"}
    assert held.headers["Expires"] == "Mon, 13 Apr 2026 13:10:00 GMT"
    assert [slot_status(client, s["reference"]) for s in chosen["slot"]] == ["busy-tentative"] * 2
    booked = client.post(f"Appointment/{chosen['id']}/$book", params(patient_id="Patient/pat-0300", comment="Booked by the voice agent"))
    assert booked.status_code == 200, booked.text
    result = booked.json()["entry"][0]["resource"]
    assert result["status"] == "booked" and {p["status"] for p in result["participant"]} == {"accepted"}
    assert result["comment"] == "Booked by the voice agent"
    assert [slot_status(client, s["reference"]) for s in chosen["slot"]] == ["busy"] * 2
    assert client.get(f"Appointment/{chosen['id']}").json()["status"] == "booked"


def test_find_preference_order_and_and_across_actor_types(client):
    proposals, _ = find(client, start="2026-04-20T00:00:00-05:00", end="2026-04-24T00:00:00-05:00",
                        practitioner=["Practitioner/pract-reyes", "Practitioner/pract-okafor"], _count=200)
    actors = [next(p["actor"]["reference"] for p in a["participant"] if p["actor"]["reference"].startswith("Practitioner/")) for a in proposals]
    first_okafor = actors.index("Practitioner/pract-okafor")
    assert all(a == "Practitioner/pract-reyes" for a in actors[:first_okafor])  # reyes preferred
    at_northside, _ = find(client, start="2026-04-20", end="2026-04-24", practitioner="Practitioner/pract-hoffmann",
                           **{"location-reference": "Location/loc-northside"})
    assert at_northside and all(any(p["actor"]["reference"] == "Location/loc-northside" for p in a["participant"]) for a in at_northside)
    none, outcome = find(client, start="2026-04-20", end="2026-04-24", practitioner="Practitioner/pract-okafor",
                         **{"location-reference": "Location/loc-northside"})
    assert none == [] and "no availability" in outcome["issue"][0]["diagnostics"]


def test_find_by_post_and_ihe_names(client):
    response = client.post("Appointment/$find", params(start="2026-04-20", end="2026-04-22", specialty="http://snomed.info/sct|394582007",
                                                       reason="http://snomed.info/sct|271807003"))
    assert response.status_code == 200
    bundle = response.json()
    proposals = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "match"]
    assert proposals and all("Practitioner/pract-larsen" in str(p["participant"]) for p in proposals)
    notes = [i["diagnostics"] for e in bundle["entry"] if e["search"]["mode"] == "outcome" for i in e["resource"]["issue"]]
    assert any("reason" in n for n in notes)


def test_find_errors(client):
    assert client.get("Appointment/$find", params={"end": "2026-04-22"}).status_code == 400
    assert client.get("Appointment/$find", params={"start": "soon", "end": "2026-04-22"}).status_code == 400
    assert client.get("Appointment/$find", params={"start": "2026-04-22", "end": "2026-04-20"}).status_code == 400
    assert client.get("Appointment/$hold").status_code == 405
    assert client.get("Appointment/$nothing").status_code == 404
    assert client.post("Appointment/$hold", params(appt_id="Appointment/unknown")).status_code == 404
    assert client.post("Appointment/$book", params(comment="x")).status_code == 400


def test_hold_lapses_when_the_clock_passes_it(client):
    proposal = find(client, start="2026-04-21", end="2026-04-23", practitioner="Practitioner/pract-chen", _count=1)[0][0]
    held = client.post("Appointment/$hold", params(appt_id=proposal["id"]))
    assert held.status_code == 200
    slot = proposal["slot"][0]["reference"]
    client.admin("POST", "/_admin/clock/advance", {"seconds": 9 * 60})
    assert slot_status(client, slot) == "busy-tentative"
    client.admin("POST", "/_admin/clock/advance", {"seconds": 2 * 60})
    assert slot_status(client, slot) == "free"
    lapsed = client.get(f"Appointment/{proposal['id']}").json()
    assert lapsed["status"] == "cancelled" and {p["status"] for p in lapsed["participant"]} == {"declined"}
    late = client.post(f"Appointment/{proposal['id']}/$book", params(patient_id="Patient/pat-0001"))
    assert late.status_code in (409, 422)


def test_book_with_cancelled_appt_id_reschedules_in_one_call(client):
    first = find(client, start="2026-04-21", end="2026-04-23", practitioner="Practitioner/pract-reyes", _count=1)[0][0]
    booked = client.post("Appointment/$book", params(appt_id=first["id"], patient_id="Patient/pat-0005")).json()["entry"][0]["resource"]
    later = find(client, start="2026-04-28", end="2026-04-30", practitioner="Practitioner/pract-reyes", _count=1)[0][0]
    moved = client.post("Appointment/$book", params(appt_id=later["id"], patient_id="Patient/pat-0005", cancelled_appt_id=f"Appointment/{booked['id']}"))
    assert moved.status_code == 200, moved.text
    assert client.get(f"Appointment/{booked['id']}").json()["status"] == "cancelled"
    assert slot_status(client, first["slot"][0]["reference"]) == "free"
    assert slot_status(client, later["slot"][0]["reference"]) == "busy"
    # All or nothing: a failing book leaves the old appointment booked.
    again = client.post("Appointment/$book", params(appt_id=later["id"], patient_id="Patient/pat-0005",
                                                    cancelled_appt_id=f"Appointment/{moved.json()['entry'][0]['resource']['id']}"))
    assert again.status_code in (409, 422)


def test_book_an_inline_appointment_resource(client):
    proposal = find(client, start="2026-04-22", end="2026-04-24", practitioner="Practitioner/pract-hoffmann", _count=1)[0][0]
    inline = dict(proposal)
    inline.pop("id")
    response = client.post("Appointment/$book", params(appt_resource=inline, patient_id="Patient/pat-0011"))
    assert response.status_code == 200, response.text
    assert response.json()["entry"][0]["resource"]["status"] == "booked"
    again = client.post("Appointment/$book", params(appt_resource=inline, patient_id="Patient/pat-0012"))
    assert again.status_code == 409 and proposal["slot"][0]["reference"][5:] in outcome_text(again)


def test_capability_lists_the_operations(client):
    statement = client.get("metadata").json()
    appointment = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Appointment")
    assert {o["name"] for o in appointment["operation"]} == {"find", "hold", "book"}
    assert all(o["definition"].startswith("http://fhir.org/guides/argonaut/scheduling/OperationDefinition/") for o in appointment["operation"])


def test_every_booking_path_races_for_one_slot_and_one_wins(client):
    proposals, _ = find(client, start="2026-04-22", end="2026-04-24", practitioner="Practitioner/pract-martinez-garcia", _count=1)
    slot = proposals[0]["slot"]
    base = client.base
    # 34 plain creates, 33 holds of fresh proposals, 33 direct books of fresh proposals, same slot.
    fresh = [find(client, start=proposals[0]["start"], end=proposals[0]["end"], practitioner="Practitioner/pract-martinez-garcia", _count=1)[0][0]
             for _ in range(66)]
    assert all(p["slot"] == slot for p in fresh)
    results = []
    lock = threading.Lock()
    barrier = threading.Barrier(100)

    def run(kind, index):
        session = requests.Session()
        headers = {"Content-Type": "application/fhir+json"}
        barrier.wait()
        if kind == "create":
            body = {"resourceType": "Appointment", "status": "booked", "slot": slot,
                    "participant": [{"actor": {"reference": f"Patient/pat-{index + 50:04d}"}, "status": "accepted"}]}
            response = session.post(base + "/Appointment", json=body, headers=headers, timeout=60)
        elif kind == "hold":
            response = session.post(base + "/Appointment/$hold", json=params(appt_id=fresh[index]["id"]), headers=headers, timeout=60)
        else:
            response = session.post(base + "/Appointment/$book", json=params(appt_id=fresh[33 + index]["id"], patient_id=f"Patient/pat-{index + 150:04d}"),
                                    headers=headers, timeout=60)
        with lock:
            results.append((kind, response.status_code))

    threads = [threading.Thread(target=run, args=("create", n)) for n in range(34)]
    threads += [threading.Thread(target=run, args=("hold", n)) for n in range(33)]
    threads += [threading.Thread(target=run, args=("book", n)) for n in range(33)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(code for _, code in results)
    winners = [r for r in results if r[1] in (200, 201)]
    assert len(winners) == 1, results
    assert codes.count(409) == 99, results
    holders = client.search("Appointment", {"slot": slot[0]["reference"], "status": "booked,pending"})
    assert holders["total"] == 1


def test_patient_match_scores_name_birth_date_and_phone(client):
    candidate = {"resourceType": "Patient", "name": [{"family": "MARTIN", "given": ["Chloe"]}], "birthDate": "1995-11-11",
                 "telecom": [{"system": "phone", "value": "+1 (847) 555-0160"}]}
    response = client.post("Patient/$match", params(resource=candidate))
    assert response.status_code == 200, response.text
    entries = response.json()["entry"]
    top = {e["resource"]["id"]: e["search"] for e in entries}
    assert top["pat-0020"]["score"] == 1.0 and top["pat-0021"]["score"] == 1.0
    assert top["pat-0020"]["extension"][0]["valueCode"] == "certain"
    maria = {"resourceType": "Patient", "name": [{"family": "Garcia", "given": ["Maria"]}], "birthDate": "1991-07-30"}
    graded = {e["resource"]["id"]: e["search"]["extension"][0]["valueCode"] for e in client.post("Patient/$match", params(resource=maria)).json()["entry"]}
    assert graded["pat-0002"] == "certain" and graded["pat-0001"] == "possible"
    only = client.post("Patient/$match", {"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": maria}, {"name": "onlyCertainMatches", "valueBoolean": True}]}).json()
    assert [e["resource"]["id"] for e in only["entry"]] == ["pat-0002"]
    assert client.post("Patient/$match", params(count="1")).status_code == 400
    nobody = client.post("Patient/$match", params(resource={"resourceType": "Patient", "name": [{"family": "Zzyzx"}]})).json()
    assert nobody["total"] == 0


def test_new_patient_through_operations_reschedule_and_cancel(client):
    patient = client.post("Patient", {"resourceType": "Patient", "name": [{"family": "Opsflow", "given": ["Ines"]}], "birthDate": "1988-08-08"}).json()
    assert client.post("Patient/$match", params(resource={"resourceType": "Patient", "name": [{"family": "Opsflow", "given": ["Ines"]}],
                                                            "birthDate": "1988-08-08"})).json()["entry"][0]["resource"]["id"] == patient["id"]
    query = {"start": "2026-04-20", "end": "2026-04-25", "practitioner": "Practitioner/pract-okafor", "visit-type": "NEW_PATIENT",
             "patient-reference": f"Patient/{patient['id']}", "_count": 10}
    proposals = find(client, **query)[0]
    first = proposals[0]
    # Proposals may overlap (09:00-09:40 and 09:20-10:00 are both options); take one that does not.
    second = next(p for p in proposals[1:] if not {s["reference"] for s in p["slot"]} & {s["reference"] for s in first["slot"]})
    assert client.post("Appointment/$hold", params(appt_id=first["id"])).status_code == 200
    booked = client.post("Appointment/$book", params(appt_id=first["id"], patient_id=f"Patient/{patient['id']}")).json()["entry"][0]["resource"]
    assert [slot_status(client, s["reference"]) for s in first["slot"]] == ["busy", "busy"]
    # Reschedule: a fresh proposal for the same patient (still new: the first visit is being replaced).
    moved = client.post("Appointment/$book", params(appt_id=second["id"], patient_id=f"Patient/{patient['id']}",
                                                    cancelled_appt_id=booked["id"]))
    assert moved.status_code == 200, moved.text
    assert [slot_status(client, s["reference"]) for s in first["slot"]] == ["free", "free"]
    cancel = client.patch(f"Appointment/{second['id']}", [{"op": "replace", "path": "/status", "value": "cancelled"}])
    assert cancel.status_code == 200
    assert [slot_status(client, s["reference"]) for s in second["slot"]] == ["free", "free"]


def test_lead_time_is_enforced(client):
    # New-patient visits need 24 hours' notice; the clock is Monday 08:00.
    today = client.search("Slot", {"schedule": "sched-okafor-main", "status": "free", "start": "lt2026-04-14", "_count": 100})
    slots = [e["resource"] for e in today.get("entry", [])]
    pairs = [(a, b) for a, b in zip(slots, slots[1:]) if a["end"] == b["start"]]
    if not pairs:
        return
    a, b = pairs[0]
    body = {"resourceType": "Appointment", "status": "booked",
            "appointmentType": {"coding": [{"system": "http://riverbend.example.org/fhir/CodeSystem/visit-type", "code": "NEW_PATIENT"}]},
            "slot": [{"reference": f"Slot/{a['id']}"}, {"reference": f"Slot/{b['id']}"}],
            "participant": [{"actor": {"reference": "Patient/pat-0319"}, "status": "accepted"}]}
    response = client.post("Appointment", body)
    assert response.status_code == 422 and "24 hours" in outcome_text(response)


def test_holds_survive_a_restart_with_a_data_directory(tmp_path):
    import signal

    from conftest import CLOCK, Client, Sandbox
    data = str(tmp_path / "data")
    server = Sandbox("--clock", CLOCK, "--data-dir", data)
    client = Client(server.origin)
    proposal = find(client, start="2026-04-21", end="2026-04-23", practitioner="Practitioner/pract-chen", _count=1)[0][0]
    assert client.post("Appointment/$hold", params(appt_id=proposal["id"])).status_code == 200
    server.stop(signal.SIGKILL)
    again = Sandbox("--clock", CLOCK, "--data-dir", data)
    try:
        client = Client(again.origin)
        slot = proposal["slot"][0]["reference"]
        assert slot_status(client, slot) == "busy-tentative"
        client.admin("POST", "/_admin/clock/advance", {"seconds": 11 * 60})
        assert slot_status(client, slot) == "free"
        assert client.get(f"Appointment/{proposal['id']}").json()["status"] == "cancelled"
    finally:
        again.stop()


def test_patient_and_encounter_everything(client):
    """R4 $everything: Patient/[id]/$everything is the patient and its compartment as one
    searchset (the patient first, search mode match, the rest include); Encounter/[id]/$everything
    is the encounter, its patient and what names the encounter; _type narrows, _since keeps newer
    versions, paging parameters are refused by name, an unknown id is 404."""
    encounter = client.post("Encounter", {
        "resourceType": "Encounter", "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": "Patient/pat-0001"}}).json()
    observation = client.post("Observation", {
        "resourceType": "Observation", "status": "final", "code": {"text": "Blood pressure"},
        "subject": {"reference": "Patient/pat-0001"}, "encounter": {"reference": f"Encounter/{encounter['id']}"}}).json()
    everything = client.get("Patient/pat-0001/$everything")
    assert everything.status_code == 200, everything.text
    bundle = everything.json()
    assert bundle["type"] == "searchset" and bundle["total"] == len(bundle["entry"])
    first, rest = bundle["entry"][0], bundle["entry"][1:]
    assert first["resource"]["id"] == "pat-0001" and first["search"]["mode"] == "match"
    assert all(e["search"]["mode"] == "include" for e in rest)
    found = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in rest}
    assert {("Encounter", encounter["id"]), ("Observation", observation["id"]), ("Coverage", "cov-0001"),
            ("Appointment", "appt-0001")} <= found
    assert not any(kind in ("Practitioner", "Location", "Slot") for kind, _ in found)
    visit = client.get(f"Encounter/{encounter['id']}/$everything").json()
    assert [(e["resource"]["resourceType"], e["search"]["mode"]) for e in visit["entry"]] == [
        ("Encounter", "match"), ("Patient", "include"), ("Observation", "include")]
    narrowed = client.get("Patient/pat-0001/$everything", params={"_type": "Observation,Encounter"}).json()
    assert {e["resource"]["resourceType"] for e in narrowed["entry"]} == {"Patient", "Observation", "Encounter"}
    since = client.get("Patient/pat-0001/$everything", params={"_since": "2026-04-13T13:00:00Z"}).json()
    assert len(since["entry"]) == len(bundle["entry"])
    later = client.get("Patient/pat-0001/$everything", params={"_since": "2030-01-01T00:00:00Z"}).json()
    assert [e["resource"]["id"] for e in later["entry"]] == ["pat-0001"]
    for refused, named in (({"_count": "5"}, "_count"), ({"_type": "Nonsense"}, "Nonsense"), ({"_since": "yesterday"}, "_since")):
        response = client.get("Patient/pat-0001/$everything", params=refused)
        assert response.status_code == 400 and named in outcome_text(response)
    assert client.get("Patient/pat-9999/$everything").status_code == 404
    assert client.get("Patient/$everything").status_code == 400
