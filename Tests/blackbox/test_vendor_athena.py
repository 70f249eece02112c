"""athenahealth's authorization server and FHIR R4 surface (Profiles/athena.yaml), from the
profile file alone. Each test names the fact it reproduces in ../shared/reference/vendor-quirks.md
§3. Every FHIR body is validated as R4 (schema and fhirkit)."""
import json
import os
import shutil

import jwt
import pytest
import requests
import yaml

from athena import AUTH, CONTEXT, FHIR, ISSUER, MDP, PRACTICE, Athena, patient_id, register
from conftest import CLOCK, ROOT, Sandbox
from fhirvalidation import assert_valid
from test_vendor_auth import backend

PATIENT = patient_id("pat-0001")


@pytest.fixture
def athena(client):
    return Athena(client.origin)


def test_discovery_names_the_okta_issuer_and_the_keys_url(client):
    """§3.1: .well-known/smart-configuration names the Okta issuer (another host than the token
    endpoint), the /oauth2/v1 endpoints, the key set at /keys, client_secret_basic and
    private_key_jwt, permission-v1 and -v2; it needs no token and no practice."""
    discovery = requests.get(client.origin + FHIR + "/.well-known/smart-configuration")
    assert discovery.status_code == 200
    body = discovery.json()
    assert body["issuer"] == ISSUER
    for key, name in (("token_endpoint", "token"), ("authorization_endpoint", "authorize"), ("introspection_endpoint", "introspect"),
                      ("revocation_endpoint", "revoke")):
        assert body[key] == client.origin + AUTH + "/" + name
    assert body["jwks_uri"] == client.origin + AUTH + "/keys"
    assert {"client_secret_basic", "private_key_jwt"} <= set(body["token_endpoint_auth_methods_supported"])
    assert {"permission-v1", "permission-v2"} <= set(body["capabilities"])
    keys = requests.get(client.origin + AUTH + "/keys")
    assert keys.status_code == 200 and keys.json()["keys"]
    assert requests.get(client.origin + AUTH + "/jwks").status_code == 404
    metadata = requests.get(client.origin + FHIR + "/metadata", headers={"Accept": "application/fhir+json"})
    assert metadata.status_code == 200
    assert_valid(metadata.json())


def test_a_backend_token_with_basic_or_a_jwt_assertion_lasts_an_hour(client):
    """§3.2: client credentials with Authorization: Basic (the normal path) and private_key_jwt;
    access tokens last one hour; the proprietary scope is granted to a client registered for it."""
    client_id, secret = register(client.origin)
    response = requests.post(client.origin + AUTH + "/token", auth=(client_id, secret),
                             data={"grant_type": "client_credentials", "scope": f"system/Patient.read {MDP}"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["expires_in"] == 3600 and body["token_type"] == "Bearer"
    assert body["scope"].split() == ["system/Patient.read", MDP]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["iss"] == ISSUER and claims["exp"] - claims["iat"] == 3600
    asserted = backend(client.origin + AUTH + "/token", "system/Patient.read")
    assert asserted.status_code == 200, asserted.text
    # §3.1: introspection and revocation under /oauth2/v1 too.
    introspected = requests.post(client.origin + AUTH + "/introspect", auth=(client_id, secret), data={"token": body["access_token"]})
    assert introspected.status_code == 200 and introspected.json()["active"] is True
    assert requests.post(client.origin + AUTH + "/revoke", auth=(client_id, secret), data={"token": body["access_token"]}).status_code == 200
    assert requests.post(client.origin + AUTH + "/introspect", auth=(client_id, secret),
                         data={"token": body["access_token"]}).json()["active"] is False


def test_a_scope_the_app_may_not_have_is_policy_evaluation_failed(client):
    """§3.2 [AT-AUTHSCRIPT]: 401 {"detailedmessage": "Policy evaluation failed...", "error":
    "access_denied"}; other token errors keep their code with detailedmessage."""
    client_id, secret = register(client.origin, scopes=["system/Patient.read"])
    url = client.origin + AUTH + "/token"
    denied = requests.post(url, auth=(client_id, secret), data={"grant_type": "client_credentials", "scope": MDP})
    assert denied.status_code == 401
    assert denied.json() == {"error": "access_denied",
                             "detailedmessage": "Policy evaluation failed for this request, please check the policy configurations."}
    wrong = requests.post(url, auth=(client_id, "not-the-secret"), data={"grant_type": "client_credentials"})
    assert wrong.status_code == 401 and set(wrong.json()) == {"error", "detailedmessage"} and wrong.json()["error"] == "invalid_client"


def test_the_token_endpoint_blocks_a_client_for_the_rest_of_the_minute(client):
    """§3.2, §3.6: 5 token requests a minute per client in preview; over it 429, and blocked for
    the rest of the minute (no Retry-After); another client is not."""
    client_id, secret = register(client.origin)
    url = client.origin + AUTH + "/token"
    statuses = []
    for _ in range(7):
        answer = requests.post(url, auth=(client_id, secret), data={"grant_type": "client_credentials", "scope": "system/Patient.read"})
        statuses.append(answer.status_code)
        if answer.status_code == 429:
            assert "Retry-After" not in answer.headers
            assert answer.json()["error"]
    # The clock minute may roll over during the burst: then the count starts again.
    assert statuses.count(429) >= 1 and statuses[:5].count(200) >= 4, statuses
    other_id, other_secret = register(client.origin)
    assert requests.post(url, auth=(other_id, other_secret), data={"grant_type": "client_credentials"}).status_code == 200


def test_a_profile_setting_switches_to_the_production_limit(tmp_path):
    """§3.2: 50 token requests a minute in production: enabling token-requests-prod (and disabling
    the preview limit) in the profile lets a client take 7 tokens in a row."""
    with open(os.path.join(ROOT, "Profiles", "athena.yaml")) as f:
        profile = yaml.safe_load(f)
    for limit in profile["rateLimits"]:
        if limit["name"] == "token-requests":
            limit["enabled"] = False
        if limit["name"] == "token-requests-prod":
            limit["enabled"] = True
    (tmp_path / "athena.yaml").write_text(yaml.safe_dump(profile))
    shutil.copy(os.path.join(ROOT, "Profiles", "profile.schema.json"), tmp_path)
    server = Sandbox("--clock", CLOCK, "--profiles-dir", str(tmp_path))
    try:
        client_id, secret = register(server.origin)
        statuses = [requests.post(server.origin + AUTH + "/token", auth=(client_id, secret),
                                  data={"grant_type": "client_credentials"}).status_code for _ in range(7)]
        assert statuses == [200] * 7
    finally:
        server.stop()


def test_every_call_needs_the_practice_context_reads_included(athena):
    """§3.3: without ah-practice (or naming another practice) the answer is 400 with the vendor's
    JSON body, not an OperationOutcome; with it the call is served; metadata needs none."""
    for path, params in [(f"Patient/{PATIENT}", {}), ("Patient", {"_id": PATIENT}),
                         (f"Patient/{PATIENT}", {"ah-practice": "Organization/a-1.Practice-1"})]:
        refused = athena.fhir(path, params, validate=False, context=False)
        assert refused.status_code == 400, refused.text
        assert refused.headers["Content-Type"].startswith("application/json")
        assert refused.json()["details"].startswith("Could not determine what practice")
    read = athena.fhir(f"Patient/{PATIENT}")
    assert read.status_code == 200 and read.json()["id"] == PATIENT


def test_ids_are_athenas_and_reversible(athena):
    """§3.3, §3.9: a-195900.E-60178 is the first sandbox patient; departments are
    a-195900.Department-{n}, the practice a-1.Practice-195900; the patient carries the athena id
    as an identifier in urn:athenahealth:athenanet:patient:195900, which a search finds."""
    patient = athena.fhir(f"Patient/{PATIENT}").json()
    assert {"system": f"urn:athenahealth:athenanet:patient:{PRACTICE}", "value": "60178"} in patient["identifier"]
    found = athena.fhir("Patient", {"identifier": f"urn:athenahealth:athenanet:patient:{PRACTICE}|60178"}).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [PATIENT]
    department = athena.fhir(f"Location/a-{PRACTICE}.Department-1")
    assert department.status_code == 200 and department.json()["name"] == "Riverbend Main Clinic"
    practice = athena.fhir("Organization/a-1.Practice-195900")
    assert practice.status_code == 200
    assert department.json()["managingOrganization"]["reference"] == "Organization/a-1.Practice-195900"
    assert athena.fhir("Patient/pat-0001").status_code == 404


def test_patient_search_needs_one_of_the_documented_combinations(athena):
    """§3.3: _id, identifier, name, family+birthdate, family+gender or family+given; otherwise 400
    with an OperationOutcome fatal/forbidden: "required parameter combinations [...] was not provided"."""
    refused = athena.fhir("Patient", {"gender": "female"})
    assert refused.status_code == 400
    issue = refused.json()["issue"][0]
    assert (issue["severity"], issue["code"]) == ("fatal", "forbidden")
    assert issue["diagnostics"] == ("required parameter combinations [[_id],[identifier],[name],[family,birthdate],"
                                    "[family,gender],[family,given]] was not provided")
    for params in ({"family": "garcia", "given": "maria"}, {"family": "garcia", "birthdate": "1984-03-12"}, {"name": "garcia"}):
        found = athena.fhir("Patient", params)
        assert found.status_code == 200 and PATIENT in [e["resource"]["id"] for e in found.json()["entry"]], params
    # §3.3: no global searches on clinical types; Appointment by _id only.
    coverage = athena.fhir("Coverage", {"status": "active"})
    assert coverage.status_code == 400 and "[[patient],[_id]]" in coverage.json()["issue"][0]["diagnostics"]
    assert athena.fhir("Coverage", {"patient": f"Patient/{PATIENT}"}).status_code == 200
    assert athena.fhir("Appointment", {"status": "booked"}).status_code == 400
    appointment = athena.fhir("Appointment", {"_id": f"a-{PRACTICE}.Appointment-1"}).json()
    assert appointment["entry"][0]["resource"]["identifier"][0] == {
        "system": f"urn:athenahealth:athenanet:appointment:{PRACTICE}", "value": "1"}


def test_fhir_is_read_and_search_only_without_slots_or_schedules(athena):
    """§3.3: read and search-type only (the only create is QuestionnaireResponse, which the
    sandbox does not serve); no Slot, no Schedule, no Subscription in R4; the
    CapabilityStatement says so."""
    headers = {**athena.headers, "Content-Type": "application/fhir+json"}
    url = athena.origin + FHIR
    created = requests.post(url + "/Patient", params=CONTEXT, headers=headers,
                            data=json.dumps({"resourceType": "Patient", "name": [{"family": "Nobody"}]}))
    assert created.status_code == 405, created.text
    assert_valid(created.json())
    assert requests.delete(url + f"/Patient/{PATIENT}", params=CONTEXT, headers=headers).status_code == 405
    for kind in ("Slot", "Schedule"):
        unknown = athena.fhir(kind, {"_id": "x"})
        assert unknown.status_code == 404, unknown.text
    statement = athena.fhir("metadata", context=False).json()
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert not {"Slot", "Schedule", "Subscription"} & set(resources)
    assert all({i["code"] for i in r["interaction"]} == {"read", "search-type"} for r in resources.values())
    assert [p["name"] for p in resources["Appointment"]["searchParam"]] == ["_id"]


def test_paging_is_count_plus_an_opaque_cursor_in_the_practice(athena):
    """§3.3, §3.8 (5): _count and an opaque cursor (not _getpages or an offset); the next link
    keeps the practice context, so following it stays in the practice."""
    first = athena.fhir("Patient", {"name": "a", "_count": "2"})
    assert first.status_code == 200
    links = {link["relation"]: link["url"] for link in first.json()["link"]}
    assert set(links) == {"self", "next"}
    following = links["next"]
    assert "cursor=" in following and "ah-practice=" in following and "_getpages" not in following
    second = requests.get(following, headers={**athena.headers, "Accept": "application/fhir+json"})
    assert second.status_code == 200
    assert_valid(second.json())
    firsts = {e["resource"]["id"] for e in first.json()["entry"]}
    assert firsts.isdisjoint(e["resource"]["id"] for e in second.json()["entry"])


def test_compare_reads_the_patient_in_the_practice(client):
    """/_admin/compare shows athena's view of a seed patient: its id, and a URL carrying the
    practice context that a client can follow."""
    compared = client.admin("GET", "/_admin/compare?type=Patient&seedId=pat-0001").json()["profiles"]["athena"]
    assert compared["status"] == 200 and compared["id"] == PATIENT
    assert compared["url"] == client.origin + FHIR + f"/Patient/{PATIENT}?ah-practice=Organization/a-1.Practice-195900"
    assert_valid(compared["resource"])
    assert compared["resource"]["id"] == PATIENT
