"""Admin API: reset, clock, OpenAPI document, JSON errors."""


def test_health_and_index(client):
    health = client.session.get(client.origin + "/_health", timeout=10)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    index = client.session.get(client.origin + "/", timeout=10).json()
    assert [p["name"] for p in index["profiles"]] == ["athena", "cerner", "ecw", "epic", "generic", "nextgen"]
    generic = index["profiles"][4]
    assert generic["fhirBase"] == client.base and generic["auth"] == "optional"
    assert generic["token"] == client.origin + "/fhir/auth/token"
    assert index["profiles"][3]["auth"] == "required" and index["profiles"][3]["token"] == client.origin + "/epic/oauth2/token"
    athena = index["profiles"][0]
    assert athena["fhirBase"] == client.origin + "/athena/fhir/r4" and athena["token"] == client.origin + "/athena/oauth2/v1/token"
    assert athena["proprietaryAPI"] == {"base": client.origin + "/athena/v1", "scope": "athena/service/Athenanet.MDP.*", "style": "athena"}
    html = client.session.get(client.origin + "/", headers={"Accept": "text/html"}, timeout=10)
    assert html.headers["Content-Type"].startswith("text/html") and "/fhir/r4" in html.text


def test_reset_restores_seeded_state(client):
    client.delete("Patient/pat-0001")
    client.post("Patient", {"resourceType": "Patient", "name": [{"family": "Ephemeral"}]})
    response = client.admin("POST", "/_admin/reset")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "reset" and body["tenants"] == ["athena", "cerner", "ecw", "epic", "generic", "nextgen"]
    assert client.get("Patient/pat-0001").status_code == 200
    assert client.search("Patient", {"family": "Ephemeral"})["total"] == 0
    assert client.get("Patient/pat-0001/_history").json()["entry"][0]["request"]["method"] == "POST"


def test_clock_read_set_and_advance(client):
    clock = client.admin("GET", "/_admin/clock").json()
    assert clock["now"] == "2026-04-13T13:00:00.000Z" and clock["frozen"] is True
    assert clock["local"] == "2026-04-13T08:00:00-05:00" and clock["timeZone"] == "America/Chicago"
    moved = client.admin("PUT", "/_admin/clock", {"now": "2026-05-01T09:30:00-05:00"}).json()
    assert moved["now"] == "2026-05-01T14:30:00.000Z" and moved["frozen"] is True
    advanced = client.admin("POST", "/_admin/clock/advance", {"seconds": 90}).json()
    assert advanced["now"] == "2026-05-01T14:31:30.000Z"
    created = client.post("Patient", {"resourceType": "Patient"}).json()
    assert created["meta"]["lastUpdated"] == "2026-05-01T14:31:30.000Z"
    running = client.admin("PUT", "/_admin/clock", {"frozen": False}).json()
    assert running["frozen"] is False and running["now"] >= "2026-05-01T14:31:30"


def test_admin_errors_are_json_400s(client):
    cases = [
        ("PUT", "/_admin/clock", {"now": "tomorrow"}, "now"),
        ("PUT", "/_admin/clock", {"now": "2026-05-01T09:30:00"}, "now"),
        ("PUT", "/_admin/clock", {"frozen": "yes"}, "frozen"),
        ("PUT", "/_admin/clock", {"later": 1}, "later"),
        ("POST", "/_admin/clock/advance", {"seconds": "10"}, "seconds"),
        ("POST", "/_admin/clock/advance", {"seconds": 1.5}, "seconds"),
        ("POST", "/_admin/clock/advance", {}, "seconds"),
    ]
    for method, path, body, field in cases:
        response = client.admin(method, path, body)
        assert response.status_code == 400, (path, body)
        assert response.json()["error"] == "bad_request" and response.json()["field"] == field
    broken = client.session.put(client.origin + "/_admin/clock", data="{nope", timeout=10)
    assert broken.status_code == 400 and "JSON" in broken.json()["message"]
    assert client.admin("GET", "/_admin/nothing").status_code == 404


def test_openapi_lists_every_admin_route(client):
    document = client.admin("GET", "/_admin/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {"/_admin/reset", "/_admin/clock", "/_admin/clock/advance", "/_admin/clients", "/_admin/compare",
                                      "/_admin/locks", "/_admin/openapi.json", "/_admin/sandboxes", "/_admin/sandboxes/{id}",
                                      "/_admin/requests", "/_admin/requests/{id}", "/_admin/faults", "/_admin/faults/{id}",
                                      "/_admin/rate-limits", "/_admin/latency", "/_admin/actions", "/_admin/deliveries",
                                      "/_admin/deliveries/policy", "/_admin/hl7/outbound", "/_admin/certifications",
                                      "/_admin/certifications/{id}", "/_admin/certifications/{id}/finish"}
    assert set(document["paths"]["/_admin/certifications"]) == {"get", "post"}
    assert set(document["paths"]["/_admin/faults"]) == {"get", "post", "delete"}
    assert set(document["paths"]["/_admin/faults/{id}"]) == {"get", "delete"}
    assert set(document["paths"]["/_admin/actions"]) == {"get", "post", "delete"}
    assert set(document["paths"]["/_admin/sandboxes/{id}"]) == {"get", "put", "delete"}
    assert set(document["paths"]["/_admin/locks"]) == {"get", "post", "delete"}
    assert set(document["paths"]["/_admin/clock"]) == {"get", "put"}


def test_compare_needs_type_and_seed_id(client):
    for query in ("", "?type=Patient", "?seedId=pat-0001"):
        response = client.admin("GET", "/_admin/compare" + query)
        assert response.status_code == 400 and response.json()["field"] in ("type", "seedId")
    missing = client.admin("GET", "/_admin/compare?type=Patient&seedId=nobody").json()
    assert {p["status"] for p in missing["profiles"].values()} == {404}
