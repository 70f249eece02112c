"""Read, vread, create, update, patch, delete and history over HTTP, with their headers."""
from conftest import FHIR_JSON, outcome_text


def new_patient(family="Testperson", **extra):
    body = {"resourceType": "Patient", "name": [{"family": family, "given": ["Quinn"]}], "gender": "unknown",
            "birthDate": "1990-01-02"}
    body.update(extra)
    return body


def test_read_serves_stored_resource_with_version_headers(client):
    response = client.get("Patient/pat-0010")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(FHIR_JSON)
    assert response.headers["ETag"] == 'W/"1"'
    assert response.headers["Last-Modified"] == "Mon, 13 Apr 2026 13:00:00 GMT"
    body = response.json()
    assert body["id"] == "pat-0010" and body["name"][0]["family"] == "Núñez"
    assert body["meta"] == {"versionId": "1", "lastUpdated": "2026-04-13T13:00:00.000Z"}


def test_read_missing_is_404_outcome(client):
    response = client.get("Patient/does-not-exist")
    assert response.status_code == 404
    assert "does not exist" in outcome_text(response)


def test_if_none_match_current_version_is_304(client):
    current = client.get("Patient/pat-0001").headers["ETag"]  # as the profile shows it (Cerner counts from 0)
    response = client.get("Patient/pat-0001", headers={"If-None-Match": current})
    assert response.status_code == 304 and response.content == b""
    assert client.get("Patient/pat-0001", headers={"If-None-Match": 'W/"7"'}).status_code == 200


def test_create_assigns_id_and_returns_location_etag_and_body(client):
    response = client.post("Patient", new_patient(id="client-chosen"))
    assert response.status_code == 201
    body = response.json()
    assert body["id"] != "client-chosen"
    assert body["meta"]["versionId"] == "1"
    assert body["meta"]["lastUpdated"] == "2026-04-13T13:00:00.000Z"
    assert response.headers["ETag"] == 'W/"1"'
    assert response.headers["Location"] == f"{client.base}/Patient/{body['id']}/_history/1"
    assert client.get(f"Patient/{body['id']}").json() == body


def test_create_accepts_application_json(client):
    response = client.post("Patient", new_patient(), headers={"Content-Type": "application/json"})
    assert response.status_code == 201


def test_prefer_return_minimal_and_operation_outcome(client):
    minimal = client.post("Patient", new_patient(), headers={"Prefer": "return=minimal"})
    assert minimal.status_code == 201 and minimal.content == b"" and "Location" in minimal.headers
    outcome = client.post("Patient", new_patient(), headers={"Prefer": "return=OperationOutcome"})
    assert outcome.status_code == 201 and outcome.json()["resourceType"] == "OperationOutcome"
    representation = client.post("Patient", new_patient(), headers={"Prefer": "return=representation"})
    assert representation.json()["resourceType"] == "Patient"


def test_conditional_create_none_one_many(client):
    identifier = "http://example.org/ids|COND-1"
    body = new_patient(identifier=[{"system": "http://example.org/ids", "value": "COND-1"}])
    first = client.post("Patient", body, headers={"If-None-Exist": f"identifier={identifier}"})
    assert first.status_code == 201
    again = client.post("Patient", body, headers={"If-None-Exist": f"identifier={identifier}"})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    many = client.post("Patient", new_patient(), headers={"If-None-Exist": "family=Garcia"})
    assert many.status_code == 412
    assert "matches" in outcome_text(many)


def test_conditional_create_with_unknown_parameter_is_400(client):
    response = client.post("Patient", new_patient(), headers={"If-None-Exist": "nonsense=1"})
    assert response.status_code == 400


def test_update_increments_version_and_honours_if_match(client):
    current = client.get("Patient/pat-0001").json()
    current["gender"] = "female"
    current["birthDate"] = "1984-03-13"
    updated = client.put("Patient/pat-0001", current, headers={"If-Match": 'W/"1"'})
    assert updated.status_code == 200
    assert updated.headers["ETag"] == 'W/"2"'
    assert updated.json()["birthDate"] == "1984-03-13" and updated.json()["meta"]["versionId"] == "2"
    stale = client.put("Patient/pat-0001", current, headers={"If-Match": 'W/"1"'})
    assert stale.status_code == 412
    assert "version" in outcome_text(stale)


def test_update_as_create_uses_client_id(client):
    body = new_patient(id="client-made-1")
    response = client.put("Patient/client-made-1", body)
    assert response.status_code == 201
    assert response.headers["Location"].endswith("/Patient/client-made-1/_history/1")
    assert client.get("Patient/client-made-1").status_code == 200


def test_update_id_must_match_url(client):
    response = client.put("Patient/pat-0001", new_patient(id="pat-0002"))
    assert response.status_code == 400
    assert "does not match" in outcome_text(response)
    missing = client.put("Patient/pat-0001", new_patient())
    assert missing.status_code == 400


def test_json_patch(client):
    response = client.patch("Patient/pat-0002", [
        {"op": "test", "path": "/gender", "value": "female"},
        {"op": "replace", "path": "/gender", "value": "other"},
        {"op": "add", "path": "/name/0/given/-", "value": "Lucia"},
    ], headers={"If-Match": 'W/"1"'})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["gender"] == "other" and body["name"][0]["given"] == ["Maria", "Lucia"]
    assert body["meta"]["versionId"] == "2"


def test_json_patch_failures(client):
    wrong_type = client.request("PATCH", "Patient/pat-0002", data="[]", headers={"Content-Type": FHIR_JSON})
    assert wrong_type.status_code == 415
    failed_test = client.patch("Patient/pat-0002", [{"op": "test", "path": "/gender", "value": "male"}])
    assert failed_test.status_code == 422
    invalid_result = client.patch("Patient/pat-0002", [{"op": "replace", "path": "/gender", "value": "robot"}])
    assert invalid_result.status_code == 422
    assert invalid_result.json()["issue"][0]["expression"] == ["Patient.gender"]
    change_id = client.patch("Patient/pat-0002", [{"op": "replace", "path": "/id", "value": "other"}])
    assert change_id.status_code == 422
    not_a_patch = client.patch("Patient/pat-0002", {"op": "replace"})
    assert not_a_patch.status_code == 400
    missing = client.patch("Patient/nope", [{"op": "remove", "path": "/gender"}])
    assert missing.status_code == 404


def test_delete_then_read_is_410_and_history_shows_it(client):
    response = client.delete("Patient/pat-0003")
    assert response.status_code == 204
    gone = client.get("Patient/pat-0003")
    assert gone.status_code == 410
    assert "deleted" in outcome_text(gone)
    assert client.delete("Patient/pat-0003").status_code == 204
    assert client.delete("Patient/never-existed").status_code == 404
    history = client.get("Patient/pat-0003/_history").json()
    assert history["type"] == "history"
    assert [e["request"]["method"] for e in history["entry"]] == ["DELETE", "POST"]
    assert "resource" not in history["entry"][0]
    assert "pat-0003" not in [e["resource"]["id"] for e in client.search("Patient", {"family": "garcia", "_count": 100})["entry"]]


def test_vread_every_version(client):
    current = client.get("Patient/pat-0004").json()
    current["active"] = False
    client.put("Patient/pat-0004", current)
    v1 = client.get("Patient/pat-0004/_history/1")
    v2 = client.get("Patient/pat-0004/_history/2")
    assert v1.status_code == 200 and v1.json()["active"] is True
    assert v2.status_code == 200 and v2.json()["active"] is False and v2.headers["ETag"] == 'W/"2"'
    assert client.get("Patient/pat-0004/_history/3").status_code == 404
    assert client.get("Patient/pat-0004/_history/x").status_code == 400


def test_history_type_and_system_with_since_and_count(client):
    client.admin("POST", "/_admin/clock/advance", {"seconds": 3600})
    created = client.post("Patient", new_patient()).json()
    client.post("Organization", {"resourceType": "Organization", "name": "Later Org"})
    since = "2026-04-13T13:30:00Z"
    type_history = client.get("Patient/_history", params={"_since": since}).json()
    assert [e["resource"]["id"] for e in type_history["entry"]] == [created["id"]]
    system = client.get("_history", params={"_since": since}).json()
    assert [e["resource"]["resourceType"] for e in system["entry"]] == ["Organization", "Patient"]
    limited = client.get("Patient/_history", params={"_count": 5}).json()
    assert len(limited["entry"]) == 5
    assert client.get("_history", params={"_since": "yesterday"}).status_code == 400


def test_missing_resource_history_is_404(client):
    assert client.get("Patient/nope/_history").status_code == 404
