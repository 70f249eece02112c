"""The request journal (issue 12): `GET /_admin/requests` shows a sandbox's recent requests to
its vendor bases and OAuth endpoints, newest first, with who made them (client, scopes), what
was sent and answered (headers and bodies, secrets redacted), filterable; each sandbox has its
own."""
import requests

from conftest import Client
from test_vendor_auth import EPIC_BASE, EPIC_TOKEN, backend, epic_id


def test_requests_are_journaled_with_client_scopes_and_redacted_secrets(client):
    assert client.admin("DELETE", "/_admin/requests").status_code == 200
    token_response = backend(client.origin + EPIC_TOKEN, "system/Patient.read")
    assert token_response.status_code == 200
    token = token_response.json()["access_token"]
    path = EPIC_BASE + "/Patient/" + epic_id("pat-0001")
    read = requests.get(client.origin + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert read.status_code == 200
    missing = requests.get(client.origin + EPIC_BASE + "/Patient", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert missing.status_code == 400
    journal = client.admin("GET", "/_admin/requests").json()
    assert [entry["path"] for entry in journal[:3]] == [EPIC_BASE + "/Patient", path, EPIC_TOKEN]
    newest, the_read, the_token = journal[:3]
    assert newest["status"] == 400 and the_read["status"] == 200 and the_token["status"] == 200
    assert the_read["profile"] == "epic" and the_read["clientId"] == "sandbox-backend"
    assert the_read["scopes"] == ["system/Patient.rs"]
    assert the_read["request"]["headers"]["authorization"] == "Bearer <redacted>"
    assert token not in str(journal)
    assert the_read["sandboxTime"] == "2026-04-13T13:00:00.000Z" and float(the_read["durationMs"]) >= 0
    assert "body" not in the_read["response"]  # bodies come with one entry, or with full=true
    one = client.admin("GET", f"/_admin/requests/{the_read['id']}").json()
    assert one["response"]["body"].startswith('{"resourceType":"Patient"') and one["response"]["bodyTruncated"] is False
    token_entry = client.admin("GET", f"/_admin/requests/{the_token['id']}").json()
    assert "client_assertion=%3Credacted%3E" in token_entry["request"]["body"]
    assert '"access_token":"<redacted>"' in token_entry["response"]["body"]
    assert the_token["clientId"] == "sandbox-backend"
    # Filters.
    assert [e["status"] for e in client.admin("GET", "/_admin/requests?status=400").json()] == [400]
    assert {e["path"] for e in client.admin("GET", "/_admin/requests?path=*/Patient/*").json()} == {path}
    assert client.admin("GET", "/_admin/requests?profile=cerner").json() == []
    assert len(client.admin("GET", "/_admin/requests?limit=1").json()) == 1
    assert client.admin("GET", "/_admin/requests?method=POST").json()[0]["path"] == EPIC_TOKEN
    assert client.admin("GET", "/_admin/requests?since=2999-01-01T00:00:00Z").json() == []
    for bad, field in [("status=abc", "status"), ("limit=0", "limit"), ("since=yesterday", "since"), ("colour=red", "colour")]:
        response = client.admin("GET", "/_admin/requests?" + bad)
        assert response.status_code == 400 and response.json()["field"] == field, bad
    assert client.admin("GET", "/_admin/requests/999999").status_code == 404
    assert client.admin("DELETE", "/_admin/requests").status_code == 200
    assert client.admin("GET", "/_admin/requests").json() == []


def test_each_sandbox_has_its_own_journal(client):
    client.admin("DELETE", "/_admin/requests")
    made = client.admin("PUT", "/_admin/sandboxes/journal-a", {"profiles": ["generic"]})
    assert made.status_code == 201
    inside = Client(client.origin, base="/sandboxes/journal-a/fhir/r4")
    assert inside.post("Patient", {"resourceType": "Patient", "name": [{"family": "Journaled"}]}).status_code == 201
    entries = client.admin("GET", "/sandboxes/journal-a/_admin/requests?full=true").json()
    assert [e["method"] for e in entries] == ["POST"] and entries[0]["path"] == "/sandboxes/journal-a/fhir/r4/Patient"
    assert '"Journaled"' in entries[0]["request"]["body"] and entries[0]["clientId"] is None
    assert client.admin("GET", "/_admin/requests").json() == []
    assert client.admin("DELETE", "/_admin/sandboxes/journal-a").status_code == 204
