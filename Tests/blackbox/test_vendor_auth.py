"""The Epic and Oracle Health (Cerner) authorization servers, from their profile files alone.
Each test names the fact it reproduces in ../shared/reference/vendor-quirks.md."""
import base64
import hashlib
import os
import secrets
import time
import urllib.parse
import uuid

import jwt
import requests

from test_auth import ES384, KEYS, RS384, REDIRECT

EPIC_BASE = "/epic/api/FHIR/R4"
EPIC_TOKEN = "/epic/oauth2/token"
TENANT = "ec2458f2-1e24-41c8-b71b-0e701af7583d"
CERNER_BASE = f"/cerner/r4/{TENANT}"
CERNER_AUTH = f"/cerner/tenants/{TENANT}/protocols/oauth2/profiles/smart-v1"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def epic_id(seed_id):
    """§1.4: Epic ids begin with "e", end with "3" and may contain "." and "-" (Profiles/epic.yaml:
    the seed id, base64url-encoded with "." for "_")."""
    return "e" + base64.urlsafe_b64encode(seed_id.encode()).decode().rstrip("=").replace("_", ".") + "3"


def signed(token_url, key=RS384, alg="RS384", kid="backend-rs384", jti=None, iss="sandbox-backend"):
    now = int(time.time())
    return jwt.encode({"iss": iss, "sub": iss, "aud": token_url, "exp": now + 240,
                       "jti": jti or str(uuid.uuid4())}, key, algorithm=alg, headers={"kid": kid})


def backend(token_url, scope, **kwargs):
    return requests.post(token_url, data={"grant_type": "client_credentials", "scope": scope, "client_assertion_type": ASSERTION_TYPE,
                                          "client_assertion": signed(token_url, **kwargs)})


def test_epic_backend_token_response_shape(client):
    """§1.2: {"access_token":...,"token_type":"bearer","expires_in":3600,"scope":"Patient.read Patient.search"}."""
    url = client.origin + EPIC_TOKEN
    response = backend(url, "system/Patient.read")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["scope"] == "Patient.read Patient.search"
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Pragma"] == "no-cache"
    read = requests.get(client.origin + EPIC_BASE + "/Patient/" + epic_id("pat-0001"),
                        headers={"Authorization": f"Bearer {body['access_token']}"})
    assert read.status_code == 200


def test_epic_requires_a_token_and_names_the_service_in_403(client):
    """§1.2 table: 401 invalid_token without a token; 403 insufficient_scope with Epic's text."""
    anonymous = requests.get(client.origin + EPIC_BASE + "/Patient/pat-0001")
    assert anonymous.status_code == 401 and 'error="invalid_token"' in anonymous.headers["WWW-Authenticate"]
    assert requests.get(client.origin + EPIC_BASE + "/metadata").status_code == 200
    token = backend(client.origin + EPIC_TOKEN, "system/Patient.read").json()["access_token"]
    denied = requests.get(client.origin + EPIC_BASE + "/Appointment/appt-0001", headers={"Authorization": f"Bearer {token}"})
    assert denied.status_code == 403
    assert ('error="insufficient_scope", error_description="The access token provided is valid, but is not authorized for this service"'
            in denied.headers["WWW-Authenticate"])


def test_epic_assertion_rules_and_null_error_description(client):
    """§1.2: ES256/ES384 only for clients registered with a JWK Set URL; jti at most 151
    characters; bad assertions are 400 {"error":"invalid_client","error_description":null}."""
    url = client.origin + EPIC_TOKEN
    ecdsa = backend(url, "system/Patient.read", key=ES384, alg="ES384", kid="backend-es384")
    assert ecdsa.status_code == 400 and ecdsa.json() == {"error": "invalid_client", "error_description": None}
    assert "ES384" in ecdsa.headers["X-Sandbox-Error-Description"]
    assert backend(url, "system/Patient.read", jti="j" * 151).status_code == 200
    long_jti = backend(url, "system/Patient.read", jti="j" * 152)
    assert long_jti.status_code == 400 and "151" in long_jti.headers["X-Sandbox-Error-Description"]
    # Issue 13, §1.1: client_secret_post is supported and advertised, like client_secret_basic.
    post = requests.post(url, data={"grant_type": "client_credentials", "client_id": "sandbox-secret",
                                    "client_secret": "sandbox-secret-TEST-ONLY", "scope": "system/Patient.read"})
    assert post.status_code == 200, post.text
    assert post.json()["token_type"] == "bearer" and post.json()["scope"] == "Patient.read Patient.search"
    wrong = requests.post(url, data={"grant_type": "client_credentials", "client_id": "sandbox-secret", "client_secret": "nope"})
    assert wrong.status_code in (400, 401) and wrong.json()["error"] == "invalid_client"
    basic = requests.post(url, data={"grant_type": "client_credentials", "scope": "system/Patient.read"},
                          auth=("sandbox-secret", "sandbox-secret-TEST-ONLY"))
    assert basic.status_code == 200
    discovery = requests.get(client.origin + EPIC_BASE + "/.well-known/smart-configuration", timeout=10).json()
    assert {"client_secret_post", "client_secret_basic", "private_key_jwt"} <= set(discovery["token_endpoint_auth_methods_supported"])


def test_tokens_are_bound_to_their_profile(client):
    generic = requests.post(client.origin + "/fhir/auth/token", data={"grant_type": "client_credentials", "scope": "system/Patient.rs"},
                            auth=("sandbox-secret", "sandbox-secret-TEST-ONLY")).json()["access_token"]
    other = requests.get(client.origin + EPIC_BASE + "/Patient/pat-0001", headers={"Authorization": f"Bearer {generic}"})
    assert other.status_code == 401 and "another profile" in other.json()["issue"][0]["diagnostics"]


def test_cerner_tokens_last_570_seconds_and_take_v1_scopes_only(client):
    """§2.2: access tokens last 570 s; SMART v1 scopes only; no wildcards; such requests refused."""
    url = client.origin + CERNER_AUTH + "/token"
    good = backend(url, "system/Patient.read system/Appointment.read")
    assert good.status_code == 200, good.text
    body = good.json()
    assert body["expires_in"] == 570 and body["token_type"] == "Bearer" and body["scope"] == "system/Patient.read system/Appointment.read"
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert requests.get(client.origin + CERNER_BASE + "/Patient/127240001", headers=headers).status_code == 200  # §2.4 numeric ids
    client.admin("POST", "/_admin/clock/advance", {"seconds": 571})
    assert requests.get(client.origin + CERNER_BASE + "/Patient/127240001", headers=headers).status_code == 401
    # Issue 13, §2.2: v2 syntax and wildcards (of the type or of the action) are refused.
    for scope in ("system/Patient.rs", "system/*.read", "system/Patient.*", "system/Patient.read system/*.write"):
        refused = backend(url, scope)
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope", refused.text


def test_cerner_grants_a_narrower_scope_than_requested_and_the_write_then_fails(client):
    """Issue 13, §2.2: "the granted scope may be narrower than the requested one": a well-formed v1
    scope the client is not registered for is left out of the grant (200, not invalid_scope), so
    the write it was meant for fails with 403 — the trap a client must check the granted scope for."""
    url = client.origin + CERNER_AUTH + "/token"
    now = int(time.time())
    with open(os.path.join(KEYS, "backend-rs384.pem")) as f:
        key = f.read()
    assertion = jwt.encode({"iss": "sandbox-backend-readonly", "sub": "sandbox-backend-readonly", "aud": url, "exp": now + 240,
                            "jti": str(uuid.uuid4())}, key, algorithm="RS384", headers={"kid": "backend-rs384"})
    response = requests.post(url, data={"grant_type": "client_credentials", "scope": "system/Patient.read system/Patient.write",
                                        "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion})
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "system/Patient.read"
    headers = {"Authorization": f"Bearer {response.json()['access_token']}", "Content-Type": "application/fhir+json"}
    write = requests.post(client.origin + CERNER_BASE + "/Patient", headers=headers,
                          json={"resourceType": "Patient", "name": [{"family": "Narrow", "given": ["Ada"]}]})
    assert write.status_code == 403 and "insufficient_scope" in write.headers["WWW-Authenticate"]


def test_cerner_discovery_advertises_the_enumerated_v1_scopes_it_grants(client):
    """§2.1, §2.2 (issue 13): `scopes_supported` is the full enumerated v1 list
    (`user|patient|system/<Type>.read|write`), no wildcards and no v2 forms — every advertised
    resource scope is one the token endpoint grants."""
    document = requests.get(client.origin + CERNER_BASE + "/.well-known/smart-configuration", timeout=10).json()
    scopes = document["scopes_supported"]
    assert not any("*" in scope for scope in scopes), scopes
    assert not any(scope.endswith((".rs", ".cruds")) for scope in scopes)
    for needed in ("system/Appointment.read", "system/Appointment.write", "patient/Patient.read", "user/Slot.read"):
        assert needed in scopes
    granted = backend(client.origin + CERNER_AUTH + "/token", "system/Appointment.read system/Slot.write")
    assert granted.status_code == 200 and granted.json()["scope"] == "system/Appointment.read system/Slot.write"
    # Profiles that grant wildcards keep advertising them.
    epic = requests.get(client.origin + EPIC_BASE + "/.well-known/smart-configuration", timeout=10).json()
    assert "system/*.read" in epic["scopes_supported"]


def test_cli_token_for_cerner_defaults_to_scopes_it_grants(client):
    """Issue 13: `fhir-sandbox token --profile cerner` without --scope asks for the client's
    scopes spelled out per type in v1 syntax (§2.2 refuses wildcards), and the server takes it."""
    import subprocess
    from conftest import BIN, CLOCK, ROOT
    port = client.origin.rsplit(":", 1)[1]
    out = subprocess.run([BIN, "token", "--profile", "cerner", "--client", "sandbox-backend", "--clock", CLOCK, "--port", port],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip()
    scopes = jwt.decode(token, options={"verify_signature": False})["scope"].split()
    assert "system/Appointment.write" in scopes and not any("*" in s or s.endswith(".rs") for s in scopes)
    read = requests.get(client.origin + CERNER_BASE + "/Patient/127240001", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert read.status_code == 200, read.text


def test_bearer_challenges_follow_each_vendor(client):
    """§1.2 (issue 13): Epic's 401 is `WWW-Authenticate: Bearer error="invalid_token",
    error_description="..."` with no realm (Cerner: RFC 6750, no realm, ASSUMPTION §2.2); the
    generic profile keeps its own realm."""
    import re
    for base in (EPIC_BASE + "/Patient/" + epic_id("pat-0001"), CERNER_BASE + "/Patient/127240001"):
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            response = requests.get(client.origin + base, headers=headers, timeout=10)
            assert response.status_code == 401
            assert re.fullmatch(r'Bearer error="invalid_token", error_description="[^"]+"', response.headers["WWW-Authenticate"]), \
                response.headers["WWW-Authenticate"]
    generic = requests.get(client.origin + "/fhir/r4/Patient/pat-0001", headers={"Authorization": "Bearer x"}, timeout=10)
    assert generic.status_code == 401 and generic.headers["WWW-Authenticate"].startswith('Bearer realm="fhir-sandbox", error="invalid_token"')


def test_cerner_error_bodies_carry_an_error_uri(client):
    """§2.2: token errors are {"error": ..., "error_uri": "https://authorization.cerner.com/errors/urn%3Acerner%3Aerror%3A..."}."""
    url = client.origin + CERNER_AUTH + "/token"
    rs256 = backend(url, "system/Patient.read", alg="RS256")  # §7: RS384/ES384 only
    assert rs256.status_code == 400
    body = rs256.json()
    assert set(body) == {"error", "error_uri"} and body["error"] == "invalid_client"
    assert body["error_uri"].startswith("https://authorization.cerner.com/errors/urn%3Acerner%3Aerror%3Aauthorization-server%3Aoauth2%3Atoken%3A")
    assert f"tenant={TENANT}" in body["error_uri"]
    post = requests.post(url, data={"grant_type": "client_credentials", "client_id": "sandbox-secret",
                                    "client_secret": "sandbox-secret-TEST-ONLY", "scope": "system/Patient.read"})
    assert post.status_code == 400 and post.json()["error"] == "invalid_client"  # §2.2: Basic or JWT only
    assert backend(url, "system/Patient.read", key=ES384, alg="ES384", kid="backend-es384").status_code == 200



def test_cerner_authorize_redirect_errors_carry_an_error_uri(client):
    """§2.2: authorize redirect errors look like ?error=access_denied&error_uri=...denied-by-server...;
    aud is mandatory on authorize."""
    challenge = base64.urlsafe_b64encode(hashlib.sha256(b"v" * 50).digest()).rstrip(b"=").decode()
    base = {"response_type": "code", "client_id": "sandbox-public", "redirect_uri": REDIRECT, "state": "s1",
            "scope": "launch/patient patient/Patient.read", "code_challenge": challenge, "code_challenge_method": "S256"}
    url = client.origin + CERNER_AUTH + "/authorize"

    def redirected(response):
        assert response.status_code == 302, response.text
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(response.headers["Location"]).query))

    missing_aud = redirected(requests.get(url, params=base, allow_redirects=False))
    assert set(missing_aud) == {"error", "error_uri", "state"} and missing_aud["error"] == "invalid_request"
    assert "urn%3Acerner%3Aerror%3Aauthorization-server%3Aoauth2%3Aauthorize%3Ainvalid-request" in missing_aud["error_uri"]
    denied = redirected(requests.post(url, data=dict(base, aud=client.origin + CERNER_BASE, decision="deny"), allow_redirects=False))
    assert denied["error"] == "access_denied" and "denied-by-server" in denied["error_uri"] and denied["state"] == "s1"
    assert f"tenant={TENANT}" in denied["error_uri"] and "client=sandbox-public" in denied["error_uri"]
    # Generic (RFC 6749) keeps error_description.
    generic = redirected(requests.get(client.origin + "/fhir/auth/authorize", params=base, allow_redirects=False))
    assert generic["error"] == "invalid_request" and "aud" in generic["error_description"]


def test_cerner_refresh_keeps_the_original_refresh_token(client):
    """§2.2: a refresh response does not contain a new refresh token; keep the original one."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    authorize = requests.get(client.origin + CERNER_AUTH + "/authorize", allow_redirects=False, params={
        "response_type": "code", "client_id": "sandbox-public-auto", "redirect_uri": REDIRECT, "state": "s",
        "scope": "launch/patient patient/Patient.read offline_access", "aud": client.origin + CERNER_BASE,
        "code_challenge": challenge, "code_challenge_method": "S256"})
    assert authorize.status_code == 302, authorize.text
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(authorize.headers["Location"]).query))["code"]
    token = requests.post(client.origin + CERNER_AUTH + "/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": "sandbox-public-auto",
        "code_verifier": verifier}).json()
    refresh = token["refresh_token"]
    for _ in range(2):
        refreshed = requests.post(client.origin + CERNER_AUTH + "/token", data={
            "grant_type": "refresh_token", "refresh_token": refresh, "client_id": "sandbox-public-auto"})
        assert refreshed.status_code == 200, refreshed.text
        assert "refresh_token" not in refreshed.json() and refreshed.json()["patient"] == "127240001"  # §2.4 numeric id


def test_epic_answers_a_disabled_clients_token_with_an_empty_403(client):
    """Issue 13, §1.2 table: a client-level authorization failure is 403 with an empty body. Here:
    a token issued before its client was disabled (POST /_admin/clients with enabled false).
    Other profiles answer such a token like any dead one: 401 invalid_token."""
    registration = {"id": "agent-to-disable", "type": "confidential-secret", "secret": "agent-secret-TEST-ONLY",
                    "scopes": ["system/*.read"], "grantTypes": ["client_credentials"]}
    assert client.admin("POST", "/_admin/clients", registration).status_code in (200, 201)
    tokens = {}
    for name, url in (("epic", EPIC_TOKEN), ("cerner", CERNER_AUTH + "/token")):
        issued = requests.post(client.origin + url, data={"grant_type": "client_credentials", "scope": "system/Patient.read"},
                               auth=("agent-to-disable", "agent-secret-TEST-ONLY"))
        assert issued.status_code == 200, issued.text
        tokens[name] = issued.json()["access_token"]
    epic_read = client.origin + EPIC_BASE + "/Patient/" + epic_id("pat-0001")
    cerner_read = client.origin + CERNER_BASE + "/Patient/127240001"
    assert requests.get(epic_read, headers={"Authorization": f"Bearer {tokens['epic']}"}).status_code == 200
    assert client.admin("POST", "/_admin/clients", {**registration, "enabled": False}).status_code in (200, 201)
    refused = requests.get(epic_read, headers={"Authorization": f"Bearer {tokens['epic']}"})
    assert refused.status_code == 403 and refused.content == b""
    dead = requests.get(cerner_read, headers={"Authorization": f"Bearer {tokens['cerner']}", "Accept": "application/fhir+json"})
    assert dead.status_code == 401 and 'error="invalid_token"' in dead.headers["WWW-Authenticate"]
