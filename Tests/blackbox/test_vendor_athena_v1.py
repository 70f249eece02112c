"""athenaOne's proprietary scheduling API (Profiles/athena.yaml `proprietary`, /athena/v1/195900/...)
over the same tenant and booking engine as the FHIR side. Each test names the fact it reproduces
in ../shared/reference/vendor-quirks.md §3.4 (with §3.6, §3.8). JSON shapes are checked exactly,
types included: numbers where athena sends numbers (the open list), strings where it sends strings
(booking answers). The session clock is Monday 2026-04-13 08:00 America/Chicago."""
import concurrent.futures
import json

import requests

from athena import FHIR, MDP, PRACTICE, V1, Athena, open_slots, patient_id, register
from fhirvalidation import assert_valid

import pytest

OPEN_ITEM = {"date": str, "appointmentid": int, "departmentid": int, "localproviderid": int, "appointmenttype": str,
             "providerid": int, "starttime": str, "duration": int, "appointmenttypeid": int, "reasonid": list,
             "patientappointmenttypename": str}
BOOKED_ITEM = {"date": str, "appointmentid": str, "starttime": str, "departmentid": str, "appointmentstatus": str,
               "patientid": str, "duration": int, "appointmenttypeid": str, "appointmenttype": str, "providerid": str,
               "chargeentrynotrequired": bool, "supervisingproviderid": int, "patientappointmenttypename": str,
               "scheduleddatetime": str, "lastmodified": str}


@pytest.fixture
def athena(client):
    return Athena(client.origin)


def shape(item, expected, optional=()):
    """Exactly these keys (plus any optional ones), each of exactly this JSON type."""
    assert set(expected) <= set(item) <= set(expected) | set(optional), sorted(item)
    for key, kind in expected.items():
        assert type(item[key]) is kind, (key, item[key])


def error(response, status):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) <= {"error", "detailedmessage"} and body["error"], body
    return body


def book(athena, slot_id, patient="60178", **fields):
    return athena.v1("PUT", f"appointments/{slot_id}", data={"patientid": patient, **fields})


def booked(athena, slot_id, patient="60178", **fields):
    response = book(athena, slot_id, patient, **fields)
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, list) and len(body) == 1
    return body[0]


def test_open_slots_need_a_department_and_a_type_or_reason(athena):
    """§3.4: departmentid is required; neither appointmenttypeid nor reasonid is no results;
    reasonid other than -1 needs providerid; errors are {"error", "detailedmessage"}."""
    error(athena.v1("GET", "appointments/open", params={"appointmenttypeid": "2"}), 400)
    empty = athena.v1("GET", "appointments/open", params={"departmentid": "1"})
    assert empty.status_code == 200 and empty.json() == {"totalcount": 0, "appointments": []}
    assert "providerid" in error(athena.v1("GET", "appointments/open", params={"departmentid": "1", "reasonid": "2"}), 400)["detailedmessage"]
    provider = open_slots(athena)[0]["providerid"]
    by_reason = open_slots(athena, appointmenttypeid="", reasonid="2", providerid=str(provider))
    assert by_reason and {s["providerid"] for s in by_reason} == {provider} and by_reason[0]["reasonid"] == ["2"]
    any_reason = open_slots(athena, appointmenttypeid="", reasonid="-1")
    assert any_reason and all(s["reasonid"] == ["-1"] for s in any_reason)
    error(athena.v1("GET", "appointments/open", params={"departmentid": "99", "appointmenttypeid": "2"}), 404)
    error(athena.v1("GET", "appointments/open", params={"departmentid": "1", "appointmenttypeid": "2", "startdate": "2026-04-14"}), 400)


def test_open_slots_are_numbers_in_mm_dd_yyyy_and_local_times(athena):
    """§3.4 (ListOpenAppointmentSlots.json): ids and duration are JSON numbers, date MM/DD/YYYY,
    starttime HH:mm local with no zone; the default window is today to today + 7 days with a 24 h
    lead time."""
    slots = open_slots(athena, limit="1000")
    assert slots
    for slot in slots:
        shape(slot, OPEN_ITEM)
        assert slot["departmentid"] == 1 and slot["duration"] == 20 and slot["appointmenttypeid"] == 2
        assert len(slot["date"]) == 10 and slot["date"][2] == "/" and len(slot["starttime"]) == 5
    first = slots[0]
    assert (first["date"], first["starttime"]) == ("04/14/2026", "08:00")  # 24 h after Monday 08:00
    assert max(s["date"] for s in slots) <= "04/20/2026"
    keys = [(s["date"], s["starttime"]) for s in slots]
    assert keys == sorted(keys)


def test_the_booking_window_is_bypassed_on_request(athena):
    """§3.4: bypassscheduletimechecks lifts the 24 h lead time (never into the past)."""
    today = open_slots(athena, startdate="04/13/2026", enddate="04/13/2026")
    assert today == []
    bypassed = open_slots(athena, startdate="04/13/2026", enddate="04/13/2026", bypassscheduletimechecks="true")
    assert bypassed and all(s["date"] == "04/13/2026" and s["starttime"] >= "10:00" for s in bypassed)


def test_limit_offset_and_next_previous_paths(athena):
    """§3.4: limit/offset (default 1000, max 10000); the envelope has totalcount, next and
    previous as paths that carry the offset."""
    url = "appointments/open"
    page = athena.v1("GET", url, params={"departmentid": "1", "appointmenttypeid": "2", "limit": "5"}).json()
    assert len(page["appointments"]) == 5 and page["totalcount"] > 5 and "previous" not in page
    assert page["next"].startswith(V1 + "/appointments/open?") and "offset=5" in page["next"]
    second = requests.get(athena.origin + page["next"], headers=athena.headers).json()
    assert second["appointments"][0] == open_slots(athena)[5] and "offset=0" in second["previous"]
    error(athena.v1("GET", url, params={"departmentid": "1", "appointmenttypeid": "2", "limit": "10001"}), 400)


def test_booking_is_a_form_put_on_the_open_id_answered_as_strings(athena):
    """§3.4, §3.8 (1, 2): PUT /appointments/{appointmentid} with a form body; the answer is a
    JSON array with one appointment, status "f", ids now strings (type drift), the same id; the
    FHIR side reads it as a-195900.Appointment-{id} (ASSUMPTION)."""
    slot = open_slots(athena)[0]
    # §3.4: an open slot is an appointment with status o (read alone, its ids are strings).
    still_open = athena.v1("GET", f"appointments/{slot['appointmentid']}").json()[0]
    assert still_open["appointmentstatus"] == "o" and still_open["appointmentid"] == str(slot["appointmentid"])
    assert (still_open["date"], still_open["starttime"], still_open["providerid"]) == (slot["date"], slot["starttime"], str(slot["providerid"]))
    appointment = booked(athena, slot["appointmentid"], bookingnote="Voice agent booking")
    shape(appointment, BOOKED_ITEM, optional=("bookingnote",))
    assert appointment["appointmentid"] == str(slot["appointmentid"]) and appointment["appointmentstatus"] == "f"
    assert appointment["departmentid"] == str(slot["departmentid"]) and appointment["providerid"] == str(slot["providerid"])
    assert (appointment["date"], appointment["starttime"], appointment["duration"]) == (slot["date"], slot["starttime"], 20)
    assert appointment["patientid"] == "60178" and appointment["bookingnote"] == "Voice agent booking"
    fhir = athena.fhir(f"Appointment/a-{PRACTICE}.Appointment-{slot['appointmentid']}")
    assert fhir.status_code == 200, fhir.text
    resource = fhir.json()
    assert resource["status"] == "booked" and resource["comment"] == "Voice agent booking"
    assert {"actor": {"reference": f"Patient/{patient_id('pat-0001')}"}, "status": "accepted"} in resource["participant"]
    assert slot["appointmentid"] not in [s["appointmentid"] for s in open_slots(athena)]
    again = book(athena, slot["appointmentid"], "60179")
    assert "not an open appointment" in error(again, 409)["error"]


def test_a_longer_visit_takes_the_time_after_its_slot(athena):
    """§3.4 duration: a 40-minute annual physical on 20-minute slots is offered where two free
    slots follow each other, with duration 40, and takes both (ASSUMPTION: the clinic's
    templates take several visit types)."""
    physical = open_slots(athena, appointmenttypeid="3")[0]
    assert physical["duration"] == 40
    booked(athena, physical["appointmentid"], appointmenttypeid="3")
    resource = athena.fhir(f"Appointment/a-{PRACTICE}.Appointment-{physical['appointmentid']}").json()
    assert resource["minutesDuration"] == 40 and len(resource["slot"]) == 2
    follow_ups = {(s["date"], s["starttime"], s["providerid"]) for s in open_slots(athena)}
    start = physical["starttime"]
    second = f"{start[:3]}{int(start[3:]) + 20:02d}" if int(start[3:]) < 40 else f"{int(start[:2]) + 1:02d}:{int(start[3:]) - 40:02d}"
    assert (physical["date"], second, physical["providerid"]) not in follow_ups


def test_bad_booking_requests_are_named(athena):
    """§3.4, §3.6: a JSON body is refused (writes are form-encoded), patientid is required, an
    unknown appointment id is 404, an unknown patient 400."""
    slot = open_slots(athena)[0]["appointmentid"]
    as_json = athena.v1("PUT", f"appointments/{slot}", data=json.dumps({"patientid": "60178"}),
                        headers={"Content-Type": "application/json"})
    assert "x-www-form-urlencoded" in error(as_json, 415)["detailedmessage"]
    assert "patientid" in error(athena.v1("PUT", f"appointments/{slot}", data={"bookingnote": "x"}), 400)["error"]
    error(book(athena, "123"), 404)
    error(book(athena, slot, patient="99999"), 400)
    error(book(athena, slot, appointmenttypeid="77"), 400)


def test_cancel_keeps_the_id_and_offers_the_time_again_under_a_new_one(athena):
    """§3.4: PUT /appointments/{id}/cancel with patientid and cancellationreason (ASSUMPTION: the
    params are unverified); the appointment keeps its id with status x; the freed time is an
    open appointment with another id."""
    slot = open_slots(athena)[0]
    booked(athena, slot["appointmentid"])
    error(athena.v1("PUT", f"appointments/{slot['appointmentid']}/cancel", data={"cancellationreason": "x"}), 400)
    error(athena.v1("PUT", f"appointments/{slot['appointmentid']}/cancel", data={"patientid": "60179"}), 400)
    cancelled = athena.v1("PUT", f"appointments/{slot['appointmentid']}/cancel",
                          data={"patientid": "60178", "cancellationreason": "Patient called to cancel"})
    assert cancelled.status_code == 200 and cancelled.json() == {"status": "x"}
    read = athena.v1("GET", f"appointments/{slot['appointmentid']}").json()[0]
    assert read["appointmentstatus"] == "x" and read["cancelreasonname"] == "Patient called to cancel"
    fhir = athena.fhir(f"Appointment/a-{PRACTICE}.Appointment-{slot['appointmentid']}").json()
    assert fhir["status"] == "cancelled"
    reopened = open_slots(athena)[0]
    assert (reopened["date"], reopened["starttime"]) == (slot["date"], slot["starttime"])
    assert reopened["appointmentid"] != slot["appointmentid"]
    assert booked(athena, reopened["appointmentid"])["appointmentid"] == str(reopened["appointmentid"])
    error(athena.v1("PUT", f"appointments/{slot['appointmentid']}/cancel", data={"patientid": "60178"}), 409)


def test_reschedule_cancels_the_old_and_books_the_new(athena):
    """§3.4: PUT /appointments/{id}/reschedule with newappointmentid and patientid; the answer is
    an array with the new appointment."""
    first, second = open_slots(athena)[:2]
    booked(athena, first["appointmentid"])
    moved = athena.v1("PUT", f"appointments/{first['appointmentid']}/reschedule",
                      data={"newappointmentid": str(second["appointmentid"]), "patientid": "60178", "reschedulereason": "Conflict"})
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert isinstance(body, list) and body[0]["appointmentid"] == str(second["appointmentid"])
    assert body[0]["rescheduledappointmentid"] == str(first["appointmentid"]) and body[0]["appointmentstatus"] == "f"
    assert athena.v1("GET", f"appointments/{first['appointmentid']}").json()[0]["appointmentstatus"] == "x"
    error(athena.v1("PUT", f"appointments/{second['appointmentid']}/reschedule", data={"patientid": "60178"}), 400)


def test_freeze_holds_a_slot_and_answers_failures_with_200(athena):
    """§3.4, §3.8 (3): PUT /appointments/{id}/freeze with freeze=true|false; already frozen is
    HTTP 200 {"success": false, "errormessage": "... already frozen"}; frozen slots are hidden
    unless showfrozenslots=true. ASSUMPTION: a frozen slot can still be booked."""
    slot = open_slots(athena)[0]
    path = f"appointments/{slot['appointmentid']}/freeze"
    assert athena.v1("PUT", path, data={"freeze": "true"}).json() == {"success": True}
    again = athena.v1("PUT", path, data={"freeze": "true"})
    assert again.status_code == 200 and again.json()["success"] is False and "already frozen" in again.json()["errormessage"]
    assert slot["appointmentid"] not in [s["appointmentid"] for s in open_slots(athena)]
    shown = [s for s in open_slots(athena, showfrozenslots="true") if s["appointmentid"] == slot["appointmentid"]]
    assert len(shown) == 1 and shown[0]["frozenyn"] == "Y"
    assert athena.v1("PUT", path, data={"freeze": "false"}).json() == {"success": True}
    assert athena.v1("PUT", path, data={"freeze": "false"}).json()["success"] is False
    assert slot["appointmentid"] in [s["appointmentid"] for s in open_slots(athena)]
    error(athena.v1("PUT", path, data={}), 400)


def test_booked_and_changed_lists(athena):
    """§3.4: GET /appointments/booked needs startdate and enddate (inclusive) and filters by
    patientid, providerid, departmentid and appointmentstatus; /appointments/changed lists what
    changed since showprocessedstartdatetime."""
    error(athena.v1("GET", "appointments/booked", params={"startdate": "04/13/2026"}), 400)
    slot = open_slots(athena)[0]
    booked(athena, slot["appointmentid"], patient="60190")
    window = {"startdate": "04/14/2026", "enddate": "04/14/2026"}
    mine = athena.v1("GET", "appointments/booked", params={**window, "patientid": "60190"}).json()
    assert mine["totalcount"] == 1
    shape(mine["appointments"][0], BOOKED_ITEM)
    everything = athena.v1("GET", "appointments/booked", params={**window, "limit": "3"}).json()
    assert everything["totalcount"] > 3 and len(everything["appointments"]) == 3 and "offset=3" in everything["next"]
    assert all(a["date"] == "04/14/2026" for a in everything["appointments"])
    by_status = athena.v1("GET", "appointments/booked", params={**window, "appointmentstatus": "x"}).json()
    assert all(a["appointmentstatus"] == "x" for a in by_status["appointments"])
    changed = athena.v1("GET", "appointments/changed", params={"showprocessedstartdatetime": "04/13/2026 07:59:00"}).json()
    assert str(slot["appointmentid"]) in [a["appointmentid"] for a in changed["appointments"]]
    error(athena.v1("GET", "appointments/changed", params={"showprocessedstartdatetime": "yesterday"}), 400)


def test_notes_check_in_and_the_bare_1_of_an_update(athena):
    """§3.4: POST /appointments/{id}/notes (notetext, displayonschedule) and its GET; POST
    /appointments/{id}/checkin (status 2); PUT /appointments/booked/{id} answers a bare 1."""
    slot = open_slots(athena)[0]
    appointment = str(slot["appointmentid"])
    booked(athena, appointment)
    error(athena.v1("POST", f"appointments/{appointment}/notes", data={"displayonschedule": "true"}), 400)
    added = athena.v1("POST", f"appointments/{appointment}/notes", data={"notetext": "Caller prefers mornings", "displayonschedule": "true"})
    assert added.status_code == 200 and added.json() == {"success": True}
    notes = athena.v1("GET", f"appointments/{appointment}/notes").json()
    assert notes["totalcount"] == 1
    assert notes["notes"][0] == {"noteid": "1", "notetext": "Caller prefers mornings", "displayonschedule": "true",
                                 "created": "04/13/2026 08:00:00"}
    updated = athena.v1("PUT", f"appointments/booked/{appointment}", data={"bookingnote": "Bring insurance card"})
    assert updated.status_code == 200 and updated.content == b"1"
    assert athena.fhir(f"Appointment/a-{PRACTICE}.Appointment-{appointment}").json()["comment"] == "Bring insurance card"
    error(athena.v1("PUT", f"appointments/booked/{appointment}", data={"providerid": "3"}), 400)
    assert athena.v1("POST", f"appointments/{appointment}/checkin").json() == {"success": True}
    assert athena.v1("GET", f"appointments/{appointment}").json()[0]["appointmentstatus"] == "2"
    error(athena.v1("POST", f"appointments/{appointment}/checkin"), 409)


def test_types_departments_and_providers(athena):
    """§3.4: /appointmenttypes (limit 1500, max 5000), /departments with the clinic's zone in
    timezonename and its offset, /providers; list envelopes with totalcount."""
    types = athena.v1("GET", "appointmenttypes").json()
    assert types["totalcount"] == 6
    assert types["appointmenttypes"][1] == {"appointmenttypeid": "2", "name": "Follow-up visit", "shortname": "FOLLOW_UP",
                                            "duration": "20", "patientdisplayname": "Follow-up visit", "generic": "false",
                                            "patient": "true", "templatetypeonly": "false"}
    error(athena.v1("GET", "appointmenttypes", params={"limit": "5001"}), 400)
    departments = athena.v1("GET", "departments").json()["departments"]
    assert [d["name"] for d in departments] == ["Riverbend Main Clinic", "Riverbend Northside Clinic", "Riverbend Virtual Visits"]
    assert all(d["timezonename"] == "America/Chicago" and d["timezoneoffset"] == -5 and type(d["departmentid"]) is str for d in departments)
    providers = athena.v1("GET", "providers").json()
    assert providers["totalcount"] >= 5
    assert all(type(p["providerid"]) is int and p["lastname"] for p in providers["providers"])


def test_patient_search_verifies_a_caller(athena):
    """§3.4: GET /patients by firstname, lastname and dob (mm/dd/yyyy): strings throughout."""
    found = athena.v1("GET", "patients", params={"firstname": "Maria", "lastname": "Garcia", "dob": "03/12/1984"}).json()
    assert found["totalcount"] == 1
    patient = found["patients"][0]
    assert patient["patientid"] == "60178" and patient["dob"] == "03/12/1984" and patient["sex"] == "F"
    assert all(type(value) is str for value in patient.values())
    assert athena.v1("GET", "patients", params={"lastname": "Garcia", "dob": "03/13/1984"}).json()["totalcount"] == 0
    error(athena.v1("GET", "patients"), 400)
    error(athena.v1("GET", "patients", params={"dob": "1984-03-12"}), 400)
    assert athena.v1("GET", "patients/60178").json()[0]["lastname"] == "Garcia"
    error(athena.v1("GET", "patients/99999"), 404)


def test_creating_a_patient_who_exists_returns_the_existing_chart(athena):
    """The duplicate-patient trap (3p, awell-health's athenahealth extension): POST /patients with
    the name, date of birth and email of an existing patient does not create one; the answer is
    the existing patientid, exactly as for a new patient. Another email makes a second chart."""
    base = {"firstname": "Maria", "lastname": "Garcia", "dob": "03/12/1984", "departmentid": "1"}
    same = athena.v1("POST", "patients", data={**base, "email": "maria.garcia1@example.com"})
    assert same.status_code == 200 and same.json() == [{"patientid": "60178"}]
    other = athena.v1("POST", "patients", data={**base, "email": "maria.new@example.com", "mobilephone": "3095550999"})
    assert other.status_code == 200
    new_id = other.json()[0]["patientid"]
    assert new_id != "60178" and type(new_id) is str
    chart = athena.fhir(f"Patient/a-{PRACTICE}.E-{new_id}").json()
    assert chart["name"][0]["family"] == "Garcia" and chart["birthDate"] == "1984-03-12"
    assert athena.v1("GET", "patients", params={"lastname": "Garcia", "dob": "03/12/1984"}).json()["totalcount"] == 2
    error(athena.v1("POST", "patients", data={"firstname": "A", "lastname": "B", "departmentid": "1"}), 400)


def test_the_api_needs_its_scope_and_the_practice(client, athena):
    """§3.2, §3.6: a bearer token with athena/service/Athenanet.MDP.*; another practice id is
    refused; unknown paths are 404 and wrong methods 405, in athena's error shape; answers carry
    X-Request-Id."""
    assert error(requests.get(client.origin + V1 + "/departments"), 401)["error"] == "invalid_token"
    client_id, secret = register(client.origin, scopes=["system/Patient.read"])
    fhir_only = requests.post(client.origin + "/athena/oauth2/v1/token", auth=(client_id, secret),
                              data={"grant_type": "client_credentials", "scope": "system/Patient.read"}).json()["access_token"]
    refused = requests.get(client.origin + V1 + "/departments", headers={"Authorization": f"Bearer {fhir_only}"})
    assert MDP in error(refused, 401)["detailedmessage"]
    other = requests.get(client.origin + "/athena/v1/1/departments", headers=athena.headers)
    error(other, 403)
    error(athena.v1("GET", "nothing/here"), 404)
    error(athena.v1("DELETE", "departments"), 405)
    assert athena.v1("GET", "departments").headers["X-Request-Id"]


def test_no_slot_is_booked_twice_across_both_surfaces(client, athena):
    """§3.4 with the booking engine: proprietary PUTs racing each other and the front desk (a
    staff action on the FHIR side) for one slot: exactly one wins; the rest are refused."""
    free = open_slots(athena)[0]
    slot = free["appointmentid"]
    patients = [str(60178 + n) for n in range(12)]

    def desk():
        return client.admin("POST", "/_admin/actions", {"action": "book-slot", "profile": "athena",
                                                         "slot": f"Slot/a-{PRACTICE}.Slot-{slot}", "patient": patient_id("pat-0030")})

    with concurrent.futures.ThreadPoolExecutor(max_workers=13) as pool:
        puts = [pool.submit(book, athena, slot, patient) for patient in patients]
        staff = pool.submit(desk)
        answers = [f.result() for f in puts]
        front = staff.result()
    wins = [a for a in answers if a.status_code == 200] + ([front] if front.status_code == 200 else [])
    assert len(wins) == 1, [a.status_code for a in answers] + [front.status_code]
    for answer in answers:
        if answer.status_code != 200:
            error(answer, 409)
    assert front.status_code in (200, 409), front.text
    day = athena.v1("GET", "appointments/booked", params={"startdate": free["date"], "enddate": free["date"]}).json()["appointments"]
    taken = [a for a in day if a["starttime"] == free["starttime"] and a["providerid"] == str(free["providerid"]) and a["appointmentstatus"] == "f"]
    assert len(taken) == 1


def test_slot_taken_fault_makes_the_front_desk_win(client, athena):
    """Test control's slot-taken on the proprietary API: the next booking loses its slot to the
    front desk (409), and the slot is booked once, by someone else."""
    slot = open_slots(athena)[0]
    armed = client.admin("POST", "/_admin/faults", {"match": {"profile": "athena"}, "action": {"type": "slot-taken"}, "times": 1})
    assert armed.status_code == 201, armed.text
    lost = book(athena, slot["appointmentid"])
    assert "not an open appointment" in error(lost, 409)["error"]
    day = athena.v1("GET", "appointments/booked", params={"startdate": slot["date"], "enddate": slot["date"]}).json()["appointments"]
    taken = [a for a in day if a["starttime"] == slot["starttime"] and a["providerid"] == str(slot["providerid"]) and a["appointmentstatus"] == "f"]
    assert len(taken) == 1 and taken[0]["patientid"] != "60178"
