"""Isolated sandboxes (issue 12, first part): `/_admin/sandboxes` creates them from the
in-memory snapshot; each serves its profiles' URLs, OAuth endpoints and admin API under
`/sandboxes/{id}`, with its own data, clock, tokens and locks; they are deleted, expire after
`ttlSeconds` unused, and are capped by `--max-sandboxes`."""
import time

import requests

from conftest import CLOCK, Client, Sandbox
from test_vendor_auth import EPIC_BASE, EPIC_TOKEN, backend, epic_id


def create(client, sandbox_id=None, **body):
    if sandbox_id is None:
        response = client.admin("POST", "/_admin/sandboxes", body or None)
    else:
        response = client.admin("PUT", f"/_admin/sandboxes/{sandbox_id}", body or None)
    return response


def test_a_sandbox_has_its_own_data_clock_and_admin_api(client):
    made = create(client, "iso-data", profiles=["generic"], clock={"now": "2026-05-01T09:00:00-05:00", "frozen": True})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["id"] == "iso-data" and set(body["profiles"]) == {"generic"}
    assert made.headers["Location"].endswith("/_admin/sandboxes/iso-data")
    base = body["profiles"]["generic"]["fhirBase"]
    assert base == client.origin + "/sandboxes/iso-data/fhir/r4"
    inside = Client(client.origin, base="/sandboxes/iso-data/fhir/r4")
    created = inside.post("Patient", {"resourceType": "Patient", "name": [{"family": "Onlyinside"}]})
    assert created.status_code == 201 and created.headers["Location"].startswith(base + "/Patient/")
    found = inside.search("Patient", {"family": "Onlyinside"})
    assert found["total"] == 1 and found["link"][0]["url"].startswith(base)
    assert client.search("Patient", {"family": "Onlyinside"})["total"] == 0
    # Its clock is its own; its admin API acts on it alone.
    clock = requests.get(client.origin + "/sandboxes/iso-data/_admin/clock", timeout=10).json()
    assert clock["local"] == "2026-05-01T09:00:00-05:00" and clock["frozen"] is True
    advanced = client.admin("POST", "/sandboxes/iso-data/_admin/clock/advance", {"seconds": 3600}).json()
    assert advanced["local"] == "2026-05-01T10:00:00-05:00"
    assert client.admin("GET", "/_admin/clock").json()["local"] == "2026-04-13T08:00:00-05:00"
    reset = client.admin("POST", "/sandboxes/iso-data/_admin/reset")
    assert reset.status_code == 200 and reset.json()["tenants"] == ["generic"]
    assert inside.search("Patient", {"family": "Onlyinside"})["total"] == 0
    # Profiles it does not hold are not there; the default sandbox still serves everything.
    assert requests.get(client.origin + "/sandboxes/iso-data/epic/api/FHIR/R4/metadata", timeout=10).status_code == 404
    listed = client.admin("GET", "/_admin/sandboxes").json()
    assert "iso-data" in [entry["id"] for entry in listed]
    assert client.admin("DELETE", "/_admin/sandboxes/iso-data").status_code == 204
    gone = requests.get(base + "/Patient", timeout=10)
    assert gone.status_code == 404 and gone.json()["resourceType"] == "OperationOutcome"
    assert client.admin("DELETE", "/_admin/sandboxes/iso-data").status_code == 404


def test_put_is_idempotent_and_post_picks_an_id(client):
    first = create(client, "iso-put")
    assert first.status_code == 201
    again = create(client, "iso-put")
    assert again.status_code == 200 and again.json()["id"] == "iso-put"
    posted = create(client)
    assert posted.status_code == 201 and posted.json()["id"] != "iso-put"
    assert set(posted.json()["profiles"]) == {"generic", "epic", "cerner", "athena", "nextgen", "ecw"}
    for bad, field in [({"profiles": ["nope"]}, "profiles"), ({"ttlSeconds": 0}, "ttlSeconds"), ({"clock": {"now": "soon"}}, "clock"),
                       ({"rateLimits": "yes"}, "rateLimits"), ({"latency": "slow"}, "latency"), ({"color": "red"}, "color")]:
        response = create(client, "iso-bad", **bad)
        assert response.status_code == 400 and response.json()["field"] == field, (bad, response.text)
    assert client.admin("PUT", "/_admin/sandboxes/bad_id!", None).status_code in (400, 404)
    for sandbox_id in ("iso-put", posted.json()["id"]):
        assert client.admin("DELETE", f"/_admin/sandboxes/{sandbox_id}").status_code == 204


def test_tokens_do_not_cross_sandboxes(client):
    made = create(client, "iso-auth", profiles=["epic"])
    assert made.status_code == 201
    urls = made.json()["profiles"]["epic"]
    assert urls["tokenUrl"] == client.origin + "/sandboxes/iso-auth" + EPIC_TOKEN
    discovery = requests.get(urls["smartConfiguration"], timeout=10).json()
    assert discovery["token_endpoint"] == urls["tokenUrl"]
    inside = backend(urls["tokenUrl"], "system/Patient.read")
    assert inside.status_code == 200, inside.text
    token = inside.json()["access_token"]
    patient = "/Patient/" + epic_id("pat-0001")
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.get(urls["fhirBase"] + patient, headers=headers, timeout=10).status_code == 200
    # The default sandbox refuses it (401 in Epic's words), and the other way round.
    outside = requests.get(client.origin + EPIC_BASE + patient, headers=headers, timeout=10)
    assert outside.status_code == 401 and 'error="invalid_token"' in outside.headers["WWW-Authenticate"]
    default_token = backend(client.origin + EPIC_TOKEN, "system/Patient.read").json()["access_token"]
    refused = requests.get(urls["fhirBase"] + patient, headers={"Authorization": f"Bearer {default_token}"}, timeout=10)
    assert refused.status_code == 401
    # An assertion made for the default token endpoint is not taken by the sandbox's.
    assert backend(client.origin + EPIC_TOKEN, "system/Patient.read").status_code == 200
    assert client.admin("DELETE", "/_admin/sandboxes/iso-auth").status_code == 204


def test_sandboxes_expire_and_are_capped():
    server = Sandbox("--clock", CLOCK, "--max-sandboxes", "2")
    try:
        admin = Client(server.origin)
        assert create(admin, "short", ttlSeconds=1).status_code == 201
        assert create(admin, "second").status_code == 201
        full = create(admin, "third")
        assert full.status_code == 429 and "max-sandboxes" in full.json()["message"]
        time.sleep(1.6)
        # The short one lapsed: its URLs are gone and it no longer counts.
        assert requests.get(server.origin + "/sandboxes/short/fhir/r4/metadata", timeout=10).status_code == 404
        assert [entry["id"] for entry in admin.admin("GET", "/_admin/sandboxes").json()] == ["second"]
        assert create(admin, "third").status_code == 201
    finally:
        server.stop()
