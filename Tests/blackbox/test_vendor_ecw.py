"""eClinicalWorks' FHIR facade (Profiles/ecw.yaml), from the profile file alone: tenant-scoped
discovery, RS384-only backend tokens of 300 s, eCW's OAuth status mapping, the read-only facade
with page= paging, and the 250-a-minute practice limit that counts auth calls. Each test names
the fact it reproduces in ../shared/reference/vendor-quirks.md §4. FHIR bodies are validated."""
import http.server
import json
import os
import threading

import requests
import yaml

from conftest import Client, basic_token
from fhirvalidation import assert_valid
from test_auth import ES384, RS384
from test_vendor_auth import backend
from vendorclient import SEED

BASE = "/ecw/fhir/r4/RIVBCD"
OAUTH = "/ecw/oauth/oauth2"


def basic(origin, prefix="", scope="system/*.read"):
    return requests.post(origin + prefix + OAUTH + "/token", auth=("sandbox-secret", "sandbox-secret-TEST-ONLY"),
                         data={"grant_type": "client_credentials", "scope": scope})


def token(origin, prefix=""):
    return basic_token(origin, prefix + OAUTH + "/token", "system/*.read")


def ecw(client):
    c = Client(client.origin, base=BASE)
    c.session.headers["Authorization"] = f"Bearer {token(client.origin)}"
    return c


def test_discovery_is_tenant_scoped_and_names_the_tenant_base_as_issuer(client):
    """§4.1: only {practice_code}/.well-known/smart-configuration exists (the root one is 400);
    the issuer is the tenant FHIR base; authorize, token and jwks under /oauth/oauth2; the
    documented client authentication methods and capabilities."""
    discovery = requests.get(client.origin + BASE + "/.well-known/smart-configuration")
    assert discovery.status_code == 200
    body = discovery.json()
    assert body["issuer"] == client.origin + BASE
    assert body["token_endpoint"] == client.origin + OAUTH + "/token"
    assert body["authorization_endpoint"] == client.origin + OAUTH + "/authorize"
    assert body["jwks_uri"] == client.origin + OAUTH + "/jwks"
    assert {"client_secret_basic", "client_secret_post", "private_key_jwt"} <= set(body["token_endpoint_auth_methods_supported"])
    assert {"permission-v1", "permission-v2", "client-confidential-asymmetric", "authorize-post"} <= set(body["capabilities"])
    # §4.1: the wildcards patient/*.* and user/*.*, and .read/.rs/.c/.u per type for patient/ and system/.
    scopes = set(body["scopes_supported"])
    assert {"patient/*.*", "user/*.*"} <= scopes
    assert {f"{level}/Patient.{action}" for level in ("patient", "system") for action in ("read", "rs", "c", "u")} <= scopes
    assert "system/Appointment.read" not in scopes and "user/Patient.read" not in scopes
    assert requests.get(client.origin + "/ecw/fhir/r4/.well-known/smart-configuration").status_code == 400
    assert requests.get(client.origin + "/ecw/fhir/r4/OTHERCD/metadata").status_code == 400


class JWKSServer:
    """The app's key set at a URL of its own (the seed backend client's public keys)."""

    def __init__(self):
        with open(os.path.join(SEED, "clients.yaml")) as f:
            keys = next(c["jwks"] for c in yaml.safe_load(f)["clients"] if c["id"] == "sandbox-backend")
        body = json.dumps(keys).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def register(client, client_id, jwks_uri, allow_listed):
    body = {"id": client_id, "type": "backend", "jwksUri": jwks_uri, "jwksAllowListed": allow_listed,
            "scopes": ["system/*.read"], "grantTypes": ["client_credentials"]}
    response = client.admin("POST", "/_admin/clients", body)
    assert response.status_code in (200, 201), response.text


def test_backend_tokens_need_an_allow_listed_jwks_url_rs384_and_last_five_minutes(client):
    """§4.1, §4.5 (1-3): an RS384 assertion from a client whose JWKS URL eCW allow-listed gets a
    300-second token whose issuer is the tenant base; the same keys without the allow-listing, a
    client with inline keys, an ES384 assertion, a kid not in the set and an unreachable JWKS are
    all 401 invalid_client."""
    import jwt
    keys = JWKSServer()
    try:
        url = client.origin + OAUTH + "/token"
        register(client, "ecw-app", keys.url, True)
        register(client, "ecw-unlisted", keys.url, False)
        register(client, "ecw-gone", "http://127.0.0.1:9/jwks.json", True)
        granted = backend(url, "system/Patient.read", iss="ecw-app")
        assert granted.status_code == 200, granted.text
        assert granted.json()["expires_in"] == 300
        assert jwt.decode(granted.json()["access_token"], options={"verify_signature": False})["iss"] == client.origin + BASE
        for refused in (backend(url, "system/Patient.read", iss="ecw-unlisted"), backend(url, "system/Patient.read"),
                        backend(url, "system/Patient.read", iss="ecw-app", key=ES384, alg="ES384", kid="backend-es384"),
                        backend(url, "system/Patient.read", iss="ecw-app", kid="not-in-the-set"),
                        backend(url, "system/Patient.read", iss="ecw-gone")):
            assert refused.status_code == 401 and refused.json()["error"] == "invalid_client", refused.text
        assert "allow-listed" in backend(url, "system/Patient.read", iss="ecw-unlisted").json()["error_description"]
    finally:
        keys.close()


def test_access_denied_is_a_500(client):
    """§4.1 [EC-ERR]: access_denied → 500 (sic): a token request none of whose scopes the client may
    have (the declared deviation); invalid_client stays 401 and invalid_request 400."""
    registered = {"id": "ecw-narrow", "type": "confidential-secret", "secret": "ecw-narrow-TEST-ONLY",
                  "scopes": ["system/Patient.read"], "grantTypes": ["client_credentials"]}
    assert client.admin("POST", "/_admin/clients", registered).status_code in (200, 201)
    url = client.origin + OAUTH + "/token"
    denied = requests.post(url, auth=("ecw-narrow", "ecw-narrow-TEST-ONLY"),
                           data={"grant_type": "client_credentials", "scope": "system/Observation.read"})
    assert denied.status_code == 500 and denied.json()["error"] == "access_denied"
    assert requests.post(url, auth=("ecw-narrow", "wrong"), data={"grant_type": "client_credentials"}).status_code == 401
    assert requests.post(url, auth=("ecw-narrow", "ecw-narrow-TEST-ONLY"), data={}).status_code == 400


def test_the_facade_is_read_only_without_scheduling(client):
    """§4.2: read and search-type only; no Appointment, Slot or Schedule; the Patient search
    parameters are the facade's."""
    facade = ecw(client)
    statement = facade.get("metadata").json()
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert not {"Appointment", "Slot", "Schedule"} & set(resources)
    assert all({i["code"] for i in r["interaction"]} == {"read", "search-type"} for r in resources.values())
    assert {p["name"] for p in resources["Patient"]["searchParam"]} == {"_id", "birthdate", "family", "gender", "given", "identifier",
                                                                         "name", "phone"}
    for kind in ("Appointment", "Slot", "Schedule"):
        assert facade.get(kind).status_code == 404
    assert facade.post("Patient", {"resourceType": "Patient"}).status_code == 405
    assert facade.get("Patient/pat-0001").status_code == 200


def test_paging_is_by_page_number(client):
    """§4.2, §4.5 (4): next and previous links carry page=N with the search's parameters; page=2
    is the second page; a page that is not a number from 1 is a 400."""
    facade = ecw(client)
    first = facade.search("Patient", {"name": "a", "_count": "3"})
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "page=2" in links["next"] and "name=a" in links["next"] and "_page_token" not in links["next"]
    second = facade.get("Patient", params={"name": "a", "_count": "3", "page": "2"}).json()
    assert [e["resource"]["id"] for e in second["entry"]] == [e["resource"]["id"] for e in facade.get(links["next"]).json()["entry"]]
    assert not {e["resource"]["id"] for e in first["entry"]} & {e["resource"]["id"] for e in second["entry"]}
    assert "page=1" in {link["relation"]: link["url"] for link in second["link"]}["previous"]
    refused = facade.get("Patient", params={"name": "a", "page": "0"})
    assert refused.status_code == 400
    assert_valid(refused.json())


def test_250_requests_a_minute_per_practice_count_token_calls(client):
    """§4.4, §4.5 (5): 250 requests a minute per practice base, /token and /authorize included;
    then 429 for the rest of the minute with no Retry-After; another practice base (profile) is
    not affected. In an isolated sandbox, so its counters are its own."""
    made = client.admin("PUT", "/_admin/sandboxes/ecw-limit", {"profiles": ["ecw", "generic"]})
    assert made.status_code in (200, 201), made.text
    try:
        prefix = "/sandboxes/ecw-limit"
        url = client.origin + prefix + OAUTH + "/token"
        access = basic(client.origin, prefix, "system/Patient.read").json()["access_token"]
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {access}"
        # Until refused: the token request counted one of the 250, so at least 249 reads get
        # through first (more when the clock minute turns during the burst and the count restarts).
        statuses = []
        while 429 not in statuses and len(statuses) < 600:
            statuses.append(session.get(client.origin + prefix + BASE + "/Patient/pat-0001").status_code)
        assert 429 in statuses and statuses.index(429) >= 249 and set(statuses[:249]) == {200}, statuses
        refused = session.get(client.origin + prefix + BASE + "/Patient/pat-0001")
        if refused.status_code == 429:
            assert "Retry-After" not in refused.headers
            assert_valid(refused.json())
            token_refused = basic(client.origin, prefix, "system/Patient.read")
            assert token_refused.status_code == 429  # the token endpoint counts and is refused alike
        assert requests.get(client.origin + prefix + "/fhir/r4/Patient/pat-0001").status_code == 200
    finally:
        client.admin("DELETE", "/_admin/sandboxes/ecw-limit")
