#!/usr/bin/env python3
"""The reference booking client for `fhir-sandbox certify` (the scheduling kit): what a voice
agent's EHR layer should do, the vendor's way. It reads the environment certify sets
(FHIR_PROFILE, FHIR_BASE_URL, FHIR_TOKEN_URL, FHIR_CLIENT_ID, FHIR_CLIENT_SECRET, FHIR_BASE_URL_2
for Epic's STU3 scheduling base, SCENARIO_TASK) and books the task's caller:

- one token for the call, renewed only near expiry or after a 401 invalid_token;
- 429 and 503 honoured (Retry-After, else exponential backoff), a bounded number of times;
- the caller verified by name and birth date before anything about them is read or written;
- the provider found by NPI, slots of the asked visit type in the asked window;
- a 409 answered by searching again and taking another slot (never resending the same booking);
- writes in the vendor's formats (minutesDuration an integer, times with a zone);
- a call note on the chart (Cerner: its Communication shape).

Profiles: generic, cerner, epic, athena (the athenaOne API at FHIR_API_BASE_URL/FHIR_TENANT:
form-encoded booking, MM/DD/YYYY dates, the note on the appointment), ecw (the healow Scheduling API at FHIR_API_BASE_URL: the
provider's schedule by NPI, write-backs answered with numeric statuses; no call note, the facade
is read-only). Standard library plus requests."""
import base64
import json
import os
import sys
import time

import requests

PROFILE = os.environ["FHIR_PROFILE"]
BASE = os.environ["FHIR_BASE_URL"]
TOKEN_URL = os.environ["FHIR_TOKEN_URL"]
CLIENT = (os.environ["FHIR_CLIENT_ID"], os.environ["FHIR_CLIENT_SECRET"])
TASK = json.loads(os.environ["SCENARIO_TASK"])
VISIT_SYSTEM = "http://riverbend.example.org/fhir/CodeSystem/visit-type"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
# Epic's visit types (Profiles/epic.yaml visitTypes): the clinic's codes in Epic's OID system.
EPIC_VISIT_SYSTEM = "urn:oid:1.2.840.114350.1.13.0.1.7.3.808267.11"
EPIC_VISIT_CODES = {"NEW_PATIENT": "95010", "FOLLOW_UP": "95014", "ANNUAL_PHYSICAL": "95011", "URGENT": "95012",
                    "TELEHEALTH": "95013", "PROCEDURE_CONSULT": "95015"}
SCOPES = ("system/Patient.read system/Practitioner.read system/Slot.read system/Schedule.read system/Appointment.read "
          "system/Appointment.write system/Communication.write")
if PROFILE == "athena":
    SCOPES += " athena/service/Athenanet.MDP.*"  # the athenaOne API's scope


class EHR:
    """An HTTP session with one token, renewed near expiry or after a 401, and polite retries."""

    def __init__(self):
        self.session = requests.Session()
        self.token, self.expires = None, 0.0

    def authorize(self):
        for attempt in range(6):
            answer = requests.post(TOKEN_URL, auth=CLIENT, data={"grant_type": "client_credentials", "scope": SCOPES}, timeout=30)
            if answer.status_code in (429, 503):
                self.wait(answer, attempt)
                continue
            answer.raise_for_status()
            body = answer.json()
            self.token, self.expires = body["access_token"], time.time() + int(body.get("expires_in", 300))
            return
        sys.exit("the token endpoint kept refusing")

    @staticmethod
    def wait(answer, attempt):
        retry_after = answer.headers.get("Retry-After")
        delay = int(retry_after) if retry_after and retry_after.isdigit() else min(2 ** attempt, 16)
        print(f"{answer.status_code}: waiting {delay} s", flush=True)
        time.sleep(delay + 0.1)

    def call(self, method, url, **kwargs):
        renewed = False
        for attempt in range(8):
            if self.token is None or time.time() > self.expires - 30:
                self.authorize()
            headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/fhir+json", **kwargs.pop("headers", {})}
            answer = self.session.request(method, url, headers=headers, timeout=30, **kwargs)
            if answer.status_code == 401 and not renewed:
                renewed, self.token = True, None
                continue
            if answer.status_code in (429, 503):
                self.wait(answer, attempt)
                continue
            return answer
        sys.exit(f"{method} {url} kept failing")


def main():
    ehr = EHR()
    if PROFILE == "athena":
        return book_athena(ehr)
    caller = TASK["caller"]
    given, family = caller["name"].split()[0], caller["name"].split()[-1]
    # 1. Verify the caller: family and birth date (Cerner takes each parameter once), given
    #    where the vendor takes it; check the given name ourselves.
    params = {"family": family, "birthdate": caller["birthDate"]}
    if PROFILE != "cerner":
        params["given"] = given
    found = ehr.call("GET", f"{BASE}/Patient", params=params).json()
    patients = [e["resource"] for e in found.get("entry", []) if e.get("search", {}).get("mode", "match") == "match"
                and any(given in n.get("given", []) for n in e["resource"].get("name", []))]
    if len(patients) != 1:
        sys.exit(f"cannot verify the caller: {len(patients)} matches")
    patient = patients[0]["id"]
    # 2. The provider by NPI.
    npi = TASK["provider"]["npi"]
    window = TASK["window"]
    if PROFILE == "ecw":
        appointment = book_healow(ehr, patient, npi, window)
        print(f"booked Appointment/{appointment} (no call note: the facade is read-only)", flush=True)
        return
    doctors = ehr.call("GET", f"{BASE}/Practitioner", params={"identifier": f"{NPI_SYSTEM}|{npi}"}).json()
    practitioner = doctors["entry"][0]["resource"]["id"]
    if PROFILE == "epic":
        appointment = book_epic(ehr, patient, practitioner, window)
    else:
        appointment = book_slot(ehr, patient, practitioner, window)
    print(f"booked Appointment/{appointment}", flush=True)
    # 3. The call note.
    note_text = TASK.get("note", "Booked by the voice agent")
    if PROFILE == "cerner":
        note = {"resourceType": "Communication", "status": "completed", "subject": {"reference": f"Patient/{patient}"},
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/communication-category",
                                          "code": "notification"}]}],
                "recipient": [{"reference": f"Practitioner/{practitioner}"}], "sender": {"reference": f"Practitioner/{practitioner}"},
                "payload": [{"contentAttachment": {"contentType": "text/plain",
                                                   "data": base64.b64encode(note_text.encode()).decode()}}]}
    else:
        note = {"resourceType": "Communication", "status": "completed", "subject": {"reference": f"Patient/{patient}"},
                "payload": [{"contentString": note_text}]}
    written = ehr.call("POST", f"{BASE}/Communication", json=note, headers={"Content-Type": "application/fhir+json"})
    print(f"note: {written.status_code}", flush=True)


def book_slot(ehr, patient, practitioner, window):
    """R4 Slot search for the provider in the window, then POST Appointment; on 409, search again."""
    tried = set()
    for _ in range(5):
        params = [("schedule.actor", f"Practitioner/{practitioner}"), ("start", "ge" + window["start"]),
                  ("start", "lt" + window["end"])]
        if PROFILE != "cerner":
            params.append(("status", "free"))
        bundle = ehr.call("GET", f"{BASE}/Slot", params=params).json()
        slots = [e["resource"] for e in bundle.get("entry", []) if e["resource"]["resourceType"] == "Slot"
                 and e["resource"]["id"] not in tried and offers(e["resource"], TASK["visitType"])]
        if not slots:
            sys.exit("no free slot of that kind in the window")
        slot = slots[0]
        tried.add(slot["id"])
        body = {"resourceType": "Appointment", "status": "booked", "slot": [{"reference": f"Slot/{slot['id']}"}],
                "participant": [{"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"}]}
        if PROFILE != "cerner":
            body["appointmentType"] = {"coding": [{"system": VISIT_SYSTEM, "code": TASK["visitType"]}]}
        answer = ehr.call("POST", f"{BASE}/Appointment", json=body, headers={"Content-Type": "application/fhir+json"})
        if answer.status_code == 409:
            print(f"slot {slot['id']} was taken; looking again", flush=True)
            continue
        if answer.status_code != 201:
            sys.exit(f"booking refused: {answer.status_code} {answer.text[:300]}")
        location = answer.headers.get("Location", "")
        return answer.json()["id"] if answer.content else location.split("/Appointment/")[1].split("/")[0]
    sys.exit("every slot tried was taken")


def book_healow(ehr, patient, npi, window):
    """eClinicalWorks: the provider's schedules by NPI in the healow Scheduling API, its free
    slots of the visit type in the window, then POST Appointment (status 1 is success; on a 409,
    search again)."""
    api = os.environ["FHIR_API_BASE_URL"]
    schedules = ehr.call("GET", f"{api}/Schedule", params={"actor": npi, "date": "ge" + window["start"][:10]}).json()
    schedule_ids = [e["resource"]["id"] for e in schedules.get("entry", [])]
    tried = set()
    for _ in range(5):
        slots = []
        for schedule in schedule_ids:
            params = [("schedule", schedule), ("start", "ge" + window["start"]), ("start", "lt" + window["end"])]
            bundle = ehr.call("GET", f"{api}/Slot", params=params).json()
            slots += [e["resource"] for e in bundle.get("entry", []) if offers(e["resource"], TASK["visitType"])]
        slots = sorted((slot for slot in slots if slot["id"] not in tried), key=lambda slot: slot["start"])
        if not slots:
            sys.exit("no free slot of that kind in the window")
        slot = slots[0]
        tried.add(slot["id"])
        body = {"resourceType": "Appointment", "status": "booked", "slot": [{"reference": f"Slot/{slot['id']}"}],
                "participant": [{"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"},
                                {"actor": {"identifier": {"system": NPI_SYSTEM, "value": npi}, "type": "Practitioner"},
                                 "status": "accepted"}]}
        answer = ehr.call("POST", f"{api}/Appointment", json=body, headers={"Content-Type": "application/json"})
        status = answer.json().get("status") if answer.content else None
        if answer.status_code == 409:
            print(f"slot {slot['id']} was taken; looking again", flush=True)
            continue
        if status != 1:
            sys.exit(f"booking refused: {answer.status_code} {answer.text[:300]}")
        return answer.json()["id"]
    sys.exit("every slot tried was taken")


def book_athena(ehr):
    """athenahealth: scheduling is the athenaOne API. Verify with the patient search (MM/DD/YYYY),
    find the provider by NPI and the visit type by its short name, list open slots per department
    in the window, book with a form-encoded PUT (on a 409 list again), note it on the appointment."""
    v1 = f"{os.environ['FHIR_API_BASE_URL']}/{os.environ['FHIR_TENANT']}"
    caller = TASK["caller"]
    given, family = caller["name"].split()[0], caller["name"].split()[-1]
    year, month, day = caller["birthDate"].split("-")
    found = ehr.call("GET", f"{v1}/patients", params={"firstname": given, "lastname": family, "dob": f"{month}/{day}/{year}"}).json()
    if found.get("totalcount") != 1:
        sys.exit(f"cannot verify the caller: {found.get('totalcount')} matches")
    patient = found["patients"][0]["patientid"]
    providers = ehr.call("GET", f"{v1}/providers").json()["providers"]
    provider = next(p["providerid"] for p in providers if str(p.get("npi")) == TASK["provider"]["npi"])
    types = ehr.call("GET", f"{v1}/appointmenttypes").json()["appointmenttypes"]
    reason = next(t["appointmenttypeid"] for t in types if t["shortname"] == TASK["visitType"])
    departments = ehr.call("GET", f"{v1}/departments").json()["departments"]
    start = TASK["window"]["start"][:10]
    last = time.strftime("%Y-%m-%d", time.gmtime(time.mktime(time.strptime(TASK["window"]["end"][:10], "%Y-%m-%d")) - 86400 + 43200))

    def athena_date(iso):
        y, m, d = iso.split("-")
        return f"{m}/{d}/{y}"

    tried = set()
    for _ in range(5):
        offered = []
        for department in departments:
            listed = ehr.call("GET", f"{v1}/appointments/open", params={
                "departmentid": department["departmentid"], "reasonid": reason, "providerid": str(provider),
                "startdate": athena_date(start), "enddate": athena_date(last)}).json()
            offered += [slot for slot in listed.get("appointments", []) if slot["appointmentid"] not in tried]
        if not offered:
            sys.exit("no open slot of that kind in the window")
        offered.sort(key=lambda slot: (slot["date"][6:] + slot["date"][:5], slot["starttime"]))
        slot = offered[0]
        tried.add(slot["appointmentid"])
        booked = ehr.call("PUT", f"{v1}/appointments/{slot['appointmentid']}", data={"patientid": patient, "reasonid": reason})
        if booked.status_code == 409:
            print(f"open appointment {slot['appointmentid']} was taken; listing again", flush=True)
            continue
        if booked.status_code != 200:
            sys.exit(f"booking refused: {booked.status_code} {booked.text[:300]}")
        appointment = booked.json()[0]["appointmentid"]
        print(f"booked appointment {appointment}", flush=True)
        note = ehr.call("POST", f"{v1}/appointments/{appointment}/notes", data={"notetext": TASK.get("note", "Booked by the voice agent")})
        print(f"note: {note.status_code}", flush=True)
        return
    sys.exit("every open appointment tried was taken")


def offers(slot, visit_type):
    return any(c.get("code") == visit_type for t in slot.get("serviceType", []) for c in t.get("coding", []))


def book_epic(ehr, patient, practitioner, window):
    """Epic: $find on the STU3 base with Epic's names and visit-type codes, then $book; on 409 find again."""
    stu3 = os.environ["FHIR_BASE_URL_2"]
    code = EPIC_VISIT_CODES[TASK["visitType"]]
    for _ in range(5):
        find = {"resourceType": "Parameters", "parameter": [
            {"name": "startTime", "valueDateTime": window["start"]}, {"name": "endTime", "valueDateTime": window["end"]},
            {"name": "serviceType", "valueCodeableConcept": {"coding": [{"system": EPIC_VISIT_SYSTEM, "code": code}]}},
            {"name": "practitioner", "valueReference": {"reference": f"Practitioner/{practitioner}"}},
            {"name": "patient", "valueReference": {"reference": f"Patient/{patient}"}}]}
        found = ehr.call("POST", f"{stu3}/Appointment/$find", json=find, headers={"Content-Type": "application/fhir+json"}).json()
        options = [e["resource"]["id"] for e in found.get("entry", []) if e["resource"]["resourceType"] == "Appointment"]
        if not options:
            sys.exit("no availability of that kind in the window")
        book = {"resourceType": "Parameters", "parameter": [
            {"name": "patient", "valueIdentifier": {"value": patient}}, {"name": "appointment", "valueIdentifier": {"value": options[0]}},
            {"name": "appointmentNote", "valueString": TASK.get("note", "")}]}
        answer = ehr.call("POST", f"{stu3}/Appointment/$book", json=book, headers={"Content-Type": "application/fhir+json"})
        if answer.status_code == 409:
            print("that time was taken; finding again", flush=True)
            continue
        if answer.status_code != 200:
            sys.exit(f"$book refused: {answer.status_code} {answer.text[:300]}")
        return answer.json()["entry"][0]["resource"]["id"]
    sys.exit("every option tried was taken")


if __name__ == "__main__":
    main()
