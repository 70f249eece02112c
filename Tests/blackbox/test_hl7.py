"""HL7 v2.5.1 over MLLP, both directions, with hl7apy as the peer's validator (strict): the
outbound feed (SIU for appointment changes, ADT for patient changes; ACKs waited for, NAKs and
dropped connections resent, nothing lost) and inbound scheduling requests (SRM^S01/S03/S04
answered with SRR, ADT^A04/A08 with ACK) applied with the FHIR booking rules. README: "HL7 v2"."""
import socket
import threading

import pytest

from conftest import CLOCK, Client, Sandbox
from mllppeer import END, START, Listener, fields, frame, read_frame, send, validate

PLACER = "urn:fhir-sandbox:hl7:placer-appointment-id"


@pytest.fixture(scope="module")
def server():
    s = Sandbox("--clock", CLOCK, "--hl7-in-port", "0")
    yield s
    s.stop()


@pytest.fixture
def hl7(server):
    """A client on the module's server (reset), and the inbound MLLP port."""
    c = Client(server.origin)
    assert c.admin("POST", "/_admin/reset").status_code == 200
    assert c.admin("PUT", "/_admin/clock", {"now": CLOCK, "frozen": True}).status_code == 200
    line = next(l for l in server.lines if "HL7 in mllp://" in l)
    c.hl7_port = int(line.split("mllp://")[1].split()[0].rsplit(":", 1)[1])
    yield c
    c.admin("DELETE", "/_admin/hl7/outbound")


@pytest.fixture
def listener(hl7):
    peer = Listener()
    response = hl7.admin("POST", "/_admin/hl7/outbound", {"destination": f"127.0.0.1:{peer.port}", "profile": "generic"})
    assert response.status_code == 201, response.text
    yield peer
    peer.close()


def free_slots(client, practitioner="pract-okafor", day="2026-04-14", count=3):
    bundle = client.search("Slot", {"schedule.actor": f"Practitioner/{practitioner}", "status": "free",
                                    "start": [f"ge{day}T00:00:00-05:00", f"lt{day}T23:59:00-05:00"], "_count": "50"})
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Slot"][:count]


def dtm(fhir_instant):
    """2026-04-14T09:00:00-05:00 → 20260414090000-0500."""
    return fhir_instant[:19].replace("-", "").replace(":", "").replace("T", "") + fhir_instant[19:].replace(":", "")


def book(client, slot, patient="pat-0001"):
    body = {"resourceType": "Appointment", "status": "booked", "slot": [{"reference": f"Slot/{slot['id']}"}],
            "participant": [{"actor": {"reference": f"Patient/{patient}"}, "status": "accepted"},
                            {"actor": {"reference": "Practitioner/pract-okafor"}, "status": "accepted"},
                            {"actor": {"reference": "Location/loc-main"}, "status": "accepted"}]}
    response = client.post("Appointment", body)
    assert response.status_code == 201, response.text
    return response.json()


def srm(trigger, placer, start="", mrn="RB100002", practitioner="pract-okafor", minutes="20", visit="FOLLOW_UP", control="M1"):
    return (f"MSH|^~\\&|AGENT|CALLCENTER|FHIR-SANDBOX|RIVERBEND|20260413080000-0500||SRM^{trigger}^SRM_S01|{control}|P|2.5.1\r"
            f"ARQ|{placer}||||||^Knee pain|{visit}|{minutes}|min|{start}\r"
            f"PID|1||{mrn}^^^RIVERBEND^MR||Doe^Jane\r"
            f"RGS|1|A\rAIS|1|A|{visit}\rAIP|1|A|{practitioner}\rAIL|1|A|loc-main\r")


def answer_of(port, text):
    answer = send(port, text)
    assert answer is not None, "the connection closed without an answer"
    validate(answer)
    return answer


def err(answer):
    """(ERR-2 location, ERR-3 code, ERR-8 text)."""
    e = fields(answer, "ERR")
    return e[2], e[3].split("^")[0], e[8]


# --- outbound -------------------------------------------------------------------------------

def test_siu_for_every_appointment_event(hl7, listener):
    """S12 new, S14 modified, S13 rescheduled, S15 cancelled, S26 no-show, S17 deleted; each valid
    SIU (v2.5.1, strict) with SCH, PID (the MRN), RGS, AIS, AIL, AIP, times in the clinic's zone
    with offset; control ids unique and increasing."""
    first, later, other = free_slots(hl7)
    appointment = book(hl7, first)
    path = f"Appointment/{appointment['id']}"
    appointment = dict(appointment, comment="Bring your glasses")
    assert hl7.put(path, appointment).status_code == 200
    moved = dict(appointment, slot=[{"reference": f"Slot/{later['id']}"}], start=later["start"], end=later["end"])
    moved = hl7.put(path, moved).json()
    assert hl7.put(path, dict(moved, status="cancelled")).status_code == 200
    second = book(hl7, other)
    assert hl7.put(f"Appointment/{second['id']}", dict(second, status="noshow")).status_code == 200
    assert hl7.delete(f"Appointment/{second['id']}").status_code in (200, 204)
    messages = [m for m, _ in listener.wait(7)]
    triggers = [fields(m, "MSH")[9] for m in messages]
    assert triggers == ["SIU^S12^SIU_S12", "SIU^S14^SIU_S12", "SIU^S13^SIU_S12", "SIU^S15^SIU_S12", "SIU^S12^SIU_S12",
                        "SIU^S26^SIU_S12", "SIU^S17^SIU_S12"]
    for message in messages:
        validate(message)
    controls = [fields(m, "MSH")[10] for m in messages]
    assert controls == sorted(controls) and len(set(controls)) == 7
    sch = fields(messages[0], "SCH")
    assert sch[2].split("^")[0] == appointment["id"] and sch[25].split("^")[0] == "Booked"
    assert sch[11].split("^")[3] == dtm(first["start"]) and dtm(first["start"]).endswith("-0500")
    assert fields(messages[0], "PID")[3].split("^")[0] == "RB100001"  # pat-0001's MRN
    assert fields(messages[0], "AIP")[3].split("^")[0] == "pract-okafor"
    assert fields(messages[0], "AIL")[3].split("^")[0] == "loc-main"
    assert fields(messages[2], "SCH")[11].split("^")[3] == dtm(later["start"])
    assert fields(messages[3], "SCH")[25].split("^")[0] == "Cancelled"
    assert fields(messages[5], "SCH")[25].split("^")[0] == "Noshow"


def test_adt_for_patient_registration_update_and_merge(hl7, listener):
    """A04 registered, A08 updated, A40 merged (active false with a replaced-by link): MRG names
    the merged patient's MRN and PID the survivor."""
    created = hl7.post("Patient", {"resourceType": "Patient", "identifier": [{"system": "http://riverbend.example.org/fhir/sid/mrn",
                                                                              "value": "RB900001"}],
                                   "name": [{"family": "Mbeki", "given": ["Thandi"]}], "gender": "female",
                                   "birthDate": "1979-05-06"}).json()
    path = f"Patient/{created['id']}"
    updated = hl7.put(path, dict(created, telecom=[{"system": "phone", "value": "555-0142"}])).json()
    merged = dict(updated, active=False, link=[{"other": {"reference": "Patient/pat-0003"}, "type": "replaced-by"}])
    assert hl7.put(path, merged).status_code == 200
    messages = [m for m, _ in listener.wait(3)]
    assert [fields(m, "MSH")[9] for m in messages] == ["ADT^A04^ADT_A01", "ADT^A08^ADT_A01", "ADT^A40^ADT_A39"]
    for message in messages:
        validate(message)
    assert fields(messages[0], "PID")[3].split("^")[0] == "RB900001" and fields(messages[0], "PID")[8] == "F"
    assert fields(messages[1], "PID")[13] == "555-0142"
    assert fields(messages[2], "MRG")[1].split("^")[0] == "RB900001"
    assert fields(messages[2], "PID")[3].split("^")[0] == "RB100003"  # the survivor, pat-0003


def test_a_nak_and_a_dropped_connection_resend_and_lose_nothing(hl7, listener):
    """The receiver NAKs (AE) the first message, then drops the connection on its resend: it is
    sent a third time (same control id), then the others follow in order; the admin view counts
    them sent, with the reconnect."""
    listener.plan = ["nak", "drop"]
    for slot in free_slots(hl7):
        book(hl7, slot)
    received = listener.wait(5)
    controls = [fields(m, "MSH")[10] for m, _ in received]
    assert [a for _, a in received] == ["nak", "drop", "ack", "ack", "ack"]
    assert controls[0] == controls[1] == controls[2] and controls[2] < controls[3] < controls[4]
    assert len(listener.quiet(0.5)) == 5
    state = hl7.admin("GET", "/_admin/hl7/outbound").json()["generic"][0]
    assert (state["sent"], state["queued"], state["reconnects"]) == (3, 0, 1)
    first = state["messages"][-1]
    assert first["controlId"] == controls[0] and first["attempts"] == 3 and first["ack"] == "AA"
    journal = hl7.admin("GET", "/_admin/requests?method=HL7&limit=10").json()
    outbound = [e for e in journal if e["path"].startswith("/hl7/out/")]
    assert any(e["status"] == 422 and f"controlId={controls[0]}" in e["query"] for e in outbound)


def test_the_hl7_options_work_from_start_up():
    """`--hl7-out generic=HOST:PORT` feeds from the first change on, and `--hl7-in-port` takes a
    request before any HTTP call (the clinic's data is copied in on first use): the HL7 booking
    reaches the outbound listener as an S12 like any other."""
    peer = Listener()
    s = Sandbox("--clock", CLOCK, "--hl7-out", f"generic=127.0.0.1:{peer.port}", "--hl7-in-port", "generic=0")
    try:
        assert any(f"HL7 out mllp://127.0.0.1:{peer.port}" in line for line in s.lines)
        port = int(next(l for l in s.lines if "HL7 in mllp://" in l).split("mllp://")[1].split()[0].rsplit(":", 1)[1])
        answer = answer_of(port, srm("S01", "PL-START", "202604141000-0500"))
        assert fields(answer, "MSA")[1] == "AA", answer
        message, _ = peer.wait(1)[0]
        validate(message)
        assert fields(message, "MSH")[9] == "SIU^S12^SIU_S12" and fields(message, "MSH")[4] == "RIVERBEND"
        assert fields(message, "SCH")[1].split("^")[0] == "PL-START"
        client = Client(s.origin)
        book(client, free_slots(client)[0])
        assert fields(peer.wait(2)[1][0], "MSH")[9] == "SIU^S12^SIU_S12"
    finally:
        s.stop()
        peer.close()


# --- inbound --------------------------------------------------------------------------------

def test_srm_books_moves_and_cancels(hl7):
    """S01 books the slot at ARQ-11 for the AIP practitioner (AA, SRR with the SCH); S03 moves it;
    S04 cancels it; each change is the FHIR appointment's."""
    first, later, _ = free_slots(hl7)
    booked = answer_of(hl7.hl7_port, srm("S01", "PL-100", dtm(first["start"])))
    assert fields(booked, "MSH")[9] == "SRR^S01^SRR_S01" and fields(booked, "MSA")[1:3] == ["AA", "M1"]
    appointment_id = fields(booked, "SCH")[2].split("^")[0]
    appointment = hl7.get(f"Appointment/{appointment_id}").json()
    assert appointment["status"] == "booked" and appointment["slot"] == [{"reference": f"Slot/{first['id']}"}]
    assert {"system": PLACER, "value": "PL-100"} in appointment["identifier"]
    assert hl7.get(f"Slot/{first['id']}").json()["status"] == "busy"
    moved = answer_of(hl7.hl7_port, srm("S03", "PL-100", dtm(later["start"]), control="M2"))
    assert fields(moved, "MSA")[1] == "AA"
    assert hl7.get(f"Appointment/{appointment_id}").json()["slot"] == [{"reference": f"Slot/{later['id']}"}]
    assert hl7.get(f"Slot/{first['id']}").json()["status"] == "free"
    cancelled = answer_of(hl7.hl7_port, srm("S04", "PL-100", control="M3"))
    assert fields(cancelled, "MSA")[1] == "AA"
    assert hl7.get(f"Appointment/{appointment_id}").json()["status"] == "cancelled"
    journal = hl7.admin("GET", "/_admin/requests?method=HL7&limit=3").json()
    assert [e["path"] for e in journal] == ["/hl7/in/mllp/SRM^S04", "/hl7/in/mllp/SRM^S03", "/hl7/in/mllp/SRM^S01"]
    assert journal[-1]["query"] == "controlId=M1&ack=AA" and journal[-1]["status"] == 200


def test_each_booking_rule_broken_once_is_an_AE_naming_it(hl7):
    """AE with an ERR naming the field and the rule: slot taken, patient unknown, bad time,
    wrong duration, missing start, duplicate placer id."""
    slot, other, _ = free_slots(hl7)
    assert fields(answer_of(hl7.hl7_port, srm("S01", "PL-1", dtm(slot["start"]))), "MSA")[1] == "AA"
    cases = [
        (srm("S01", "PL-2", dtm(slot["start"])), "ARQ^1^11", "slot taken"),
        (srm("S01", "PL-3", dtm(other["start"]), mrn="NOBODY-1"), "PID^1^3", "patient unknown"),
        (srm("S01", "PL-4", "202604140312-0500"), "ARQ^1^11", "bad time"),
        (srm("S01", "PL-5", "2026-04-14"), "ARQ^1^11", "bad time"),
        (srm("S01", "PL-6", dtm(other["start"]), minutes="40"), "ARQ^1^9", "takes 20 minutes, not 40"),
        (srm("S01", "PL-7", ""), "ARQ^1^11", "required"),
        (srm("S01", "PL-1", dtm(other["start"])), "ARQ^1^1", "already booked"),
        (srm("S01", "PL-8", dtm(other["start"]), practitioner="pract-nobody"), "AIP^1^3", "no practitioner"),
    ]
    for text, location, words in cases:
        answer = answer_of(hl7.hl7_port, text)
        assert fields(answer, "MSA")[1] == "AE", (words, answer)
        where, code, message = err(answer)
        assert where == location and words in message, (words, answer)
    assert hl7.get(f"Slot/{other['id']}").json()["status"] == "free", "no refused request booked anything"


def test_one_hundred_concurrent_requests_for_one_slot_get_one_AA(hl7):
    """100 SRM^S01 for the same slot, each on its own connection, at once: exactly one AA."""
    slot = free_slots(hl7)[0]
    answers = [None] * 100

    def one(index):
        answers[index] = send(hl7.hl7_port, srm("S01", f"RACE-{index}", dtm(slot["start"]), control=f"R{index}"), timeout=60)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = [fields(a, "MSA")[1] for a in answers]
    assert codes.count("AA") == 1 and codes.count("AE") == 99
    booked = hl7.search("Appointment", {"slot": f"Slot/{slot['id']}", "status": "booked"})
    assert len([e for e in booked.get("entry", []) if e["resource"]["resourceType"] == "Appointment"]) == 1


def test_adt_registers_and_updates_patients(hl7):
    """ADT^A04 registers a patient (found by MRN afterwards), A08 updates it, a second A04 with
    the same MRN is AE 205."""
    a04 = ("MSH|^~\\&|REG|FRONTDESK|FHIR-SANDBOX|RIVERBEND|20260413080000-0500||ADT^A04^ADT_A01|R1|P|2.5.1\r"
           "EVN|A04|20260413080000-0500\rPID|1||RB777001^^^RIVERBEND^MR||Okoye^Ada||19850203|F|||||555-0199\rPV1|1|O\r")
    answer = answer_of(hl7.hl7_port, a04)
    assert fields(answer, "MSA")[1:3] == ["AA", "R1"] and fields(answer, "MSH")[9] == "ACK^A04^ACK"
    found = hl7.search("Patient", {"identifier": "RB777001"})["entry"][0]["resource"]
    assert found["name"][0]["family"] == "Okoye" and found["birthDate"] == "1985-02-03" and found["gender"] == "female"
    a08 = a04.replace("ADT^A04^ADT_A01|R1", "ADT^A08^ADT_A01|R2").replace("EVN|A04", "EVN|A08").replace("555-0199", "555-0111")
    assert fields(answer_of(hl7.hl7_port, a08), "MSA")[1] == "AA"
    assert hl7.get(f"Patient/{found['id']}").json()["telecom"][0]["value"] == "555-0111"
    again = answer_of(hl7.hl7_port, a04)
    assert fields(again, "MSA")[1] == "AE" and err(again)[1] == "205"


def test_malformed_input_gets_a_nak_or_a_closed_connection(hl7):
    """No MSH, or other encoding characters: AR naming the problem. Bytes outside a frame or a
    frame past 1 MiB: the connection is closed. The listener keeps serving."""
    for text in ["PID|1||X", "MSH|#~\\&|A|B|C|D|20260413||SRM^S01|Z1|P|2.5.1\r"]:
        answer = send(hl7.hl7_port, text)
        assert fields(answer, "MSA")[1] == "AR", answer
    unknown = answer_of(hl7.hl7_port, "MSH|^~\\&|A|B|C|D|20260413||ORM^O01^ORM_O01|Z2|P|2.5.1\r")
    assert fields(unknown, "MSA")[1] == "AR" and err(unknown)[1] == "200"
    with socket.create_connection(("127.0.0.1", hl7.hl7_port), timeout=10) as sock:
        sock.sendall(b"hello, not MLLP\r\n")
        assert read_frame(sock)[0] is None
    with socket.create_connection(("127.0.0.1", hl7.hl7_port), timeout=10) as sock:
        try:
            sock.sendall(START + b"A" * (2 << 20))
        except OSError:
            pass
        assert read_frame(sock)[0] is None
    assert fields(answer_of(hl7.hl7_port, srm("S04", "NOT-THERE")), "MSA")[1] == "AE"


def test_a_profile_sends_every_sandbox_feed_to_its_hl7_outbound(tmpdir_path):
    """`hl7.outbound` in a profile file: its default sandbox and every isolated one send there;
    a destination that is not HOST:PORT is refused at load with the file and key."""
    import shutil
    from conftest import BIN, ROOT
    import os
    import subprocess
    profiles = os.path.join(tmpdir_path, "Profiles")
    shutil.copytree(os.path.join(ROOT, "Profiles"), profiles)
    peer = Listener()
    with open(os.path.join(profiles, "generic.yaml"), "a") as f:
        f.write(f"\nhl7:\n  outbound: [\"127.0.0.1:{peer.port}\"]\n")
    s = Sandbox("--clock", CLOCK, "--profiles-dir", profiles, "--profiles", "generic")
    try:
        client = Client(s.origin)
        assert client.admin("PUT", "/_admin/sandboxes/hl7-box", {}).status_code in (200, 201)
        assert client.admin("PUT", "/sandboxes/hl7-box/_admin/clock", {"now": CLOCK, "frozen": True}).status_code == 200
        isolated = Client(s.origin, base="/sandboxes/hl7-box/fhir/r4")
        book(isolated, free_slots(isolated)[0])
        message, _ = peer.wait(1)[0]
        validate(message)
        assert fields(message, "MSH")[9] == "SIU^S12^SIU_S12"
    finally:
        s.stop()
        peer.close()
    bad = os.path.join(tmpdir_path, "bad.yaml")
    with open(os.path.join(ROOT, "Profiles", "generic.yaml")) as source, open(bad, "w") as f:
        f.write(source.read() + "\nhl7:\n  outbound: [\"nowhere\"]\n")
    lint = subprocess.run([BIN, "profiles", "lint", bad], capture_output=True, text=True)
    assert lint.returncode != 0 and "bad.yaml" in lint.stderr and "'nowhere' is not HOST:PORT" in lint.stderr, lint.stderr
