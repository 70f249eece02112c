"""The README's quick starts (issue 13): each `<!-- quickstart:NAME -->` block is run, exactly as
written, with bash against a live server whose clock runs from the real time (as `swift run
fhir-sandbox` starts), then the state it leaves is checked through the vendor's own API: the
booking exists, was cancelled (and on Cerner first moved to another slot), and the call note was
written. A README change that breaks a quick start fails here."""
import os
import re
import subprocess

import pytest
import requests

from conftest import Client, Sandbox
from fhirvalidation import ROOT
from test_vendor_auth import CERNER_AUTH, CERNER_BASE, EPIC_BASE, EPIC_TOKEN

SECRET = ("sandbox-secret", "sandbox-secret-TEST-ONLY")


def quickstart(name):
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    marker = f"<!-- quickstart:{name} -->\n```sh\n"
    assert marker in readme, f"README has no {name} quick start"
    return readme.split(marker)[1].split("\n```")[0]


@pytest.fixture(scope="module")
def server():
    sandbox = Sandbox()
    yield sandbox
    sandbox.stop()


def run(server, name):
    script = quickstart(name).replace("http://127.0.0.1:8080", server.origin)
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{name} quick start failed:\n{done.stdout}\n{done.stderr}"
    lines = dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)
    assert not any(value in ("null", "") for value in lines.values()), done.stdout
    return lines


def client_for(server, base, token_url, scope):
    token = requests.post(server.origin + token_url, data={"grant_type": "client_credentials", "scope": scope}, auth=SECRET)
    assert token.status_code == 200, token.text
    c = Client(server.origin, base=base)
    c.session.headers["Authorization"] = "Bearer " + token.json()["access_token"]
    return c


def cancelled_and_freed(fhir, appointment_id, start):
    """The quick start's appointment, cancelled, at the time it was booked, its slot free again."""
    appointment = fhir.get(f"Appointment/{appointment_id}").json()
    assert appointment["status"] == "cancelled" and appointment["start"] == start
    slot = fhir.get(appointment["slot"][0]["reference"]).json()
    assert slot["status"] == "free", "cancelling frees the slot"
    return appointment


def test_generic_quickstart_books_cancels_and_notes(server):
    lines = run(server, "generic")
    appointment_id, start, status = lines["booked"].split()
    assert status == "booked" and lines["now"] == "cancelled"
    fhir = client_for(server, "/fhir/r4", "/fhir/auth/token", "system/*.read")
    appointment = cancelled_and_freed(fhir, appointment_id, start)
    patient = next(p["actor"]["reference"] for p in appointment["participant"] if p["actor"]["reference"].startswith("Patient/"))
    note = fhir.get(lines["note"]).json()
    assert note["resourceType"] == "Communication" and note["subject"]["reference"] == patient


def test_epic_quickstart_books_on_stu3_reads_on_r4_and_notes(server):
    lines = run(server, "epic")
    appointment_id, _, status = lines["booked"].split()
    assert status == "booked" and re.fullmatch(r"e[\w.-]+3", appointment_id)
    assert lines["staff"] == "done" and lines["now"] == "cancelled" and lines["note"] == "201"
    r4 = client_for(server, EPIC_BASE, EPIC_TOKEN, "system/Appointment.read system/Communication.read")
    appointment = r4.get(f"Appointment/{appointment_id}").json()
    assert appointment["status"] == "cancelled"
    patient = next(p["actor"]["reference"] for p in appointment["participant"] if p["actor"]["reference"].startswith("Patient/"))
    notes = r4.search("Communication", {"subject": patient})
    assert any(e["resource"]["payload"][0]["contentString"] == "Caller asked to cancel." for e in notes["entry"]
               if e["search"]["mode"] == "match")


def test_cerner_quickstart_books_moves_cancels_and_notes(server):
    lines = run(server, "cerner")
    appointment_id, first_start, status = lines["booked"].split()
    assert status == "booked" and appointment_id.isdigit()
    assert lines["moved"] == "200" and lines["cancelled"] == "200" and lines["note"] == "201"
    cerner = client_for(server, CERNER_BASE, CERNER_AUTH + "/token",
                        "system/Appointment.read system/Slot.read system/Communication.read system/Patient.read")
    appointment = cerner.get(f"Appointment/{appointment_id}").json()
    assert appointment["status"] == "cancelled"
    assert appointment["start"] != first_start, "rescheduled to the later slot before the cancel"
    assert appointment["meta"]["versionId"] == "2-1", "created at 0, moved, cancelled (§2.9: not always an integer)"
    slot = cerner.get(appointment["slot"][0]["reference"]).json()
    assert slot["status"] == "free"


def test_hl7_worked_example_books_over_mllp_then_refuses_the_duplicate():
    """README "HL7 v2": the worked example, run as written against a server started as the README
    says (`--clock 2026-04-13T08:00:00-05:00 --hl7-in-port 2575`, here on a free port): the first
    SRM^S01 is booked (MSA|AA with the SCH), the same request again is AE 205; the booking is the
    FHIR appointment with the placer id."""
    sandbox = Sandbox("--clock", "2026-04-13T08:00:00-05:00", "--hl7-in-port", "0")
    try:
        port = next(line for line in sandbox.lines if "HL7 in mllp://" in line).split("mllp://")[1].split()[0].rsplit(":", 1)[1]
        script = quickstart("hl7").replace("127.0.0.1/2575", f"127.0.0.1/{port}")
        first = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60)
        assert first.returncode == 0, first.stderr
        assert "MSA|AA|M1" in first.stdout and "\nSCH|PL-1^PLACER|" in first.stdout, first.stdout
        again = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60)
        assert "MSA|AE|M1" in again.stdout and "205^Duplicate key identifier" in again.stdout, again.stdout
        found = Client(sandbox.origin).search("Appointment", {"identifier": "urn:fhir-sandbox:hl7:placer-appointment-id|PL-1"})
        booked = [e["resource"] for e in found["entry"] if e["resource"]["resourceType"] == "Appointment"]
        assert len(booked) == 1 and booked[0]["status"] == "booked" and booked[0]["start"].startswith("2026-04-14T10:00")
    finally:
        sandbox.stop()


def test_athena_quickstart_books_through_v1_reads_through_fhir_notes_and_cancels(server):
    lines = run(server, "athena")
    appointment_id, date, start, status = lines["booked"].split()
    assert status == "f" and appointment_id.isdigit() and len(date) == 10 and len(start) == 5
    assert lines["fhir"] == f"a-195900.Appointment-{appointment_id} booked"
    assert lines["note"] == "true" and lines["cancelled"] == "x"
    token = requests.post(server.origin + "/athena/oauth2/v1/token", auth=SECRET,
                          data={"grant_type": "client_credentials", "scope": "system/Appointment.read athena/service/Athenanet.MDP.*"})
    assert token.status_code == 200, token.text
    headers = {"Authorization": "Bearer " + token.json()["access_token"]}
    v1 = server.origin + "/athena/v1/195900/appointments/" + appointment_id
    assert requests.get(v1, headers=headers).json()[0]["appointmentstatus"] == "x"
    notes = requests.get(v1 + "/notes", headers=headers).json()["notes"]
    assert [n["notetext"] for n in notes] == ["Caller will bring the insurance card"]
    fhir = Client(server.origin, base="/athena/fhir/r4")
    fhir.session.headers.update(headers)
    appointment = fhir.get(f"Appointment/a-195900.Appointment-{appointment_id}", params={"ah-practice": "Organization/a-1.Practice-195900"})
    assert appointment.status_code == 200 and appointment.json()["status"] == "cancelled"


def test_ecw_quickstart_books_through_healow_and_cancels(server):
    lines = run(server, "ecw")
    appointment_id, start, status = lines["booked"].split()
    assert status == "booked" and lines["cancelled"] == "1 SUCCESS"
    healow = client_for(server, "/ecw/healow/apps/api/v1/fhir/RIVBCD/fhir", "/ecw/oauth/oauth2/token", "system/*.read")
    appointment = cancelled_and_freed(healow, appointment_id, start)
    assert appointment["cancelationReason"]["text"] == "Patient request"
