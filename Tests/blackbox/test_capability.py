"""/metadata is derived from what the server answers: every listed interaction and search
parameter works, and nothing unlisted does."""
import pytest

SAMPLE = {"string": "a", "token": "x", "date": "ge2020-01-01", "reference": "Patient/pat-0001", "number": "1",
          "quantity": "gt1", "uri": "http://example.org/x"}


@pytest.fixture
def capability(client):
    response = client.get("metadata")
    assert response.status_code == 200
    return response.json()


def test_capability_statement_shape(capability, client):
    assert capability["resourceType"] == "CapabilityStatement"
    assert capability["fhirVersion"] == "4.0.1" and capability["kind"] == "instance"
    assert capability["implementation"]["url"] == client.base
    assert "application/fhir+json" in capability["format"]
    types = sorted(r["type"] for r in capability["rest"][0]["resource"])
    assert types == sorted(["Patient", "Practitioner", "PractitionerRole", "Organization", "Location", "HealthcareService",
                            "Schedule", "Slot", "Appointment", "Coverage", "Condition", "Observation", "Communication",
                            "DocumentReference", "Encounter"])
    # Whole-system interactions are the profile's: each listed one is served, the others are 405.
    system = {i["code"] for i in capability["rest"][0].get("interaction", [])}
    assert system <= {"transaction", "batch", "history-system"}
    assert (client.get("_history").status_code == 200) == ("history-system" in system)
    for kind in ["transaction", "batch"]:
        status = client.post("", {"resourceType": "Bundle", "type": kind}).status_code
        assert (status == 200) == (kind in system), (kind, status)


def test_every_listed_interaction_is_answered_and_no_other(capability, client):
    json_type = {"Content-Type": "application/fhir+json"}
    probes = {
        "search-type": (lambda t: client.get(t), 200),
        "history-type": (lambda t: client.get(f"{t}/_history"), 200),
        "read": (lambda t: client.get(f"{t}/none-such"), 404),
        "vread": (lambda t: client.get(f"{t}/none-such/_history/1"), 404),
        "history-instance": (lambda t: client.get(f"{t}/none-such/_history"), 404),
        # An empty body is a 400 from a route that exists (not a 404 or 405).
        "create": (lambda t: client.request("POST", t, data="", headers=json_type), 400),
        "update": (lambda t: client.request("PUT", f"{t}/x1", data="", headers=json_type), 400),
        "patch": (lambda t: client.request("PATCH", f"{t}/x1", data="[]", headers={"Content-Type": "application/json-patch+json"}), 404),
        "delete": (lambda t: client.delete(f"{t}/none-such"), 404),
    }
    for resource in capability["rest"][0]["resource"]:
        type_ = resource["type"]
        codes = {i["code"] for i in resource["interaction"]}
        assert {"read", "search-type"} <= codes <= set(probes), type_
        if type_ != "Slot":
            assert codes == set(probes), type_
        for code, (probe, expected) in probes.items():
            status = probe(type_).status_code
            assert status == (expected if code in codes else 405), (type_, code, status)


def test_every_listed_search_parameter_is_accepted_strictly(capability, client):
    for resource in capability["rest"][0]["resource"]:
        for parameter in resource["searchParam"]:
            value = SAMPLE[parameter["type"]]
            response = client.get(resource["type"], params={parameter["name"]: value}, headers={"Prefer": "handling=strict"})
            assert response.status_code == 200, (resource["type"], parameter["name"], response.text)
            assert not [e for e in response.json().get("entry", []) if e["search"]["mode"] == "outcome"]


def test_unlisted_parameters_and_types_are_refused(capability, client):
    listed = {r["type"]: {p["name"] for p in r["searchParam"]} for r in capability["rest"][0]["resource"]}
    for type_, names in listed.items():
        for name in ["shoe-size", "_text", "_content", "_has"]:
            assert name not in names
            response = client.get(type_, params={name: "x"}, headers={"Prefer": "handling=strict"})
            assert response.status_code == 400, (type_, name)
    for type_ in ["Medication", "AllergyIntolerance", "Device"]:
        assert type_ not in listed
        assert client.get(type_).status_code == 404


def test_includes_listed_are_accepted(capability, client):
    for resource in capability["rest"][0]["resource"]:
        for include in resource.get("searchInclude", []):
            assert client.get(resource["type"], params={"_include": include, "_count": 1}).status_code == 200, include
        for include in resource.get("searchRevInclude", []):
            assert client.get(resource["type"], params={"_revinclude": include, "_count": 1}).status_code == 200, include
