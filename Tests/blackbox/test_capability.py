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
    assert {i["code"] for i in capability["rest"][0]["interaction"]} == {"transaction", "batch", "history-system"}


def test_every_listed_interaction_is_answered(capability, client):
    for resource in capability["rest"][0]["resource"]:
        type_ = resource["type"]
        codes = {i["code"] for i in resource["interaction"]}
        assert codes == {"read", "vread", "update", "patch", "delete", "history-instance", "history-type", "create", "search-type"}
        assert client.get(type_).status_code == 200
        assert client.get(f"{type_}/_history").status_code == 200
        assert client.get(f"{type_}/none-such").status_code == 404
        assert client.get(f"{type_}/none-such/_history/1").status_code == 404
        assert client.get(f"{type_}/none-such/_history").status_code == 404
        # create/update/patch/delete routes exist: an empty body is a 400, not a 404 or 405.
        assert client.request("POST", type_, data="", headers={"Content-Type": "application/fhir+json"}).status_code == 400
        assert client.request("PUT", f"{type_}/x1", data="", headers={"Content-Type": "application/fhir+json"}).status_code == 400
        assert client.request("PATCH", f"{type_}/x1", data="[]", headers={"Content-Type": "application/json-patch+json"}).status_code == 404
        assert client.delete(f"{type_}/none-such").status_code == 404


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
