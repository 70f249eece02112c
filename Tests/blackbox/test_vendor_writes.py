"""Vendor write rules beyond scheduling (Profiles/epic.yaml, Profiles/cerner.yaml): Epic's R4
write surface and duplicate-patient detection (§1.4, §1.6), Cerner's Coverage, Communication,
DocumentReference and Condition create rules and Coverage search (§2.5, §2.6). Each test names
the fact it reproduces in ../shared/reference/vendor-quirks.md."""
import base64

import pytest

from conftest import Client
from test_vendor_auth import CERNER_AUTH, CERNER_BASE, EPIC_BASE, EPIC_TOKEN, backend, epic_id
from test_vendor_cerner import cerner_id, cerner_patient
from test_vendor_epic import EPIC_SYSTEM, epic_codes

NOTE = base64.b64encode(b"Caller asked for a refill.").decode()


def authorized(client, base, token_url, scopes):
    token = backend(client.origin + token_url, scopes).json()["access_token"]
    c = Client(client.origin, base=base)
    c.session.headers["Authorization"] = f"Bearer {token}"
    return c


@pytest.fixture
def epic(client):
    return authorized(client, EPIC_BASE, EPIC_TOKEN, "system/*.read system/*.write")


@pytest.fixture
def cerner(client):
    scopes = " ".join(f"system/{t}.{a}" for t in ("Patient", "Coverage", "Communication", "DocumentReference", "Condition",
                                                  "Practitioner", "Organization") for a in ("read", "write"))
    return authorized(client, CERNER_BASE, CERNER_AUTH + "/token", scopes)


def test_epic_write_surface(epic):
    """§1.4-§1.6: Patient create/read/search (no update); Coverage read/search only; Communication,
    Condition create; DocumentReference and Observation create and update. Others are 405/4100."""
    patient = f"Patient/{epic_id('pat-0001')}"
    communication = epic.post("Communication", {"resourceType": "Communication", "status": "completed", "subject": {"reference": patient},
                                                "payload": [{"contentString": "Caller asked for a refill."}]})
    assert communication.status_code == 201 and communication.json()["id"].startswith("e")
    observation = epic.post("Observation", {"resourceType": "Observation", "status": "final", "code": {"text": "Pain score"},
                                            "subject": {"reference": patient}, "valueInteger": 3})
    assert observation.status_code == 201
    updated = dict(observation.json(), valueInteger=2)
    assert epic.put(f"Observation/{updated['id']}", updated).status_code == 200
    for method, path, body in [("PUT", f"Patient/{epic_id('pat-0001')}", {"resourceType": "Patient", "id": epic_id("pat-0001")}),
                               ("POST", "Coverage", {"resourceType": "Coverage", "status": "active", "beneficiary": {"reference": patient},
                                                     "payor": [{"reference": "Organization/x"}]}),
                               ("DELETE", f"Communication/{communication.json()['id']}", None)]:
        response = epic.request(method, path, json_body=body)
        assert response.status_code == 405, (method, path, response.text)
        assert epic_codes(response.json()) == [("fatal", "4100", EPIC_SYSTEM)]


def test_epic_patient_create_refuses_a_duplicate_with_59141(epic):
    """§1.4, §1.8: Patient create with duplicate detection (59141 "An attempt was made to create a
    duplicate record."); a new person is created."""
    duplicate = {"resourceType": "Patient", "name": [{"family": "Garcia", "given": ["Maria"]}], "gender": "female",
                 "birthDate": "1991-07-30"}
    response = epic.post("Patient", duplicate)
    assert response.status_code == 400
    assert epic_codes(response.json()) == [("fatal", "59141", EPIC_SYSTEM)]
    assert response.json()["issue"][0]["details"]["text"] == "An attempt was made to create a duplicate record."
    assert response.json()["issue"][0]["code"] == "duplicate"
    fresh = dict(duplicate, name=[{"family": "Lindqvist", "given": ["Ada"]}], birthDate="1990-05-05")
    created = epic.post("Patient", fresh)
    assert created.status_code == 201 and created.json()["id"].startswith("e")
    assert epic.post("Patient", fresh).status_code == 400  # the same person twice


def test_cerner_coverage_create_rules_and_search_by_patient(cerner):
    """§2.5: Coverage create needs status active, subscriber, beneficiary, payor, class type+value
    and a period with times (422 otherwise, §2.8); search by patient only (no _id)."""
    patient = f"Patient/{cerner_patient('pat-0005')}"
    good = {"resourceType": "Coverage", "status": "active", "subscriber": {"reference": patient}, "beneficiary": {"reference": patient},
            "payor": [{"reference": f"Organization/{cerner_id('Organization', 'org-payer-prairie')}"}],
            "class": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/coverage-class", "code": "group"}]},
                       "value": "GRP-100"}],
            "period": {"start": "2026-01-01T00:00:00Z", "end": "2026-12-31T23:59:59Z"}}
    created = cerner.post("Coverage", good)
    assert created.status_code == 201 and created.content == b""
    for broken, element in [(dict(good, status="draft"), "Coverage.status"),
                            (dict(good, period={"start": "2026-01-01"}), "Coverage.period.start"),
                            ({k: v for k, v in good.items() if k != "payor"}, "Coverage.payor"),
                            (dict(good, **{"class": [{"type": {"text": "group"}}]}), "Coverage.class.value"),
                            (dict(good, beneficiary={"reference": f"Organization/{cerner_id('Organization', 'org-payer-prairie')}"}), "Coverage.beneficiary")]:
        response = cerner.post("Coverage", broken)
        assert response.status_code == 422, (element, response.text)
        assert response.json()["issue"][0]["expression"] == [element]
    found = cerner.search("Coverage", {"patient": cerner_patient("pat-0005")})
    assert found["entry"] and all(e["resource"]["beneficiary"]["reference"] == patient for e in found["entry"])
    assert cerner.get("Coverage", params={"_id": "cov-0001"}).status_code == 400


OKAFOR = f"Practitioner/{cerner_id('Practitioner', 'pract-okafor')}"
REYES = f"Practitioner/{cerner_id('Practitioner', 'pract-reyes')}"


def test_cerner_communication_document_and_condition_create_rules(cerner):
    """§2.6: Communication (completed, category notification/reminder/312853008, Practitioner
    recipient and sender, text/plain or HTML attachment); DocumentReference (current/final, one
    Practitioner author, one attachment with a charset, context.period.end, dates with times);
    Condition (clinicalStatus, one category problem-list-item/encounter-diagnosis, code, subject;
    encounter for an encounter-diagnosis)."""
    patient = f"Patient/{cerner_patient('pat-0005')}"
    communication = {"resourceType": "Communication", "status": "completed", "subject": {"reference": patient},
                     "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/communication-category", "code": "notification"}]}],
                     "recipient": [{"reference": OKAFOR}], "sender": {"reference": REYES},
                     "payload": [{"contentAttachment": {"contentType": "text/plain", "data": NOTE}}]}
    created = cerner.post("Communication", communication)
    assert created.status_code == 201
    # §2.6, §2.9 (5): Communication ids contain dots and negative numbers (489580643.0.-4.prsnl).
    path = created.headers["Location"].split(CERNER_BASE + "/")[1].split("/_history")[0]
    assert path.startswith("Communication/") and path.endswith(".0.-4.prsnl") and path.split("/")[1][0].isdigit()
    assert cerner.get(path).json()["id"] == path.split("/")[1]
    for broken, element in [(dict(communication, status="in-progress"), "Communication.status"),
                            (dict(communication, recipient=[{"reference": patient}]), "Communication.recipient"),
                            (dict(communication, category=[{"text": "chat"}]), "Communication.category")]:
        response = cerner.post("Communication", broken)
        assert response.status_code == 422 and response.json()["issue"][0]["expression"] == [element], response.text
    document = {"resourceType": "DocumentReference", "status": "current", "docStatus": "final",
                "type": {"coding": [{"system": "http://loinc.org", "code": "34840-9"}]}, "subject": {"reference": patient},
                "date": "2026-04-13T13:00:00Z", "author": [{"reference": OKAFOR}],
                "content": [{"attachment": {"contentType": "text/plain; charset=utf-8", "data": NOTE}}],
                "context": {"period": {"start": "2026-04-13T12:50:00Z", "end": "2026-04-13T13:00:00Z"}}}
    assert cerner.post("DocumentReference", document).status_code == 201
    for broken, element in [(dict(document, context={"period": {"start": "2026-04-13T12:50:00Z"}}), "DocumentReference.context.period.end"),
                            (dict(document, content=[{"attachment": {"contentType": "text/plain", "data": NOTE}}]),
                             "DocumentReference.content.attachment.contentType"),
                            (dict(document, date="2026-04-13"), "DocumentReference.date"),
                            (dict(document, author=[{"reference": OKAFOR}, {"reference": REYES}]),
                             "DocumentReference.author")]:
        response = cerner.post("DocumentReference", broken)
        assert response.status_code == 422 and response.json()["issue"][0]["expression"] == [element], response.text
    category = lambda code: [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": code}]}]
    condition = {"resourceType": "Condition", "subject": {"reference": patient}, "category": category("problem-list-item"),
                 "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
                 "code": {"text": "Knee pain"}}
    assert cerner.post("Condition", condition).status_code == 201
    diagnosis = cerner.post("Condition", dict(condition, category=category("encounter-diagnosis")))
    assert diagnosis.status_code == 422 and diagnosis.json()["issue"][0]["expression"] == ["Condition.encounter"]
    missing = cerner.post("Condition", {k: v for k, v in condition.items() if k != "clinicalStatus"})
    assert missing.status_code == 422 and missing.json()["issue"][0]["expression"] == ["Condition.clinicalStatus"]
