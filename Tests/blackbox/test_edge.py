"""One error exit and one set of policies per profile (issue 11). Every error a profile's base
produces — from the engine, an edge step, the HTTP layer (401, 413), routing (404, 405) —
comes back in the profile's error dialect (`errors` in Profiles/<name>.yaml), and batch and
transaction entries obey the same interactions, If-Match rules, create rules and locks as
requests do. Runs against generic, epic and cerner (the vendor client translates seed ids)."""
import os

import requests
import yaml

from fhirvalidation import ROOT, assert_valid


def dialect(client):
    """The profile's `errors` block: {kind: entry}, and the details system."""
    name = getattr(client, "name", "generic")
    with open(os.path.join(ROOT, "Profiles", f"{name}.yaml")) as handle:
        errors = yaml.safe_load(handle).get("errors", {})
    return errors.get("codes", {}), errors.get("system")


def assert_in_dialect(client, response, kind, status):
    """`response` is the error `kind` (R4 `status`) as the profile's dialect words it."""
    codes, system = dialect(client)
    entry = codes.get(kind, {})
    assert response.status_code == entry.get("status", status), (kind, response.status_code, response.text[:300])
    body = entry.get("body", "outcome")
    if body == "empty":
        assert response.content == b""
        return
    if body == "text":
        assert response.headers["Content-Type"].startswith("text/plain")
        return
    if body == "html":
        assert response.headers["Content-Type"].startswith("text/html")
        return
    outcome = response.json()
    assert_valid(outcome)
    assert outcome["resourceType"] == "OperationOutcome"
    if "code" in entry:
        coding = outcome["issue"][0]["details"]["coding"][0]
        assert (coding.get("system"), coding["code"]) == (system, entry["code"]), outcome
    else:
        assert all("details" not in issue for issue in outcome["issue"]), outcome


def test_errors_from_every_layer_leave_through_the_dialect(client):
    # Routing: no route takes OPTIONS under the base.
    assert_in_dialect(client, client.request("OPTIONS", "Patient"), "notFound", 404)
    # The engine: metadata is GET only.
    assert_in_dialect(client, client.request("DELETE", "metadata"), "methodNotAllowed", 405)
    # The HTTP layer: a body over the profile's limit.
    oversized = b"{" + b" " * (4 << 20) + b"}"
    response = client.request("POST", "Patient", data=oversized, headers={"Content-Type": "application/fhir+json"})
    assert_in_dialect(client, response, "payloadTooLarge", 413)
    # The HTTP layer: a token that is not one (anonymous-friendly profiles check it too).
    bad = requests.get(client.url("Patient/pat-0001"), headers={"Authorization": "Bearer not-a-token"}, timeout=30)
    assert_in_dialect(client, bad, "unauthorized", 401)
    assert 'error="invalid_token"' in bad.headers["WWW-Authenticate"]


def first_patient_etag(client):
    response = client.get("Patient/pat-0001")
    assert response.status_code == 200
    return response.headers["ETag"]


def test_transaction_entries_obey_the_profiles_interactions(client):
    """An entry may do what a request may do on this base, no more."""
    interactions = getattr(client, "profile", {}).get("resources", {}).get("interactions", {})
    allowed = interactions.get("Encounter")
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {"resourceType": "Encounter", "status": "planned", "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": {"reference": "Patient/pat-0001"}},
         "request": {"method": "POST", "url": "Encounter"}}]}
    response = client.post("", bundle)
    if allowed is None or "create" in allowed:
        assert response.status_code == 200, response.text
    else:
        assert_in_dialect(client, response, "methodNotAllowed", 405)
        assert "Bundle.entry[0]" in response.json()["issue"][0]["expression"]


def test_batch_entries_obey_if_match_rules_and_locks(client, sandbox):
    """A profile that needs If-Match on PATCH needs it in a batch entry too; a locked resource
    refuses an entry's write with 423, like a request."""
    rules = getattr(client, "profile", {}).get("writes", {})
    interactions = getattr(client, "profile", {}).get("resources", {}).get("interactions", {})
    if "patch" not in interactions.get("Patient", ["patch"]):
        return  # the profile takes no Patient patch (its own 405 is the interactions test's)
    patch = [{"op": "replace", "path": "/gender", "value": "female"}]
    import base64
    import json
    binary = {"resourceType": "Binary", "contentType": "application/json-patch+json",
              "data": base64.b64encode(json.dumps(patch).encode()).decode()}
    entry = {"resource": binary, "request": {"method": "PATCH", "url": "Patient/pat-0001"}}
    response = client.post("", {"resourceType": "Bundle", "type": "batch", "entry": [entry]})
    assert response.status_code == 200, response.text
    status = response.json()["entry"][0]["response"]["status"]
    if "patch" in rules.get("requireIfMatch", []):
        assert status.startswith("412"), status
        entry["request"]["ifMatch"] = first_patient_etag(client)
        response = client.post("", {"resourceType": "Bundle", "type": "batch", "entry": [entry]})
        status = response.json()["entry"][0]["response"]["status"]
    assert status.startswith("200"), response.text
    # Lock the patient: the same entry is refused with 423 until the lock lapses.
    name = getattr(client, "name", "generic")
    stored = client.get("Patient/pat-0001").json()["id"]
    locked = client.admin("POST", "/_admin/locks", {"profile": name, "type": "Patient", "id": stored, "seconds": 60})
    assert locked.status_code == 200, locked.text
    entry["request"]["ifMatch"] = first_patient_etag(client)
    response = client.post("", {"resourceType": "Bundle", "type": "batch", "entry": [entry]})
    assert response.json()["entry"][0]["response"]["status"].startswith("423"), response.text
    transaction = client.post("", {"resourceType": "Bundle", "type": "transaction", "entry": [entry]})
    assert_in_dialect(client, transaction, "locked", 423)


def test_create_rules_hold_for_transaction_entries(client):
    """A create a profile's rules refuse as a request is refused as an entry (422 naming it)."""
    rules = getattr(client, "profile", {}).get("writes", {}).get("createRules", {})
    if "Condition" not in rules:
        return  # no create rules on this profile
    condition = {"resourceType": "Condition", "code": {"text": "knee pain"}, "subject": {"reference": "Patient/pat-0001"}}
    direct = client.post("Condition", condition)
    assert_in_dialect(client, direct, "invalidResource", 422)
    response = client.post("", {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": condition, "request": {"method": "POST", "url": "Condition"}}]})
    assert_in_dialect(client, response, "invalidResource", 422)
    assert "Bundle.entry[0]" in response.json()["issue"][0]["expression"][0]
