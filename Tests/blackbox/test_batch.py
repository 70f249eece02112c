"""Batch (independent entries) and transaction (all or nothing, urn:uuid references resolved)."""
from conftest import ids

PATIENT_URN = "urn:uuid:4c1a3c8e-0d7e-4f0c-9a49-8d8f4a0b1c01"


def test_transaction_creates_resolves_references_and_orders_operations(client):
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:7a0c7f0e-1111-4e4e-8a8a-000000000002",
         "resource": {"resourceType": "Coverage", "status": "active", "beneficiary": {"reference": PATIENT_URN},
                      "payor": [{"reference": "Organization/org-payer-prairie"}]},
         "request": {"method": "POST", "url": "Coverage"}},
        {"fullUrl": PATIENT_URN, "resource": {"resourceType": "Patient", "name": [{"family": "Transactional"}]},
         "request": {"method": "POST", "url": "Patient"}},
        {"request": {"method": "DELETE", "url": "Patient/pat-0005"}},
        {"request": {"method": "GET", "url": "Patient?family=Transactional"}},
    ]}
    response = client.post("", bundle)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in result["entry"]]
    assert statuses == ["201 Created", "201 Created", "204 No Content", "200 OK"]
    patient_id = result["entry"][1]["resource"]["id"]
    coverage = result["entry"][0]["resource"]
    assert coverage["beneficiary"]["reference"] == f"Patient/{patient_id}"
    assert result["entry"][3]["resource"]["total"] == 1
    assert client.get("Patient/pat-0005").status_code == 410


def test_transaction_is_all_or_nothing(client):
    before = client.search("Patient", {"_summary": "count"})["total"]
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {"resourceType": "Patient", "name": [{"family": "ShouldNotExist"}]}, "request": {"method": "POST", "url": "Patient"}},
        {"request": {"method": "DELETE", "url": "Patient/pat-0006"}},
        {"resource": {"resourceType": "Patient", "id": "pat-0007", "name": [{"family": "Dubois"}]},
         "request": {"method": "PUT", "url": "Patient/pat-0007", "ifMatch": 'W/"9"'}},
    ]}
    response = client.post("", bundle)
    assert response.status_code == 412
    assert "entry 2" in response.json()["issue"][0]["diagnostics"]
    assert client.search("Patient", {"_summary": "count"})["total"] == before
    assert client.get("Patient/pat-0006").status_code == 200
    assert client.search("Patient", {"family": "ShouldNotExist"})["total"] == 0


def test_transaction_conditional_create_maps_to_existing(client):
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": PATIENT_URN, "resource": {"resourceType": "Patient", "name": [{"family": "Nunez"}]},
         "request": {"method": "POST", "url": "Patient", "ifNoneExist": "identifier=http://riverbend.example.org/fhir/sid/mrn|RB100010"}},
        {"resource": {"resourceType": "Appointment", "status": "proposed",
                      "participant": [{"actor": {"reference": PATIENT_URN}, "status": "needs-action"}]},
         "request": {"method": "POST", "url": "Appointment"}},
    ]}
    response = client.post("", bundle)
    assert response.status_code == 200, response.text
    entries = response.json()["entry"]
    assert entries[0]["response"]["status"] == "200 OK"
    assert entries[1]["resource"]["participant"][0]["actor"]["reference"] == "Patient/pat-0010"


def test_transaction_rejects_invalid_entries_with_their_path(client):
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {"resourceType": "Patient", "gender": "robot"}, "request": {"method": "POST", "url": "Patient"}}]}
    response = client.post("", bundle)
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["Bundle.entry[0].resource.gender"]
    twice = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "DELETE", "url": "Patient/pat-0001"}}, {"request": {"method": "DELETE", "url": "Patient/pat-0001"}}]}
    assert client.post("", twice).status_code == 400
    no_request = {"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": {"resourceType": "Patient"}}]}
    assert client.post("", no_request).status_code == 400


def test_batch_entries_succeed_or_fail_independently(client):
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": {"resourceType": "Patient", "name": [{"family": "Batchy"}]}, "request": {"method": "POST", "url": "Patient"}},
        {"request": {"method": "GET", "url": "Patient/does-not-exist"}},
        {"request": {"method": "GET", "url": "Patient/pat-0010"}},
        {"resource": {"resourceType": "Patient", "gender": "robot"}, "request": {"method": "POST", "url": "Patient"}},
    ]}
    response = client.post("", bundle)
    assert response.status_code == 200
    entries = response.json()["entry"]
    assert [e["response"]["status"].split()[0] for e in entries] == ["201", "404", "200", "422"]
    assert entries[1]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    assert entries[2]["resource"]["id"] == "pat-0010"
    assert client.search("Patient", {"family": "Batchy"})["total"] == 1


def test_other_bundle_types_are_rejected(client):
    response = client.post("", {"resourceType": "Bundle", "type": "collection"})
    assert response.status_code == 400
    assert ids(client.search("Patient", {"family": "Batchy"})) == []
