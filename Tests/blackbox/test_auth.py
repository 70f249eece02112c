"""SMART on FHIR authorization against a sandbox whose generic profile says `auth: required`,
with clients nobody here wrote: fhirclient, Authlib and PyJWT."""
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import time
import urllib.parse
import uuid

import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from fhirclient import client as fhirclient_client

from conftest import CLOCK, Client, Sandbox, outcome_text
from fhirvalidation import ROOT, assert_valid

KEYS = os.path.join(ROOT, "Seeds", "default", "keys")
RS384 = open(os.path.join(KEYS, "backend-rs384.pem")).read()
ES384 = open(os.path.join(KEYS, "backend-es384.pem")).read()
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
REDIRECT = "http://localhost:8765/callback"


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    profiles = tmp_path_factory.mktemp("profiles")
    with open(os.path.join(ROOT, "Profiles", "generic.yaml")) as f:
        text = f.read()
    assert "  mode: optional" in text
    (profiles / "generic.yaml").write_text(text.replace("  mode: optional", "  mode: required"))
    server = Sandbox("--clock", CLOCK, "--profiles-dir", str(profiles))
    yield server
    server.stop()


@pytest.fixture
def auth(secured):
    """The secured sandbox, reset, with its clock frozen at CLOCK."""
    c = Client(secured.origin)
    assert c.admin("POST", "/_admin/reset").status_code == 200
    assert c.admin("PUT", "/_admin/clock", {"now": CLOCK, "frozen": True}).status_code == 200
    c.token_url = secured.origin + "/fhir/auth/token"
    return c


def assertion(token_url, key=RS384, alg="RS384", kid="backend-rs384", client="sandbox-backend", **overrides):
    now = int(time.time())
    claims = {"iss": client, "sub": client, "aud": token_url, "exp": now + 240, "jti": str(uuid.uuid4())}
    claims.update(overrides)
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def token_request(auth, signed, scope="system/Patient.read"):
    return requests.post(auth.token_url, data={"grant_type": "client_credentials", "scope": scope,
                                               "client_assertion_type": ASSERTION_TYPE, "client_assertion": signed})


def backend_token(auth, scope, client="sandbox-backend"):
    response = token_request(auth, assertion(auth.token_url, client=client), scope)
    assert response.status_code == 200, response.text
    return response.json()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def refused_as_invalid_client(response, fragment):
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["error"] == "invalid_client", body
    assert fragment in body["error_description"], body


# Discovery


def test_discovery_and_capability_statement_name_absolute_oauth_urls(auth):
    document = requests.get(auth.base + "/.well-known/smart-configuration").json()
    assert document["token_endpoint"] == auth.token_url
    assert document["authorization_endpoint"] == auth.origin + "/fhir/auth/authorize"
    assert document["jwks_uri"] == auth.origin + "/fhir/auth/jwks"
    assert document["introspection_endpoint"] == auth.origin + "/fhir/auth/introspect"
    assert document["revocation_endpoint"] == auth.origin + "/fhir/auth/revoke"
    assert {"private_key_jwt", "client_secret_basic", "client_secret_post"} <= set(document["token_endpoint_auth_methods_supported"])
    assert {"RS384", "ES384"} <= set(document["token_endpoint_auth_signing_alg_values_supported"])
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert {"permission-v1", "permission-v2", "client-confidential-asymmetric"} <= set(document["capabilities"])
    metadata = auth.get("metadata")  # open without a token
    assert metadata.status_code == 200
    security = metadata.json()["rest"][0]["security"]
    uris = {e["url"]: e["valueUri"] for e in security["extension"][0]["extension"]}
    assert uris["token"] == auth.token_url and uris["authorize"] == document["authorization_endpoint"]
    keys = requests.get(document["jwks_uri"]).json()["keys"]
    assert keys[0]["kty"] == "EC" and keys[0]["alg"] == "ES256" and "d" not in keys[0]


def test_public_url_makes_discovery_urls_absolute_on_it(tmp_path):
    server = Sandbox("--clock", CLOCK, "--public-url", "https://sandbox.example.test/base")
    try:
        document = requests.get(server.origin + "/fhir/r4/.well-known/smart-configuration").json()
        assert document["token_endpoint"] == "https://sandbox.example.test/base/fhir/auth/token"
        assert any("token https://sandbox.example.test/base/fhir/auth/token" in line for line in server.lines), server.lines
    finally:
        server.stop()


# Grants


def test_backend_services_with_fhirclient_and_a_self_signed_assertion(auth):
    settings = {"app_id": "sandbox-backend", "api_base": auth.base + "/", "scope": "system/Patient.read system/Appointment.read",
                "jwt_token": assertion(auth.token_url)}
    smart = fhirclient_client.FHIRClient(settings=settings)
    smart.prepare()  # reads the oauth-uris extension from /metadata
    assert smart.server.auth._token_uri == auth.token_url
    smart.server.auth.authorize(smart.server)
    patient = smart.server.request_json("Patient/pat-0001")
    assert_valid(patient)
    assert patient["id"] == "pat-0001"


@pytest.mark.parametrize("alg,key,kid", [("RS384", RS384, "backend-rs384"), ("ES384", ES384, "backend-es384")])
def test_authlib_private_key_jwt(auth, alg, key, kid):
    from joserfc.jwk import ECKey, RSAKey  # Authlib's key types (it assumes RSA for a bare PEM)
    method = PrivateKeyJWT(auth.token_url, alg=alg, headers={"kid": kid}, claims={"exp": int(time.time()) + 240})
    key = (RSAKey if alg.startswith("RS") else ECKey).import_key(key)
    session = OAuth2Session("sandbox-backend", key, token_endpoint_auth_method=method, scope="system/Patient.rs")
    session.register_client_auth_method(method)
    token = session.fetch_token(auth.token_url, grant_type="client_credentials")
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600 and token["scope"] == "system/Patient.rs"
    response = auth.get("Patient/pat-0002", headers=bearer(token["access_token"]))
    assert response.status_code == 200


def test_authlib_default_one_hour_assertion_is_refused(auth):
    method = PrivateKeyJWT(auth.token_url, alg="RS384", headers={"kid": "backend-rs384"})
    session = OAuth2Session("sandbox-backend", RS384, token_endpoint_auth_method=method, scope="system/Patient.rs")
    session.register_client_auth_method(method)
    with pytest.raises(Exception) as failure:
        session.fetch_token(auth.token_url, grant_type="client_credentials")
    assert "invalid_client" in str(failure.value)


def test_negative_assertions_each_get_invalid_client(auth):
    url = auth.token_url
    now = int(time.time())
    refused_as_invalid_client(token_request(auth, assertion(url, exp=now + 3600)), "at most 300 s")
    refused_as_invalid_client(token_request(auth, assertion(url, exp=now - 30)), "expired")
    refused_as_invalid_client(token_request(auth, assertion(url, aud=auth.origin + "/other/token")), "aud must be this token endpoint")
    refused_as_invalid_client(token_request(auth, assertion(url, iss="someone-else")), "differs from sub")
    refused_as_invalid_client(token_request(auth, assertion(url, kid="not-registered")), "kid 'not-registered'")
    refused_as_invalid_client(token_request(auth, assertion(url, client="sandbox-backend-disabled")), "disabled")
    replayed = assertion(url)
    assert token_request(auth, replayed).status_code == 200
    refused_as_invalid_client(token_request(auth, replayed), "already used")
    # alg none: an unsigned token.
    unsigned = jwt.encode({"iss": "sandbox-backend", "sub": "sandbox-backend", "aud": url, "exp": now + 240, "jti": str(uuid.uuid4())},
                          None, algorithm="none", headers={"kid": "backend-rs384"})
    refused_as_invalid_client(token_request(auth, unsigned), "alg 'none'")
    # HS256 keyed with the client's public key (the classic algorithm-confusion attack).
    from cryptography.hazmat.primitives import serialization
    public = serialization.load_pem_private_key(RS384.encode(), None).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "backend-rs384"}).encode())
    payload = b64(json.dumps({"iss": "sandbox-backend", "sub": "sandbox-backend", "aud": url, "exp": now + 240,
                              "jti": str(uuid.uuid4())}).encode())
    signature = b64(hmac.new(public, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    refused_as_invalid_client(token_request(auth, f"{header}.{payload}.{signature}"), "alg 'HS256'")
    # A tampered payload: the scope of the claims changed after signing.
    good = assertion(url).split(".")
    claims = json.loads(base64.urlsafe_b64decode(good[1] + "=="))
    claims["sub"] = claims["iss"] = "sandbox-backend-readonly"
    tampered = ".".join([good[0], b64(json.dumps(claims).encode()), good[2]])
    refused_as_invalid_client(token_request(auth, tampered), "signature does not verify")


def test_client_secret_basic_and_post(auth):
    basic = requests.post(auth.token_url, data={"grant_type": "client_credentials", "scope": "system/Patient.rs"},
                          auth=("sandbox-secret", "sandbox-secret-TEST-ONLY"))
    assert basic.status_code == 200, basic.text
    post = requests.post(auth.token_url, data={"grant_type": "client_credentials", "scope": "system/Patient.rs",
                                               "client_id": "sandbox-secret", "client_secret": "sandbox-secret-TEST-ONLY"})
    assert post.status_code == 200, post.text
    for body in (basic.json(), post.json()):
        assert auth.get("Patient/pat-0003", headers=bearer(body["access_token"])).status_code == 200
    wrong = requests.post(auth.token_url, data={"grant_type": "client_credentials"}, auth=("sandbox-secret", "wrong"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")
    unsupported = requests.post(auth.token_url, data={"grant_type": "password"}, auth=("sandbox-secret", "sandbox-secret-TEST-ONLY"))
    assert unsupported.status_code == 400 and unsupported.json()["error"] == "unsupported_grant_type"


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(auth, client="sandbox-public-auto", scope="launch/patient patient/*.rs offline_access", **overrides):
    verifier, challenge = pkce()
    params = {"response_type": "code", "client_id": client, "redirect_uri": REDIRECT, "scope": scope, "state": "st-123",
              "aud": auth.base, "code_challenge": challenge, "code_challenge_method": "S256"}
    params.update(overrides)
    response = requests.get(auth.origin + "/fhir/auth/authorize", params=params, allow_redirects=False)
    return response, verifier


def redirect_query(response):
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT)
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def exchange(auth, code, verifier, client="sandbox-public-auto"):
    return requests.post(auth.token_url, data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                                               "client_id": client, "code_verifier": verifier})


def test_authorization_code_with_pkce_through_fhirclient(auth):
    settings = {"app_id": "sandbox-public-auto", "api_base": auth.base + "/", "redirect_uri": REDIRECT,
                "scope": "patient/*.rs offline_access"}
    smart = fhirclient_client.FHIRClient(settings=settings)
    url = smart.authorize_url  # fetches /metadata, adds launch/patient, PKCE S256, state and aud
    response = requests.get(url, allow_redirects=False)
    assert response.status_code == 302, response.text
    smart.handle_callback(response.headers["Location"])
    assert smart.patient_id == "pat-0001"
    assert smart.patient.name[0].family
    assert smart.server.auth.refresh_token


def test_authorization_code_rules(auth):
    response, verifier = authorize(auth)
    query = redirect_query(response)
    assert query["state"] == "st-123"
    code = query["code"]
    wrong = exchange(auth, code, "not-the-verifier")
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    again = exchange(auth, code, verifier)  # a code is spent by its first use, even a failed one
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    response, verifier = authorize(auth)
    code = redirect_query(response)["code"]
    first = exchange(auth, code, verifier)
    assert first.status_code == 200, first.text
    assert first.json()["patient"] == "pat-0001" and "refresh_token" in first.json()
    assert exchange(auth, code, verifier).json()["error"] == "invalid_grant"
    # Codes are short-lived (codeSeconds: 120 of sandbox time).
    response, verifier = authorize(auth)
    code = redirect_query(response)["code"]
    auth.admin("POST", "/_admin/clock/advance", {"seconds": 121})
    late = exchange(auth, code, verifier)
    assert late.status_code == 400 and "expired" in late.json()["error_description"]
    # aud is required and checked; errors go back to the app with its state.
    assert redirect_query(authorize(auth, aud="http://elsewhere/fhir")[0])["error"] == "invalid_request"
    assert redirect_query(authorize(auth, aud=None)[0])["error"] == "invalid_request"
    assert redirect_query(authorize(auth, code_challenge_method="plain")[0])["error"] == "invalid_request"
    # An unregistered redirect URI is never redirected to.
    bad = authorize(auth, redirect_uri="http://evil.example/cb")[0]
    assert bad.status_code == 400 and "not registered" in bad.text and "Location" not in bad.headers


def test_sign_in_page_with_patient_picker(auth):
    response, verifier = authorize(auth, client="sandbox-public")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert '<select name="patient">' in page and 'value="pat-0001"' in page
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    fields = {k: v.replace("&amp;", "&").replace("&quot;", '"') for k, v in fields.items()}
    approved = requests.post(auth.origin + "/fhir/auth/authorize", data={**fields, "patient": "pat-0007", "decision": "approve"},
                             allow_redirects=False)
    code = redirect_query(approved)["code"]
    token = exchange(auth, code, verifier, client="sandbox-public").json()
    assert token["patient"] == "pat-0007"
    denied = requests.post(auth.origin + "/fhir/auth/authorize", data={**fields, "patient": "pat-0007", "decision": "deny"},
                           allow_redirects=False)
    assert redirect_query(denied)["error"] == "access_denied"


def test_refresh_rotates_and_revocation_kills_tokens(auth):
    response, verifier = authorize(auth)
    first = exchange(auth, redirect_query(response)["code"], verifier).json()
    refreshed = requests.post(auth.token_url, data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
                                                    "client_id": "sandbox-public-auto"})
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()
    assert second["refresh_token"] != first["refresh_token"] and second["patient"] == "pat-0001"
    reused = requests.post(auth.token_url, data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
                                                 "client_id": "sandbox-public-auto"})
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert auth.get("Patient/pat-0001", headers=bearer(second["access_token"])).status_code == 200
    introspected = requests.post(auth.origin + "/fhir/auth/introspect", data={"token": second["access_token"]},
                                 headers=bearer(second["access_token"])).json()
    assert introspected["active"] is True and introspected["patient"] == "pat-0001" and introspected["client_id"] == "sandbox-public-auto"
    revoked = requests.post(auth.origin + "/fhir/auth/revoke", data={"token": second["access_token"], "client_id": "sandbox-public-auto"})
    assert revoked.status_code == 200
    after = auth.get("Patient/pat-0001", headers=bearer(second["access_token"]))
    assert after.status_code == 401 and 'error="invalid_token"' in after.headers["WWW-Authenticate"]
    assert "revoked" in outcome_text(after)
    backend = backend_token(auth, "system/Patient.rs")
    inactive = requests.post(auth.origin + "/fhir/auth/introspect", data={"token": second["access_token"]},
                             headers=bearer(backend["access_token"])).json()
    assert inactive == {"active": False}


# Enforcement


def test_missing_malformed_and_expired_tokens_get_401(auth):
    for headers in ({}, {"Authorization": "Bearer not.a.token"}, {"Authorization": "Basic abc"}):
        response = auth.get("Patient/pat-0001", headers=headers)
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
        assert response.json()["issue"][0]["code"] == "login"
    token = backend_token(auth, "system/Patient.read")["access_token"]
    assert auth.get("Patient/pat-0001", headers=bearer(token)).status_code == 200
    auth.admin("POST", "/_admin/clock/advance", {"seconds": 3601})
    expired = auth.get("Patient/pat-0001", headers=bearer(token))
    assert expired.status_code == 401 and "expired" in outcome_text(expired)


def test_read_only_token_cannot_write(auth):
    token = backend_token(auth, "system/*.read", client="sandbox-backend-readonly")["access_token"]
    assert auth.get("Appointment", params={"patient": "pat-0001"}, headers=bearer(token)).status_code == 200
    created = auth.post("Patient", {"resourceType": "Patient", "name": [{"family": "Nope"}]}, headers=bearer(token))
    assert created.status_code == 403
    assert 'error="insufficient_scope"' in created.headers["WWW-Authenticate"]
    assert "creating Patient" in outcome_text(created)
    booked = auth.post("Appointment/$book", {"resourceType": "Parameters", "parameter": [{"name": "appt-id", "valueString": "x"}]},
                       headers=bearer(token))
    assert booked.status_code == 403


def test_v1_and_v2_scope_syntax(auth):
    v1 = backend_token(auth, "system/Patient.read")["access_token"]
    v2_search_only = backend_token(auth, "system/Patient.s")["access_token"]
    assert auth.get("Patient/pat-0001", headers=bearer(v1)).status_code == 200
    assert auth.get("Patient", params={"family": "garcia"}, headers=bearer(v1)).status_code == 200
    assert auth.get("Patient", params={"family": "garcia"}, headers=bearer(v2_search_only)).status_code == 200
    assert auth.get("Patient/pat-0001", headers=bearer(v2_search_only)).status_code == 403
    writer = backend_token(auth, "system/Patient.cu")["access_token"]
    created = auth.post("Patient", {"resourceType": "Patient", "name": [{"family": "Scoped"}]}, headers=bearer(writer))
    assert created.status_code == 201
    assert auth.delete(f"Patient/{created.json()['id']}", headers=bearer(writer)).status_code == 403
    granted = backend_token(auth, "system/Patient.read system/Patient.rs system/Patient.sr")
    assert granted["scope"] == "system/Patient.read system/Patient.rs"  # the malformed v2 scope is dropped


def test_patient_token_is_confined_to_its_patient(auth):
    response, verifier = authorize(auth, scope="launch/patient patient/*.cruds")
    token = exchange(auth, redirect_query(response)["code"], verifier).json()["access_token"]
    headers = bearer(token)
    assert auth.get("Patient/pat-0001", headers=headers).status_code == 200
    other = auth.get("Patient/pat-0002", headers=headers)
    assert other.status_code == 403 and "outside the compartment of Patient/pat-0001" in outcome_text(other)
    admin_token = backend_token(auth, "system/Appointment.rs")["access_token"]
    everyone = auth.get("Appointment", params={"status": "booked", "_count": 200}, headers=bearer(admin_token)).json()
    foreign = next(e["resource"] for e in everyone["entry"]
                   if not any(p.get("actor", {}).get("reference") == "Patient/pat-0001" for p in e["resource"]["participant"]))
    assert auth.get(f"Appointment/{foreign['id']}", headers=headers).status_code == 403
    mine = auth.get("Appointment", params={"_count": 200}, headers=headers).json()
    for entry in mine.get("entry", []):
        if entry["search"]["mode"] == "match":
            assert any(p.get("actor", {}).get("reference") == "Patient/pat-0001" for p in entry["resource"]["participant"])
    # Writes must stay in the compartment too.
    stranger = auth.post("Appointment", {"resourceType": "Appointment", "status": "proposed",
                                         "participant": [{"actor": {"reference": "Patient/pat-0002"}, "status": "needs-action"}]},
                         headers=headers)
    assert stranger.status_code == 403
    own = auth.post("Appointment", {"resourceType": "Appointment", "status": "proposed",
                                    "participant": [{"actor": {"reference": "Patient/pat-0001"}, "status": "needs-action"}]},
                    headers=headers)
    assert own.status_code == 201, own.text
    # Practitioners are not patient data: a patient app may read them.
    assert auth.get("Practitioner/pract-okafor", headers=headers).status_code == 200


def test_admin_registers_a_client_at_run_time(auth):
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives import serialization
    key = ec.generate_private_key(ec.SECP256R1())
    numbers = key.public_key().public_numbers()

    def b64(n):
        return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()
    jwk = {"kty": "EC", "crv": "P-256", "kid": "k1", "x": b64(numbers.x), "y": b64(numbers.y)}
    bad = auth.admin("POST", "/_admin/clients", {"id": "runtime", "type": "backend", "jwks": {"keys": []}})
    assert bad.status_code == 400 and bad.json()["field"] == "jwks"
    created = auth.admin("POST", "/_admin/clients", {"id": "runtime", "type": "backend", "jwks": {"keys": [jwk]},
                                                      "scopes": ["system/Slot.rs"], "grantTypes": ["client_credentials"],
                                                      "tokenMinutes": 5})
    assert created.status_code == 200 and created.json()["created"] is True
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    response = token_request(auth, assertion(auth.token_url, key=pem, alg="ES256", kid="k1", client="runtime"), "system/Slot.rs")
    assert response.status_code == 200 and response.json()["expires_in"] == 300, response.text
    listed = [c["id"] for c in auth.admin("GET", "/_admin/clients").json()]
    assert "runtime" in listed and "sandbox-backend" in listed
    auth.admin("POST", "/_admin/reset")
    assert "runtime" not in [c["id"] for c in auth.admin("GET", "/_admin/clients").json()]


def test_cli_token_is_accepted_by_the_server(auth):
    import subprocess
    from conftest import BIN
    # The token's audience is this server's base: --port names it (issue 10: tokens are bound to their base).
    port = auth.origin.rsplit(":", 1)[1]
    out = subprocess.run([BIN, "token", "--profile", "generic", "--client", "sandbox-backend", "--scope", "system/Patient.rs",
                          "--clock", CLOCK, "--port", port], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip()
    assert auth.get("Patient/pat-0001", headers=bearer(token)).status_code == 200
    assert auth.post("Patient", {"resourceType": "Patient"}, headers=bearer(token)).status_code == 403
    unknown = subprocess.run([BIN, "token", "--client", "nobody"], capture_output=True, text=True, cwd=ROOT)
    assert unknown.returncode != 0 and "no enabled client 'nobody'" in unknown.stderr


# The CapabilityStatement walk: every listed interaction refuses no token (401) and a token
# lacking the one permission it needs (403), and accepts a token that has it.

NEEDS = {"read": "r", "vread": "r", "history-instance": "r", "history-type": "r", "search-type": "s", "create": "c",
         "update": "u", "patch": "u", "delete": "d"}


def interaction_request(type_, code):
    ident = f"{type_.lower()}-walk"
    body = {"resourceType": type_, "id": ident}
    return {
        "read": ("GET", f"{type_}/{ident}", None, None),
        "vread": ("GET", f"{type_}/{ident}/_history/1", None, None),
        "history-instance": ("GET", f"{type_}/{ident}/_history", None, None),
        "history-type": ("GET", f"{type_}/_history", None, None),
        "search-type": ("GET", f"{type_}?_count=1", None, None),
        "create": ("POST", type_, json.dumps({"resourceType": type_}), "application/fhir+json"),
        "update": ("PUT", f"{type_}/{ident}", json.dumps(body), "application/fhir+json"),
        "patch": ("PATCH", f"{type_}/{ident}", json.dumps([{"op": "test", "path": "/id", "value": ident}]), "application/json-patch+json"),
        "delete": ("DELETE", f"{type_}/{ident}", None, None),
    }[code]


def test_capability_statement_walk_enforces_every_interaction(auth):
    statement = auth.get("metadata").json()
    tokens = {}

    def token(scope):
        if scope not in tokens:
            tokens[scope] = backend_token(auth, scope)["access_token"]
        return tokens[scope]

    session = requests.Session()
    checked = 0
    for resource in statement["rest"][0]["resource"]:
        type_ = resource["type"]
        for interaction in resource["interaction"]:
            code = interaction["code"]
            method, path, body, kind = interaction_request(type_, code)
            needed = NEEDS[code]
            others = "".join(letter for letter in "cruds" if letter != needed)
            headers = {"Content-Type": kind} if kind else {}
            url = auth.base + "/" + path
            anonymous = session.request(method, url, data=body, headers=headers)
            assert anonymous.status_code == 401, (type_, code, anonymous.status_code)
            wrong = session.request(method, url, data=body, headers={**headers, **bearer(token(f"system/{type_}.{others}"))})
            assert wrong.status_code == 403, (type_, code, wrong.status_code, wrong.text[:200])
            assert 'error="insufficient_scope"' in wrong.headers["WWW-Authenticate"]
            right = session.request(method, url, data=body, headers={**headers, **bearer(token(f"system/{type_}.{needed}"))})
            assert right.status_code not in (401, 403), (type_, code, right.status_code, right.text[:300])
            if right.headers.get("Content-Type", "").startswith("application/fhir+json") and right.content:
                assert_valid(right.json())
            checked += 1
        for operation in resource.get("operation", []):
            name = operation["name"]
            url = f"{auth.base}/{type_}/${name}"
            params = {"resourceType": "Parameters", "parameter": [{"name": "start", "valueString": "2026-04-20"},
                                                                   {"name": "end", "valueString": "2026-04-21"}]}
            anonymous = session.post(url, json=params, headers={"Content-Type": "application/fhir+json"})
            assert anonymous.status_code == 401, (type_, name)
            wrong = session.post(url, json=params, headers={"Content-Type": "application/fhir+json", **bearer(token("system/Organization.rs"))})
            assert wrong.status_code == 403, (type_, name, wrong.status_code)
            right = session.post(url, json=params, headers={"Content-Type": "application/fhir+json", **bearer(token("system/*.cruds"))})
            assert right.status_code not in (401, 403), (type_, name, right.status_code, right.text[:300])
            checked += 1
    # Whole-system interactions: history needs read on every type; batch entries are checked one by one.
    assert session.get(auth.base + "/_history").status_code == 401
    assert session.get(auth.base + "/_history", headers=bearer(token("system/Patient.rs"))).status_code == 403
    assert session.get(auth.base + "/_history", headers=bearer(token("system/*.rs"))).status_code == 200
    batch = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": "Patient/pat-0001"}},
        {"request": {"method": "GET", "url": "Practitioner/pract-okafor"}}]}
    result = session.post(auth.base, json=batch, headers={"Content-Type": "application/fhir+json", **bearer(token("system/Patient.rs"))})
    assert result.status_code == 200
    statuses = [e["response"]["status"] for e in result.json()["entry"]]
    assert statuses[0].startswith("200") and statuses[1].startswith("403"), statuses
    transaction = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "POST", "url": "Patient"}, "resource": {"resourceType": "Patient"}}]}
    refused = session.post(auth.base, json=transaction,
                           headers={"Content-Type": "application/fhir+json", **bearer(token("system/Patient.rs"))})
    assert refused.status_code == 403
    assert checked > 100


def test_jwks_uri_is_fetched_and_cached_for_its_max_age(auth):
    """A client registered by jwksUri: its key set is fetched once, reused while Cache-Control
    says so, and a rotated key is only seen after the cache expires."""
    import http.server
    import threading
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives import serialization

    def jwk_and_pem(kid):
        key = ec.generate_private_key(ec.SECP384R1())
        numbers = key.public_key().public_numbers()

        def b64(n):
            return base64.urlsafe_b64encode(n.to_bytes(48, "big")).rstrip(b"=").decode()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        return {"kty": "EC", "crv": "P-384", "kid": kid, "x": b64(numbers.x), "y": b64(numbers.y)}, pem

    first, first_pem = jwk_and_pem("k-1")
    second, second_pem = jwk_and_pem("k-2")
    published = {"keys": [first]}
    hits = []

    class Keys(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = json.dumps(published).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "public, max-age=2")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        uri = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
        registered = auth.admin("POST", "/_admin/clients", {"id": "by-uri", "type": "backend", "jwksUri": uri,
                                                             "scopes": ["system/Patient.rs"], "grantTypes": ["client_credentials"]})
        assert registered.status_code == 200, registered.text
        for _ in range(2):
            signed = assertion(auth.token_url, key=first_pem, alg="ES384", kid="k-1", client="by-uri")
            assert token_request(auth, signed, "system/Patient.rs").status_code == 200
        assert len(hits) == 1  # the second request used the cached set
        published["keys"] = [first, second]  # rotation: publish k-2
        rotated = assertion(auth.token_url, key=second_pem, alg="ES384", kid="k-2", client="by-uri")
        refused_as_invalid_client(token_request(auth, rotated, "system/Patient.rs"), "kid 'k-2'")
        time.sleep(2.2)  # Cache-Control max-age=2 has passed
        rotated = assertion(auth.token_url, key=second_pem, alg="ES384", kid="k-2", client="by-uri")
        assert token_request(auth, rotated, "system/Patient.rs").status_code == 200
        assert len(hits) == 2
    finally:
        server.shutdown()
    unreachable = auth.admin("POST", "/_admin/clients", {"id": "by-dead-uri", "type": "backend", "jwksUri": "http://127.0.0.1:9/jwks",
                                                          "scopes": ["system/Patient.rs"], "grantTypes": ["client_credentials"]})
    assert unreachable.status_code == 200
    dead = assertion(auth.token_url, key=first_pem, alg="ES384", kid="k-1", client="by-dead-uri")
    refused_as_invalid_client(token_request(auth, dead, "system/Patient.rs"), "could not be fetched")
