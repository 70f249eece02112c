"""/metadata is derived from what the server answers: every listed interaction and search
parameter works, and nothing unlisted does."""
import pytest

from searchcriteria import criteria
from test_edge import dialect


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
    # Eligibility is the generic profile's own (no vendor offers it: issue 13, §1.5, §2.5).
    # So are Subscriptions (issue 14; Epic and Cerner document none).
    eligibility = [] if getattr(client, "profile", None) else [
        "CoverageEligibilityRequest", "CoverageEligibilityResponse", "Subscription"]
    assert types == sorted(["Patient", "Practitioner", "PractitionerRole", "Organization", "Location", "HealthcareService",
                            "Schedule", "Slot", "Appointment", "Coverage", "Condition", "Observation", "Communication",
                            "DocumentReference", "Encounter", "Provenance"] + eligibility)
    # Whole-system interactions are the profile's: each listed one is served, the others are 405.
    system = {i["code"] for i in capability["rest"][0].get("interaction", [])}
    assert system <= {"transaction", "batch", "history-system"}
    assert (client.get("_history").status_code == 200) == ("history-system" in system)
    for kind in ["transaction", "batch"]:
        status = client.post("", {"resourceType": "Bundle", "type": kind}).status_code
        assert (status == 200) == (kind in system), (kind, status)


def kinds(resource):
    return {p["name"]: p["type"] for p in resource.get("searchParam", [])}


def test_every_listed_interaction_is_answered_and_no_other(capability, client):
    """Each listed interaction is served (its probe gets the answer a served route gives) and
    each unlisted one is 405. On a vendor profile the searches carry what its rules require and
    writes carry what its If-Match rules require."""
    json_type = {"Content-Type": "application/fhir+json"}
    if_match = {"If-Match": 'W/"1"'} if getattr(client, "profile", {}).get("writes", {}).get("requireIfMatch") else {}
    probes = {
        "search-type": (lambda t, r: client.get(t, params=criteria(client, t, kinds(r))), 200),
        "history-type": (lambda t, r: client.get(f"{t}/_history"), 200),
        "read": (lambda t, r: client.get(f"{t}/none-such"), 404),
        "vread": (lambda t, r: client.get(f"{t}/none-such/_history/1"), 404),
        "history-instance": (lambda t, r: client.get(f"{t}/none-such/_history"), 404),
        # An empty body is a 400 from a route that exists (not a 404 or 405).
        "create": (lambda t, r: client.request("POST", t, data="", headers=json_type), 400),
        "update": (lambda t, r: client.request("PUT", f"{t}/x1", data="", headers={**json_type, **if_match}), 400),
        "patch": (lambda t, r: client.request(
            "PATCH", f"{t}/x1", data="[]", headers={"Content-Type": "application/json-patch+json", **if_match}), 404),
        "delete": (lambda t, r: client.delete(f"{t}/none-such"), 404),
    }
    for resource in capability["rest"][0]["resource"]:
        type_ = resource["type"]
        codes = {i["code"] for i in resource["interaction"]}
        assert {"read", "search-type"} <= codes <= set(probes), type_
        if type_ != "Slot" and not hasattr(client, "profile"):
            assert codes == set(probes), type_
        for code, (probe, expected) in probes.items():
            status = probe(type_, resource).status_code
            assert status == (expected if code in codes else 405), (type_, code, status)


def no_match_note(client):
    """The issue code a profile's empty search carries as its only outcome entry (None: none)."""
    codes, _ = dialect(client)
    return codes.get("noMatches", {}).get("code")


def test_every_listed_search_parameter_is_accepted_strictly(capability, client):
    for resource in capability["rest"][0]["resource"]:
        for parameter in resource["searchParam"]:
            params = criteria(client, resource["type"], kinds(resource), probe=parameter["name"])
            response = client.get(resource["type"], params=params, headers={"Prefer": "handling=strict"})
            assert response.status_code == 200, (resource["type"], parameter["name"], response.text)
            # Nothing was ignored: the only outcome entry a profile may add is its no-matches note.
            notes = [e["resource"] for e in response.json().get("entry", []) if e["search"]["mode"] == "outcome"]
            for note in notes:
                codes = [c.get("code") for i in note["issue"] for c in i.get("details", {}).get("coding", [])]
                assert codes and set(codes) == {no_match_note(client)}, (resource["type"], parameter["name"], note)


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
        base = criteria(client, resource["type"], kinds(resource))
        for include in resource.get("searchInclude", []):
            response = client.get(resource["type"], params=base + [("_include", include), ("_count", "1")])
            assert response.status_code == 200, (include, response.text[:300])
        for include in resource.get("searchRevInclude", []):
            response = client.get(resource["type"], params=base + [("_revinclude", include), ("_count", "1")])
            assert response.status_code == 200, (include, response.text[:300])
