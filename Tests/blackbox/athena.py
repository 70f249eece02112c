"""Helpers for the athenahealth tests (Profiles/athena.yaml): tokens (cached: the token endpoint
allows 5 requests a minute per client, vendor-quirks §3.2), the practice context, the FHIR and
proprietary bases, and athena's ids."""
import uuid

import requests

from conftest import basic_token
from fhirvalidation import assert_valid

PRACTICE = "195900"
CONTEXT = {"ah-practice": "Organization/a-1.Practice-195900"}
FHIR = "/athena/fhir/r4"
V1 = f"/athena/v1/{PRACTICE}"
AUTH = "/athena/oauth2/v1"
MDP = "athena/service/Athenanet.MDP.*"
ISSUER = "https://athena.okta.com/oauth2/aus2hff5eqFb7Wqfh297"
SCOPES = f"system/*.read system/Subscription.write {MDP}"


def patient_id(seed_id):
    """§3.3, §3.9: pat-0001 is a-195900.E-60178."""
    return f"a-{PRACTICE}.E-{60177 + int(seed_id[4:])}"


def register(origin, scopes=("system/*.read", "system/*.rs", "system/Subscription.write", MDP)):
    """A fresh confidential client of the sandbox (its own token-throttle bucket)."""
    client_id = f"athena-{uuid.uuid4().hex[:12]}"
    secret = f"{client_id}-TEST-ONLY"
    body = {"id": client_id, "type": "confidential-secret", "secret": secret, "scopes": list(scopes),
            "grantTypes": ["client_credentials"]}
    response = requests.post(origin + "/_admin/clients", json=body, timeout=10)
    assert response.status_code in (200, 201), response.text
    return client_id, secret


def token(origin, scope=SCOPES, prefix=""):
    """A client_secret_basic token of the seed's sandbox-secret (cached: see conftest.basic_token)."""
    return basic_token(origin, prefix + AUTH + "/token", scope)


class Athena:
    """Calls to both of athena's surfaces with one token."""

    def __init__(self, origin, prefix=""):
        self.origin = origin
        self.prefix = prefix
        self.headers = {"Authorization": f"Bearer {token(origin, prefix=prefix)}"}

    def fhir(self, path, params=None, validate=True, context=True, **kwargs):
        query = dict(CONTEXT) if context else {}
        query.update(params or {})
        response = requests.get(self.origin + self.prefix + FHIR + "/" + path, params=query,
                                headers={**self.headers, "Accept": "application/fhir+json"}, timeout=30, **kwargs)
        if validate and "json" in response.headers.get("Content-Type", "") and response.content:
            assert_valid(response.json())
        return response

    def v1(self, method, path, params=None, data=None, **kwargs):
        return requests.request(method, self.origin + self.prefix + V1 + "/" + path, params=params, data=data,
                                headers={**self.headers, **kwargs.pop("headers", {})}, timeout=30, **kwargs)


def open_slots(athena, **params):
    query = {"departmentid": "1", "appointmenttypeid": "2"}
    query.update(params)
    response = athena.v1("GET", "appointments/open", params=query)
    assert response.status_code == 200, response.text
    return response.json()["appointments"]
