"""Insurance eligibility (issue 13): the generic profile answers a CoverageEligibilityRequest
synchronously with a CoverageEligibilityResponse computed from the seed's payer rules
(Seeds/default/payers.yaml), through `CoverageEligibilityRequest/$submit` (the response is the
answer) and through a plain create (the response is stored beside it, found by `request`). The
seeded failures: a terminated coverage, an out-of-network provider, an uncovered visit type, an
unknown member id. Epic (§1.5) and Cerner (§2.5) offer no eligibility. Every body is validated
as R4. The session clock is Monday 2026-04-13 08:00 America/Chicago."""
import requests

from test_vendor_auth import CERNER_AUTH, CERNER_BASE, EPIC_BASE, EPIC_TOKEN, backend

VISIT_TYPES = "http://riverbend.example.org/fhir/CodeSystem/visit-type"


def request(patient, coverage=None, provider="pract-okafor", items=("FOLLOW_UP",), purpose=("validation", "benefits"),
            insurer="org-payer-lakeshore"):
    body = {"resourceType": "CoverageEligibilityRequest", "status": "active", "purpose": list(purpose),
            "patient": {"reference": f"Patient/{patient}"}, "servicedDate": "2026-04-20", "created": "2026-04-13T08:00:00-05:00",
            "provider": {"reference": f"Practitioner/{provider}"}, "insurer": {"reference": f"Organization/{insurer}"}}
    if coverage is not None:
        body["insurance"] = [{"coverage": coverage}]
    if items:
        body["item"] = [{"productOrService": {"coding": [{"system": VISIT_TYPES, "code": code}]}} for code in items]
    return body


def submit(client, body):
    response = client.post("CoverageEligibilityRequest/$submit", body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["resourceType"] == "CoverageEligibilityResponse"
    return answer


def item(answer, code):
    return next(i for i in answer["insurance"][0]["item"] if i["productOrService"]["coding"][0]["code"] == code)


def test_an_in_force_coverage_with_the_copay_of_a_covered_visit(client):
    """Maria Garcia (pat-0001, Lakeshore, cov-0001) with Dr. Okafor: in force on the date, in
    network, follow-ups covered with a 30 USD copay; the answer names the request and insurer."""
    answer = submit(client, request("pat-0001", {"reference": "Coverage/cov-0001"}))
    assert answer["outcome"] == "complete" and answer["status"] == "active"
    assert answer["request"]["reference"].startswith("CoverageEligibilityRequest/")
    assert answer["insurer"] == {"reference": "Organization/org-payer-lakeshore"}
    insurance = answer["insurance"][0]
    assert insurance["coverage"] == {"reference": "Coverage/cov-0001"} and insurance["inforce"] is True
    follow_up = item(answer, "FOLLOW_UP")
    assert follow_up["excluded"] is False and follow_up["network"]["coding"][0]["code"] == "in"
    assert follow_up["benefit"][0]["type"]["coding"][0]["code"] == "copay"
    assert follow_up["benefit"][0]["allowedMoney"] == {"value": 30, "currency": "USD"}
    # Without a coverage named, the patient's active one is used; with benefits and no items, every visit type is listed.
    discovered = submit(client, request("pat-0001", items=(), purpose=("benefits",)))
    assert discovered["insurance"][0]["coverage"] == {"reference": "Coverage/cov-0001"}
    assert {i["productOrService"]["coding"][-1]["code"] for i in discovered["insurance"][0]["item"]} >= {
        "NEW_PATIENT", "FOLLOW_UP", "PROCEDURE_CONSULT"}


def test_the_seeded_failures(client):
    """A terminated coverage (pat-0022's cov-0022 ended 2025-06-30) is not in force; Dr. Hoffmann
    is out of Medicare's network and Medicare does not cover telehealth (pat-0008, cov-0008); a
    member id no coverage carries, or another patient's coverage, is outcome error."""
    ended = submit(client, request("pat-0022", {"reference": "Coverage/cov-0022"}, insurer="org-payer-heartland"))
    assert ended["outcome"] == "complete" and ended["insurance"][0]["inforce"] is False
    assert "not in force on 2026-04-20" in ended["disposition"] and "item" not in ended["insurance"][0]
    medicare = submit(client, request("pat-0008", {"reference": "Coverage/cov-0008"}, provider="pract-hoffmann",
                                      items=("FOLLOW_UP", "TELEHEALTH"), insurer="org-payer-medicare"))
    assert medicare["insurance"][0]["inforce"] is True
    assert item(medicare, "FOLLOW_UP")["network"]["coding"][0]["code"] == "out" and "benefit" not in item(medicare, "FOLLOW_UP")
    assert item(medicare, "TELEHEALTH")["excluded"] is True
    assert "out of this payer's network" in medicare["disposition"] and "Telehealth video visit is not covered" in medicare["disposition"]
    unknown = submit(client, request("pat-0001", {"identifier": {"system": "http://riverbend.example.org/fhir/sid/member-id",
                                                                 "value": "NOPE00000"}}))
    assert unknown["outcome"] == "error" and "NOPE00000" in unknown["error"][0]["code"]["text"]
    by_member_id = submit(client, request("pat-0021", {"identifier": {"system": "http://riverbend.example.org/fhir/sid/member-id",
                                                                      "value": "PRA638130490"}}, insurer="org-payer-prairie"))
    assert by_member_id["outcome"] == "complete" and by_member_id["insurance"][0]["coverage"] == {"reference": "Coverage/cov-0021"}
    someone_else = submit(client, request("pat-0002", {"reference": "Coverage/cov-0001"}))
    assert someone_else["outcome"] == "error" and "does not cover Patient/pat-0002" in someone_else["disposition"]


def test_a_created_request_is_answered_in_the_same_write(client):
    """POST CoverageEligibilityRequest is a normal create (201, the request); its response is
    stored in the same transaction and found by `request`; a request is answered once (no update)."""
    created = client.post("CoverageEligibilityRequest", request("pat-0001", {"reference": "Coverage/cov-0001"}))
    assert created.status_code == 201 and created.json()["resourceType"] == "CoverageEligibilityRequest"
    request_id = created.json()["id"]
    found = client.search("CoverageEligibilityResponse", {"request": f"CoverageEligibilityRequest/{request_id}"})
    assert found["total"] == 1 and found["entry"][0]["resource"]["outcome"] == "complete"
    again = client.put(f"CoverageEligibilityRequest/{request_id}", {**created.json(), "purpose": ["validation"]})
    assert again.status_code == 422
    missing = client.post("CoverageEligibilityRequest", {"resourceType": "CoverageEligibilityRequest", "status": "active",
                                                         "patient": {"reference": "Patient/pat-0001"},
                                                         "insurer": {"reference": "Organization/org-payer-lakeshore"}})
    assert missing.status_code in (400, 422), "purpose and created are required"


def test_epic_and_cerner_offer_no_eligibility(client):
    """§1.5, §2.5: neither vendor has CoverageEligibilityRequest: Epic answers its unknown-type
    HTML 404, Cerner its 404; neither CapabilityStatement lists it."""
    epic_token = backend(client.origin + EPIC_TOKEN, "system/Patient.read").json()["access_token"]
    epic = requests.post(client.origin + EPIC_BASE + "/CoverageEligibilityRequest", json=request("pat-0001"),
                         headers={"Authorization": f"Bearer {epic_token}", "Content-Type": "application/fhir+json"})
    assert epic.status_code == 404 and epic.headers["Content-Type"].startswith("text/html")
    cerner_token = backend(client.origin + CERNER_AUTH + "/token", "system/Patient.read").json()["access_token"]
    cerner = requests.post(client.origin + CERNER_BASE + "/CoverageEligibilityRequest", json=request("pat-0001"),
                           headers={"Authorization": f"Bearer {cerner_token}", "Content-Type": "application/fhir+json",
                                    "Accept": "application/fhir+json"})
    assert cerner.status_code == 404
    for base in (EPIC_BASE, CERNER_BASE):
        statement = requests.get(client.origin + base + "/metadata", headers={"Accept": "application/fhir+json"}).json()
        assert not any(r["type"].startswith("CoverageEligibility") for r in statement["rest"][0]["resource"])
