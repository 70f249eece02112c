"""Scheduling through plain REST: availability from the templates, booking on slots without
double booking, cancel and reschedule, the seed's booking rules, the clock moving the horizon.
The session clock is Monday 2026-04-13 08:00 America/Chicago."""
import threading

from conftest import ids, outcome_text

VISIT = "http://riverbend.example.org/fhir/CodeSystem/visit-type"


def free_slots(client, **params):
    params = {"status": "free", "_count": 1000, **params}
    return [e["resource"] for e in client.search("Slot", params).get("entry", []) if e["search"]["mode"] == "match"]


def appointment(slots, patient="pat-0001", visit="FOLLOW_UP", status="booked", practitioner=None, **extra):
    body = {"resourceType": "Appointment", "status": status,
            "appointmentType": {"coding": [{"system": VISIT, "code": visit}]},
            "slot": [{"reference": f"Slot/{s['id'] if isinstance(s, dict) else s}"} for s in slots],
            "participant": [{"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"}]}
    if slots and isinstance(slots[0], dict):
        body["start"], body["end"] = slots[0]["start"], slots[-1]["end"]
    if practitioner:
        body["participant"].append({"actor": {"reference": f"Practitioner/{practitioner}"}, "status": "accepted"})
    body.update(extra)
    return body


def contiguous_pair(slots):
    for a, b in zip(slots, slots[1:]):
        if a["end"] == b["start"] and a["schedule"] == b["schedule"]:
            return [a, b]
    raise AssertionError("no two contiguous free slots")


def status_of(client, slot_id):
    return client.get(f"Slot/{slot_id}").json()["status"]


def test_availability_reflects_the_templates(client):
    okafor = free_slots(client, **{"schedule.actor": "Practitioner/pract-okafor", "start": ["ge2026-04-13", "lt2026-04-27"]})
    assert okafor and all(s["schedule"]["reference"] == "Schedule/sched-okafor-main" for s in okafor)
    assert all(s["start"][11:16] not in ("12:00", "12:20", "12:40") for s in okafor)  # lunch
    assert not [s for s in okafor if s["start"].startswith(("2026-04-17", "2026-04-24"))]  # never Fridays
    starts = [s["start"] for s in okafor]
    assert starts == sorted(starts)
    everything = client.search("Slot", {"schedule": "sched-okafor-main", "start": ["ge2026-04-13", "lt2026-04-27"], "_summary": "count"})
    busy = client.search("Slot", {"schedule": "sched-okafor-main", "start": ["ge2026-04-13", "lt2026-04-27"], "status": "busy",
                                  "_summary": "count"})
    assert 0.5 <= busy["total"] / everything["total"] <= 0.85
    nguyen_tuesday = client.search("Slot", {"schedule": "sched-nguyen-main", "start": ["ge2026-04-14T00:00", "lt2026-04-15T00:00"],
                                            "_count": 100})
    assert all(e["resource"]["start"][11:13] >= "13" for e in nguyen_tuesday.get("entry", []))  # surgery block


def test_slot_search_parameters_and_include(client):
    new_patient = free_slots(client, **{"service-type": f"{VISIT}|NEW_PATIENT", "schedule": "sched-raman-main"})
    assert new_patient and all(s["start"][11:13] >= "13" and s["start"].startswith(("2026-04-14", "2026-04-21", "2026-04-28", "2026-05", "2026-06", "2026-07"))
                               for s in new_patient)
    assert all(s["appointmentType"]["coding"][1]["code"] == "NEW_PATIENT" for s in new_patient)
    cardiology = client.search("Slot", {"specialty": "http://snomed.info/sct|394579002", "_count": 5})
    assert all(e["resource"]["schedule"]["reference"] == "Schedule/sched-raman-main" for e in cardiology["entry"])
    telehealth = client.search("Slot", {"appointment-type": "TELEHEALTH", "_count": 3})
    assert all(e["resource"]["schedule"]["reference"] == "Schedule/sched-obrien-telehealth" for e in telehealth["entry"])
    included = client.search("Slot", {"schedule": "sched-okafor-main", "_count": 2, "_include": "Slot:schedule"})
    assert ids(included, "include") == ["sched-okafor-main"]
    by_location = client.search("Slot", {"schedule.actor": "Location/loc-telehealth", "_count": 3})
    assert by_location["entry"] and all("telehealth" in e["resource"]["id"] for e in by_location["entry"])
    assert client.search("Slot", {"identifier": "x"})["total"] == 0
    one = free_slots(client, schedule="sched-reyes-main")[0]
    assert ids(client.search("Slot", {"_id": one["id"]})) == [one["id"]]
    assert ids(client.search("Slot", {"start": one["start"], "schedule": "sched-reyes-main"})) == [one["id"]]
    assert client.get("Slot", params={"_sort": "status"}).status_code == 400
    descending = client.search("Slot", {"schedule": "sched-reyes-main", "_sort": "-start", "_count": 3})
    starts = [e["resource"]["start"] for e in descending["entry"]]
    assert starts == sorted(starts, reverse=True)


def test_slot_writes_keep_the_schedule_consistent(client):
    """Slots are writable (R4), but only on an existing Schedule, and a slot an appointment holds
    is neither deleted nor changed under it (issue 13)."""
    slot = free_slots(client, schedule="sched-reyes-main")[0]
    orphan = dict(slot, schedule={"reference": "Schedule/none-such"})
    orphan.pop("id")
    assert client.post("Slot", orphan).status_code == 422
    booked = client.post("Appointment", appointment([slot], patient="pat-0004", practitioner="pract-reyes"))
    assert booked.status_code == 201, booked.text
    assert client.delete(f"Slot/{slot['id']}").status_code == 409
    assert client.put(f"Slot/{slot['id']}", dict(slot, status="free")).status_code == 409
    assert client.get("Slot/none-such").status_code == 404


def test_new_patient_books_reschedules_and_cancels_with_rest(client):
    # A new patient with Dr. Raman next week: new patients only on Tuesday afternoons.
    slots = free_slots(client, schedule="sched-raman-main", **{"service-type": f"{VISIT}|NEW_PATIENT", "start": ["ge2026-04-20", "lt2026-04-27"]})
    pair = contiguous_pair(slots)
    patient = client.post("Patient", {"resourceType": "Patient", "name": [{"family": "Newcomer", "given": ["Ada"]}],
                                      "birthDate": "1990-05-05", "identifier": [{"system": "urn:example:intake", "value": "N-1"}]},
                          headers={"If-None-Exist": "identifier=urn:example:intake|N-1"}).json()
    booked = client.post("Appointment", appointment(pair, patient=patient["id"], visit="NEW_PATIENT", practitioner="pract-raman",
                                                    minutesDuration=40))
    assert booked.status_code == 201, booked.text
    appt = booked.json()
    assert [status_of(client, s["id"]) for s in pair] == ["busy", "busy"]
    assert pair[0]["id"] not in [s["id"] for s in free_slots(client, schedule="sched-raman-main")]
    # Reschedule to another pair in one update: the old slots free, the new ones busy.
    later = contiguous_pair([s for s in slots if s["id"] not in {p["id"] for p in pair}])
    moved = dict(appt, slot=[{"reference": f"Slot/{s['id']}"} for s in later], start=later[0]["start"], end=later[1]["end"])
    response = client.put(f"Appointment/{appt['id']}", moved)
    assert response.status_code == 200, response.text
    assert [status_of(client, s["id"]) for s in pair] == ["free", "free"]
    assert [status_of(client, s["id"]) for s in later] == ["busy", "busy"]
    # Cancel with a reason: the slots are free again and the appointment keeps its data.
    cancelled = dict(response.json(), status="cancelled", cancelationReason={"text": "Patient request"})
    assert client.put(f"Appointment/{appt['id']}", cancelled).status_code == 200
    assert [status_of(client, s["id"]) for s in later] == ["free", "free"]
    assert client.get(f"Appointment/{appt['id']}").json()["slot"][0]["reference"] == f"Slot/{later[0]['id']}"
    # And cancelled stays cancelled.
    rebook = dict(cancelled, status="booked")
    response = client.put(f"Appointment/{appt['id']}", rebook)
    assert response.status_code == 422 and response.json()["issue"][0]["expression"] == ["Appointment.status"]


def test_patch_cancel_and_delete_free_slots(client):
    slot = free_slots(client, schedule="sched-reyes-main", start="ge2026-04-15")[0]
    appt = client.post("Appointment", appointment([slot], practitioner="pract-reyes")).json()
    patched = client.patch(f"Appointment/{appt['id']}", [{"op": "replace", "path": "/status", "value": "cancelled"}])
    assert patched.status_code == 200 and status_of(client, slot["id"]) == "free"
    again = client.post("Appointment", appointment([slot], practitioner="pract-reyes")).json()
    assert status_of(client, slot["id"]) == "busy"
    assert client.delete(f"Appointment/{again['id']}").status_code == 204
    assert status_of(client, slot["id"]) == "free"


def test_a_taken_slot_is_a_409_naming_it(client):
    slot = free_slots(client, schedule="sched-chen-northside", start="ge2026-04-16")[0]
    assert client.post("Appointment", appointment([slot], patient="pat-0002")).status_code == 201
    second = client.post("Appointment", appointment([slot], patient="pat-0003"))
    assert second.status_code == 409
    assert slot["id"] in outcome_text(second)
    assert second.json()["issue"][0]["expression"] == ["Appointment.slot[0]"]


def test_booking_rules_give_documented_errors(client):
    okafor = free_slots(client, schedule="sched-okafor-main", start="ge2026-04-15")
    pair = contiguous_pair(okafor)

    def rejected(body, expression, status=422):
        response = client.post("Appointment", body)
        assert response.status_code == status, response.text
        assert expression in [e for i in response.json()["issue"] for e in i.get("expression", [])], response.text
        return outcome_text(response)

    assert "40 minutes" in rejected(appointment(pair[:1], visit="NEW_PATIENT", patient="pat-0300"), "Appointment.minutesDuration")
    assert "new to the clinic" in rejected(appointment(pair, visit="NEW_PATIENT", patient="pat-0001"), "Appointment.appointmentType")
    assert "minutes" in rejected(appointment(pair[:1], minutesDuration=30), "Appointment.minutesDuration")
    gap = [okafor[0], next(s for s in okafor if s["start"] > okafor[0]["end"])]
    assert "contiguous" in rejected(appointment(gap), "Appointment.slot")
    wrong_start = appointment(pair[:1])
    wrong_start["start"] = pair[1]["start"]
    rejected(wrong_start, "Appointment.start")
    assert "does not exist" in rejected(appointment(["slot-okafor-main-20260415-0905"]), "Appointment.slot[0]")
    assert "not offered" in rejected(appointment(pair[:1], visit="TELEHEALTH"), "Appointment.appointmentType")
    today = free_slots(client, schedule="sched-okafor-main", start="lt2026-04-14")
    assert "same day" in rejected(appointment(free_slots(client, schedule="sched-okafor-main", start="ge2026-04-16")[:1], visit="URGENT"),
                                  "Appointment.start")
    if today:
        assert client.post("Appointment", appointment(today[:1], visit="URGENT")).status_code == 201
    raman_morning = free_slots(client, schedule="sched-raman-main", start=["ge2026-04-14T08:00", "lt2026-04-14T12:00"])
    if len(raman_morning) >= 2:
        rejected(appointment(contiguous_pair(raman_morning), visit="NEW_PATIENT", patient="pat-0300"), "Appointment.appointmentType")
    bad_reference = appointment(pair[:1])
    bad_reference["slot"] = [{"reference": "Schedule/sched-okafor-main"}]
    rejected(bad_reference, "Appointment.slot[0]")


def test_past_slots_are_not_offered_and_the_horizon_moves(client):
    first = free_slots(client, schedule="sched-okafor-main")[0]
    client.admin("POST", "/_admin/clock/advance", {"seconds": 3 * 86400})
    assert first["id"] not in [s["id"] for s in free_slots(client, schedule="sched-okafor-main")]
    assert client.get(f"Slot/{first['id']}").json()["status"] == "busy-unavailable"
    assert client.post("Appointment", appointment([first])).status_code == 422
    before = client.search("Slot", {"start": "ge2026-07-13", "_summary": "count"})["total"]
    client.admin("POST", "/_admin/clock/advance", {"seconds": 27 * 86400})
    after = client.search("Slot", {"start": "ge2026-07-13", "_summary": "count"})["total"]
    assert after > before
    far = client.search("Slot", {"start": "ge2026-08-08", "_summary": "count"})["total"]
    assert far > 0


def test_transaction_books_a_new_patient(client):
    pair = contiguous_pair(free_slots(client, schedule="sched-hoffmann-main", start="ge2026-04-20"))
    urn = "urn:uuid:0b5c2b8a-8b1a-4a8f-9d55-5b5b5b5b5b5b"
    body = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": urn, "resource": {"resourceType": "Patient", "name": [{"family": "Bundled"}]}, "request": {"method": "POST", "url": "Patient"}},
        {"resource": appointment(pair, patient="x", visit="NEW_PATIENT") | {"participant": [{"actor": {"reference": urn}, "status": "accepted"}]},
         "request": {"method": "POST", "url": "Appointment"}}]}
    response = client.post("", body)
    assert response.status_code == 200, response.text
    assert [status_of(client, s["id"]) for s in pair] == ["busy", "busy"]
    taken = client.post("", body)
    assert taken.status_code == 409
    assert client.search("Patient", {"family": "Bundled"})["total"] == 1  # the second transaction left nothing


def test_one_hundred_simultaneous_bookings_of_one_slot(client):
    slot = free_slots(client, schedule="sched-martinez-garcia-northside", start="ge2026-04-20")[0]
    results = []
    lock = threading.Lock()
    barrier = threading.Barrier(100)

    def attempt(n):
        import requests
        session = requests.Session()
        body = appointment([slot], patient=f"pat-{100 + n:04d}")
        barrier.wait()
        response = session.post(client.base + "/Appointment", json=body, headers={"Content-Type": "application/fhir+json"}, timeout=60)
        with lock:
            results.append(response.status_code)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [201] + [409] * 99
    holders = client.search("Appointment", {"slot": f"Slot/{slot['id']}", "status": "booked"})
    assert holders["total"] == 1


def test_random_concurrent_book_cancel_reschedule_never_double_books(client):
    import random
    import requests
    pool = [s["id"] for s in free_slots(client, schedule="sched-reyes-main", start=["ge2026-04-20", "lt2026-05-02"])][:30]
    assert len(pool) >= 10
    errors = []

    def worker(seed):
        rng = random.Random(seed)
        session = requests.Session()
        mine = []
        for _ in range(40):
            action = rng.random()
            try:
                if action < 0.5 or not mine:
                    r = session.post(client.base + "/Appointment", json=appointment([rng.choice(pool)], patient=f"pat-{rng.randint(30, 300):04d}"),
                                     headers={"Content-Type": "application/fhir+json"}, timeout=60)
                    if r.status_code == 201:
                        mine.append(r.json())
                    elif r.status_code not in (409, 422):
                        errors.append(r.text)
                elif action < 0.75:
                    appt = mine.pop(rng.randrange(len(mine)))
                    r = session.put(client.base + f"/Appointment/{appt['id']}", json=dict(appt, status="cancelled"),
                                    headers={"Content-Type": "application/fhir+json"}, timeout=60)
                    if r.status_code != 200:
                        errors.append(r.text)
                else:
                    index = rng.randrange(len(mine))
                    target = rng.choice(pool)
                    moved = dict(mine[index], slot=[{"reference": f"Slot/{target}"}])
                    moved.pop("start", None)
                    moved.pop("end", None)
                    r = session.put(client.base + f"/Appointment/{moved['id']}", json=moved, headers={"Content-Type": "application/fhir+json"}, timeout=60)
                    if r.status_code == 200:
                        mine[index] = r.json()
                    elif r.status_code not in (409, 422):
                        errors.append(r.text)
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(repr(error))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    holders = {}
    bundle = client.search("Appointment", {"slot": ",".join(f"Slot/{s}" for s in pool), "_count": 1000})
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        if resource["status"] in ("booked", "pending", "arrived", "checked-in"):
            for reference in resource.get("slot", []):
                slot = reference["reference"][5:]
                assert slot not in holders, f"{slot} held by {holders[slot]} and {resource['id']}"
                holders[slot] = resource["id"]
    for slot in pool:
        assert (status_of(client, slot) == "busy") == (slot in holders), slot
