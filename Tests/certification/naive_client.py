#!/usr/bin/env python3
"""A naive booking client, the kind that works in a demo and fails in production, to prove the
scheduling kit's checks can fail (Tests/blackbox/test_certify.py lists exactly which). It:

- fetches a new token for every request;
- "verifies" the caller by family name only and takes the first match;
- sends minutesDuration as "30 minutes" first, then without it when that is refused;
- answers 409, 429 and 503 by sending the same request again at once (three times);
- writes no call note.

Profiles: generic, cerner (R4 Slot search and POST Appointment), ecw (the same through the
healow Scheduling API). Same environment as reference_client.py."""
import json
import os
import sys

import requests

PROFILE = os.environ["FHIR_PROFILE"]
BASE = os.environ["FHIR_BASE_URL"]
TOKEN_URL = os.environ["FHIR_TOKEN_URL"]
CLIENT = (os.environ["FHIR_CLIENT_ID"], os.environ["FHIR_CLIENT_SECRET"])
TASK = json.loads(os.environ["SCENARIO_TASK"])
SCOPES = ("system/Patient.read system/Practitioner.read system/Slot.read system/Schedule.read system/Appointment.read "
          "system/Appointment.write")


def call(method, url, **kwargs):
    answer = None
    for _ in range(4):
        token = requests.post(TOKEN_URL, auth=CLIENT, data={"grant_type": "client_credentials", "scope": SCOPES}, timeout=30)
        if token.status_code != 200:
            continue
        headers = {"Authorization": "Bearer " + token.json()["access_token"], "Accept": "application/fhir+json",
                   "Content-Type": "application/fhir+json"}
        answer = requests.request(method, url, headers=headers, timeout=30, **kwargs)
        if answer.status_code not in (401, 409, 429, 503):
            return answer
    return answer


def main():
    family = TASK["caller"]["name"].split()[-1]
    patient = call("GET", f"{BASE}/Patient", params={"family": family}).json()["entry"][0]["resource"]["id"]
    npi = TASK["provider"]["npi"]
    window = [("start", "ge" + TASK["window"]["start"]), ("start", "lt" + TASK["window"]["end"])]
    base = BASE
    if PROFILE == "ecw":
        base = os.environ["FHIR_API_BASE_URL"]
        schedule = call("GET", f"{base}/Schedule", params={"actor": npi}).json()["entry"][0]["resource"]["id"]
        params = [("schedule", schedule)] + window
    else:
        doctor = call("GET", f"{BASE}/Practitioner", params={"identifier": f"http://hl7.org/fhir/sid/us-npi|{npi}"}).json()
        practitioner = doctor["entry"][0]["resource"]["id"]
        params = [("schedule.actor", f"Practitioner/{practitioner}")] + window
        if PROFILE != "cerner":
            params.append(("status", "free"))  # Cerner's Slot search implies it and takes no status
    slots = call("GET", f"{base}/Slot", params=params).json()
    slot = slots["entry"][0]["resource"]["id"]
    body = {"resourceType": "Appointment", "status": "booked", "minutesDuration": "30 minutes",
            "slot": [{"reference": f"Slot/{slot}"}], "participant": [{"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"}]}
    answer = call("POST", f"{base}/Appointment", data=json.dumps(body))
    if answer is not None and answer.status_code in (400, 422):
        del body["minutesDuration"]
        answer = call("POST", f"{base}/Appointment", data=json.dumps(body))
    print(f"booking: {answer.status_code if answer is not None else 'no answer'}", flush=True)
    sys.exit(0 if answer is not None and answer.status_code in (200, 201) else 1)


if __name__ == "__main__":
    main()
