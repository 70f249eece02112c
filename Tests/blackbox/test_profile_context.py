"""Profile keys a vendor with a practice context and an Okta-style authorization server needs
(athenahealth, vendor-quirks §3.1-§3.3), on a profile written for the test: `context` (a query
parameter every FHIR call must carry, else the vendor's non-OperationOutcome 400), a search
refusal worded as a template over the required combinations with the vendor's issue type,
`auth.jwksName`, `auth.issuer`, athena's OAuth error wording (`auth.errorStyle: athena`) and
its ids (`ids: athena`: `a-195900.E-60178` is the seed's pat-0001)."""
PATIENT = "a-195900.E-60178"
import json
import os
import shutil

import jwt
import pytest
import requests

from conftest import CLOCK, ROOT, Sandbox
from fhirvalidation import assert_valid

PRACTICE = "Organization/a-1.Practice-195900"
REFUSAL = '{"details": "Could not determine what practice to use for this request."}'
ISSUER = "https://issuer.example.org/oauth2/aus-test"
PROFILE = f"""
name: practice
description: A practice-scoped test profile
fhirBase: /practice/fhir/r4
ids: athena
context:
  parameter: ah-practice
  value: "{PRACTICE}"
  status: 400
  body: '{REFUSAL}'
search:
  criteriaMessage: "required parameter combinations {{combinations}} was not provided"
  rules:
    Patient:
      requireOneOf:
        - [_id]
        - [family, birthdate]
errors:
  codes:
    searchCriteriaMissing: {{severity: fatal, issueType: forbidden, status: 400}}
rateLimits:
  - name: token-requests
    requests: 5
    windowSeconds: 60
    counts: [token]
    per: client
    status: 429
    retryAfter: false
    message: Too many token requests
    enabled: true
    source: "§3.2: 5 requests per minute in preview; blocked for the rest of the minute"
auth:
  mode: required
  path: /practice/oauth2/v1
  tenant: "195900"
  jwksName: keys
  issuer: "{ISSUER}"
  errorStyle: athena
  clientAuthMethods: [client_secret_basic, private_key_jwt]
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    profiles = tmp_path_factory.mktemp("profiles")
    shutil.copy(os.path.join(ROOT, "Profiles", "profile.schema.json"), profiles)
    (profiles / "practice.yaml").write_text(PROFILE)
    s = Sandbox("--clock", CLOCK, "--profiles-dir", str(profiles))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def token(server):
    response = requests.post(server.origin + "/practice/oauth2/v1/token", auth=("sandbox-secret", "sandbox-secret-TEST-ONLY"),
                             data={"grant_type": "client_credentials", "scope": "system/Patient.rs system/Organization.rs"})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def get(server, token, path, **params):
    return requests.get(server.origin + "/practice/fhir/r4/" + path, params=params,
                        headers={"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"})


def test_every_call_needs_the_practice_context_reads_included(server, token):
    """§3.3: without `ah-practice` (or with another practice) the answer is 400 with the
    vendor's JSON body, not an OperationOutcome; with it the engine never sees the parameter;
    metadata needs none."""
    for path, params in [(f"Patient/{PATIENT}", {}), ("Patient", {"_id": PATIENT}),
                         (f"Patient/{PATIENT}", {"ah-practice": "Organization/a-1.Practice-1"})]:
        refused = get(server, token, path, **params)
        assert refused.status_code == 400, (path, params, refused.text)
        assert refused.headers["Content-Type"].startswith("application/json") and refused.json() == json.loads(REFUSAL)
    read = get(server, token, f"Patient/{PATIENT}", **{"ah-practice": PRACTICE})
    assert read.status_code == 200 and read.json()["id"] == PATIENT
    assert_valid(read.json())
    found = get(server, token, "Patient", _id=PATIENT, **{"ah-practice": PRACTICE})
    assert found.status_code == 200 and [e["resource"]["id"] for e in found.json()["entry"]] == [PATIENT]
    assert found.json()["entry"][0]["fullUrl"].endswith(f"/practice/fhir/r4/Patient/{PATIENT}")
    assert get(server, token, "Patient/pat-0001", **{"ah-practice": PRACTICE}).status_code == 404  # stored ids are not athena's
    # The practice itself, by the id in the context parameter.
    organization = get(server, token, "Organization/a-1.Practice-195900", **{"ah-practice": PRACTICE})
    assert organization.status_code == 200 and organization.json()["id"] == "a-1.Practice-195900"
    assert requests.get(server.origin + "/practice/fhir/r4/metadata", headers={"Accept": "application/fhir+json"}).status_code == 200


def test_a_search_without_a_required_combination_is_forbidden_in_the_vendors_words(server, token):
    """§3.3: `400` with an OperationOutcome, severity fatal, code forbidden, text like
    `required parameter combinations [[patient],[_id]] was not provided`."""
    refused = get(server, token, "Patient", gender="female", **{"ah-practice": PRACTICE})
    assert refused.status_code == 400
    outcome = refused.json()
    assert_valid(outcome)
    issue = outcome["issue"][0]
    assert (issue["severity"], issue["code"]) == ("fatal", "forbidden")
    assert issue["diagnostics"] == "required parameter combinations [[_id],[family,birthdate]] was not provided"


def test_the_key_set_and_issuer_are_where_the_vendor_puts_them(server, token):
    """§3.1: keys at `/oauth2/v1/keys`; the issuer (discovery and tokens) names another host
    than the token endpoint."""
    keys = requests.get(server.origin + "/practice/oauth2/v1/keys")
    assert keys.status_code == 200 and keys.json()["keys"]
    assert requests.get(server.origin + "/practice/oauth2/v1/jwks").status_code == 404
    discovery = requests.get(server.origin + "/practice/fhir/r4/.well-known/smart-configuration").json()
    assert discovery["issuer"] == ISSUER
    assert discovery["jwks_uri"].endswith("/practice/oauth2/v1/keys")
    assert discovery["token_endpoint"].endswith("/practice/oauth2/v1/token")
    assert jwt.decode(token, options={"verify_signature": False})["iss"] == ISSUER


def test_page_links_keep_the_practice_context(server, token):
    """A `next` link carries `ah-practice` again: following it stays in the practice."""
    first = get(server, token, "Patient", family="garcia", birthdate="ge1900-01-01", _count="1", **{"ah-practice": PRACTICE})
    assert first.status_code == 200, first.text
    following = next(link["url"] for link in first.json()["link"] if link["relation"] == "next")
    assert "ah-practice=Organization%2Fa-1.Practice-195900" in following or f"ah-practice={PRACTICE}" in following
    second = requests.get(following, headers={"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"})
    assert second.status_code == 200, second.text
    assert_valid(second.json())


def test_token_errors_in_athenas_words(server):
    """§3.2: a token request none of whose scopes the client may have is `401`
    `{"detailedmessage": "Policy evaluation failed...", "error": "access_denied"}`; other token
    errors keep their code with `detailedmessage` in place of `error_description`."""
    client = {"id": "practice-agent", "type": "confidential-secret", "secret": "practice-agent-TEST-ONLY",
              "scopes": ["system/Patient.rs"], "grantTypes": ["client_credentials"]}
    registered = requests.post(server.origin + "/_admin/clients", json=client)
    assert registered.status_code in (200, 201), registered.text
    token_url = server.origin + "/practice/oauth2/v1/token"
    denied = requests.post(token_url, auth=("practice-agent", "practice-agent-TEST-ONLY"),
                           data={"grant_type": "client_credentials", "scope": "system/Appointment.rs"})
    assert denied.status_code == 401, denied.text
    assert denied.json() == {"error": "access_denied",
                             "detailedmessage": "Policy evaluation failed for this request, please check the policy configurations."}
    granted = requests.post(token_url, auth=("practice-agent", "practice-agent-TEST-ONLY"),
                            data={"grant_type": "client_credentials", "scope": "system/Patient.rs system/Appointment.rs"})
    assert granted.status_code == 200 and granted.json()["scope"] == "system/Patient.rs"
    wrong = requests.post(token_url, auth=("practice-agent", "not-the-secret"), data={"grant_type": "client_credentials"})
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client" and wrong.json()["detailedmessage"]
    assert set(wrong.json()) == {"error", "detailedmessage"}


def test_the_token_endpoint_throttle_blocks_a_client_for_the_rest_of_the_minute(server):
    """§3.2: 5 token requests per minute (preview); the sixth is 429 and the client stays blocked
    for the rest of the clock minute, whatever it asks; another client is not."""
    client = {"id": "token-per-call", "type": "confidential-secret", "secret": "token-per-call-TEST-ONLY",
              "scopes": ["system/Patient.rs"], "grantTypes": ["client_credentials"]}
    assert requests.post(server.origin + "/_admin/clients", json=client).status_code in (200, 201)
    token_url = server.origin + "/practice/oauth2/v1/token"
    answers = [requests.post(token_url, auth=("token-per-call", "token-per-call-TEST-ONLY"),
                             data={"grant_type": "client_credentials", "scope": "system/Patient.rs"}) for _ in range(7)]
    statuses = [a.status_code for a in answers]
    # The minute may roll over during the burst: then the count starts again.
    assert statuses.count(429) >= 1 and statuses[:5].count(200) >= 4, statuses
    refused = next(a for a in answers if a.status_code == 429)
    assert "Retry-After" not in refused.headers
    other = requests.post(token_url, auth=("sandbox-secret", "sandbox-secret-TEST-ONLY"),
                          data={"grant_type": "client_credentials", "scope": "system/Patient.rs"})
    assert other.status_code == 200
