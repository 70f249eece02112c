"""NextGen Enterprise (Profiles/nextgen.yaml): read-only US Core FHIR with `_maxresults` paging,
the OAuth paths, and scheduling over HL7 v2 (SRM in, SIU out) on by default. Each test names the
fact it reproduces in ../shared/reference/vendor-quirks.md §5.1 and §5.3, or says ASSUMPTION. FHIR
bodies are validated (R4: schema and fhirkit), HL7 messages with hl7apy (v2.5.1, strict)."""
import json

import pytest
import requests

from conftest import Client, basic_token
from fhirvalidation import assert_valid
from mllppeer import Listener, fields, send, validate

BASE = "/nextgen/nge/prod/fhir-api-r4/fhir/R4"
OAUTH = "/nextgen/nge/prod/patient-oauth"
SECRET = ("sandbox-secret", "sandbox-secret-TEST-ONLY")


def token(origin):
    return basic_token(origin, OAUTH + "/token", "system/*.read")


@pytest.fixture
def nextgen(client):
    c = Client(client.origin, base=BASE)
    c.session.headers["Authorization"] = f"Bearer {token(client.origin)}"
    return c


def hl7_port(sandbox):
    line = next(l for l in sandbox.lines if l.startswith("nextgen") and "HL7 in mllp://" in l)
    return int(line.split("mllp://")[1].split()[0].rsplit(":", 1)[1])


def test_oauth_lives_under_patient_oauth_with_token_revoke(client):
    """§5.1: /nge/prod/patient-oauth/authorize, /token and /token/revoke."""
    discovery = requests.get(client.origin + BASE + "/.well-known/smart-configuration").json()
    assert discovery["token_endpoint"] == client.origin + OAUTH + "/token"
    assert discovery["authorization_endpoint"] == client.origin + OAUTH + "/authorize"
    assert discovery["revocation_endpoint"] == client.origin + OAUTH + "/token/revoke"
    issued = requests.post(client.origin + OAUTH + "/token", auth=SECRET, data={"grant_type": "client_credentials", "scope": "system/Patient.read"})
    assert issued.status_code == 200
    access = issued.json()["access_token"]
    headers = {"Authorization": f"Bearer {access}", "Accept": "application/fhir+json"}
    assert requests.get(client.origin + BASE + "/Patient/pat-0001", headers=headers).status_code == 200
    assert requests.post(client.origin + OAUTH + "/revoke", auth=SECRET, data={"token": access}).status_code == 404
    assert requests.post(client.origin + OAUTH + "/token/revoke", auth=SECRET, data={"token": access}).status_code == 200
    assert requests.get(client.origin + BASE + "/Patient/pat-0001", headers=headers).status_code == 401


def test_fhir_is_read_only_us_core_without_scheduling(nextgen):
    """§5.1: read and search only, no write interaction at all; no Appointment, Slot or Schedule;
    US Core types (of those the sandbox serves), no Communication or HealthcareService."""
    statement = nextgen.get("metadata").json()
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(resources) == {"Patient", "Practitioner", "PractitionerRole", "Location", "Organization", "Encounter", "Condition",
                              "Observation", "DocumentReference", "Coverage", "Provenance"}
    assert all({i["code"] for i in r["interaction"]} == {"read", "search-type"} for r in resources.values())
    for kind in ("Appointment", "Slot", "Schedule", "Communication"):
        assert nextgen.get(kind).status_code == 404
    created = nextgen.post("Patient", {"resourceType": "Patient", "name": [{"family": "Nobody"}]})
    assert created.status_code == 405
    assert nextgen.request("PUT", "Patient/pat-0001", json_body={"resourceType": "Patient", "id": "pat-0001"}).status_code == 405
    assert nextgen.post("", {"resourceType": "Bundle", "type": "batch", "entry": []}).status_code == 405


def test_maxresults_pages_like_count(nextgen):
    """§5.1, §5.3 (3): a non-standard _maxresults page size, alongside _count."""
    by_max = nextgen.search("Patient", {"name": "a", "_maxresults": "3"})
    by_count = nextgen.search("Patient", {"name": "a", "_count": "3"})
    assert len(by_max["entry"]) == 3
    assert [e["resource"]["id"] for e in by_max["entry"]] == [e["resource"]["id"] for e in by_count["entry"]]
    following = next(link["url"] for link in by_max["link"] if link["relation"] == "next")
    second = nextgen.get(following).json()
    assert len(second["entry"]) == 3
    assert not {e["resource"]["id"] for e in by_max["entry"]} & {e["resource"]["id"] for e in second["entry"]}


def test_voice_agent_call_verifies_through_fhir_books_by_srm_and_hears_siu(sandbox, nextgen):
    """§5.1: practices book through HL7 v2: the profile listens for SRM from start-up (a free port,
    printed); SRM^S01 books (SRR^S01, AA), the interface engine hears SIU^S12 with MSH-3 NEXTGEN
    (ASSUMPTION); a staff cancel arrives as SIU^S15. (NGE's FHIR has no Appointment to read back.)"""
    port = hl7_port(sandbox)
    # The voice agent verifies the caller through FHIR and books with the chart's MRN.
    found = nextgen.search("Patient", {"family": "Garcia", "given": "Maria", "birthdate": "1984-03-12"})
    assert len(found["entry"]) == 1
    mrn = next(i["value"] for i in found["entry"][0]["resource"]["identifier"] if i["system"].endswith("/mrn"))
    peer = Listener()
    added = nextgen.admin("POST", "/_admin/hl7/outbound", {"destination": f"127.0.0.1:{peer.port}", "profile": "nextgen"})
    assert added.status_code == 201, added.text
    try:
        request = ("MSH|^~\\&|AGENT|CALLCENTER|NEXTGEN|RIVERBEND|20260413080000-0500||SRM^S01^SRM_S01|NG1|P|2.5.1\r"
                   "ARQ|NG-PLACER-1||||||^Knee pain|FOLLOW_UP|20|min|20260414100000-0500\r"
                   f"PID|1||{mrn}^^^RIVERBEND^MR||Garcia^Maria\r"
                   "RGS|1|A\rAIS|1|A|FOLLOW_UP\rAIP|1|A|pract-okafor\rAIL|1|A|loc-main\r")
        answer = send(port, request)
        validate(answer)
        assert fields(answer, "MSH")[9].startswith("SRR^S01") and fields(answer, "MSA")[1] == "AA", answer
        assert fields(answer, "MSH")[3] == "NEXTGEN"
        appointment_id = fields(answer, "SCH")[2].split("^")[0]
        messages = [m for m, _ in peer.wait(1)]
        validate(messages[0])
        assert fields(messages[0], "MSH")[9] == "SIU^S12^SIU_S12" and fields(messages[0], "MSH")[3] == "NEXTGEN"
        assert fields(messages[0], "SCH")[2].split("^")[0] == appointment_id
        cancelled = nextgen.admin("POST", "/_admin/actions", {"action": "cancel-appointment", "profile": "nextgen",
                                                               "appointment": f"Appointment/{appointment_id}"})
        assert cancelled.status_code == 200, cancelled.text
        messages = [m for m, _ in peer.wait(2)]
        validate(messages[1])
        assert fields(messages[1], "MSH")[9] == "SIU^S15^SIU_S12" and fields(messages[1], "SCH")[25].split("^")[0] == "Cancelled"
    finally:
        nextgen.admin("DELETE", "/_admin/hl7/outbound")
        peer.close()
