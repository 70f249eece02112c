"""Black-box fixtures: the built fhir-sandbox binary on a free port, and an HTTP client that
validates every FHIR JSON body it receives (see fhirvalidation.py)."""
import json
import os
import re
import signal
import subprocess
import tempfile
import time

import pytest
import requests

from fhirvalidation import ROOT, assert_valid, assert_valid_stu3

BIN = os.path.abspath(os.environ.get("FHIR_SANDBOX_BIN") or os.path.join(ROOT, ".build", "debug", "fhir-sandbox"))
# The session server's clock: frozen on a Monday morning in the clinic's zone.
CLOCK = "2026-04-13T08:00:00-05:00"
FHIR_JSON = "application/fhir+json"


class Sandbox:
    """A running fhir-sandbox process."""

    def __init__(self, *args, env=None, cwd=ROOT):
        self.args = [BIN, "serve", "--port", "0", *args]
        environment = dict(os.environ)
        environment.update(env or {})
        self.process = subprocess.Popen(self.args, cwd=cwd, env=environment, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.lines = []
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"fhir-sandbox exited: {self.process.wait()} {self.process.stderr.read()}")
            self.lines.append(line.rstrip("\n"))
            match = re.match(r"ready (\S+) \(port (\d+)\)", line)
            if match:
                self.origin = f"http://127.0.0.1:{match.group(2)}"
                self.port = int(match.group(2))
                return
        raise RuntimeError("fhir-sandbox did not print its ready line")

    def stop(self, sig=signal.SIGTERM):
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Client:
    """requests, plus R4 validation of every FHIR body received."""

    def __init__(self, origin, base="/fhir/r4", release="R4"):
        self.origin = origin
        self.base = origin + base
        self.session = requests.Session()
        self.validate = assert_valid_stu3 if release == "STU3" else assert_valid

    def url(self, path):
        if path.startswith("http"):
            return path
        if path.startswith("/_") or path == "/":
            return self.origin + path
        return self.base + ("" if path.startswith("/") or path == "" else "/") + path

    def request(self, method, path, json_body=None, data=None, headers=None, validate=True, **kwargs):
        headers = dict(headers or {})
        if json_body is not None:
            data = json.dumps(json_body)
            headers.setdefault("Content-Type", FHIR_JSON)
        response = self.session.request(method, self.url(path), data=data, headers=headers, timeout=60, **kwargs)
        kind = response.headers.get("Content-Type", "")
        if validate and response.content and "fhir+json" in kind:
            self.validate(response.json())
        return response

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, json_body=body, **kwargs)

    def put(self, path, body=None, **kwargs):
        return self.request("PUT", path, json_body=body, **kwargs)

    def patch(self, path, operations, headers=None, **kwargs):
        headers = {"Content-Type": "application/json-patch+json", **(headers or {})}
        return self.request("PATCH", path, data=json.dumps(operations), headers=headers, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def admin(self, method, path, body=None):
        response = self.session.request(method, self.origin + path, data=None if body is None else json.dumps(body),
                                        headers={"Content-Type": "application/json"}, timeout=60)
        return response

    def search(self, type_, params=None, **kwargs):
        response = self.get(type_, params=params, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()


_BASIC_TOKENS = {}


def basic_token(origin, token_path, scope):
    """A client_credentials token of the seed's sandbox-secret (HTTP Basic), fetched once per
    server, endpoint and scope: vendors throttle token endpoints (athena: 5 a minute per client),
    and a reset keeps tokens of seed clients valid."""
    key = (origin, token_path, scope)
    if key not in _BASIC_TOKENS:
        response = requests.post(origin + token_path, auth=("sandbox-secret", "sandbox-secret-TEST-ONLY"),
                                 data={"grant_type": "client_credentials", "scope": scope}, timeout=30)
        assert response.status_code == 200, response.text
        _BASIC_TOKENS[key] = response.json()["access_token"]
    return _BASIC_TOKENS[key]


def ids(bundle, mode="match"):
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode", "match") == mode]


def issues(body):
    return body.get("issue", [])


def outcome_text(response):
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    return " ".join(i.get("diagnostics", "") for i in body["issue"])


@pytest.fixture(scope="session")
def sandbox():
    server = Sandbox("--clock", CLOCK)
    yield server
    server.stop()


# The generic suite's modules that also run against each vendor profile (vendorclient.py), with
# the tests a vendor's declared deviations make inapplicable skipped (deviations.py).
PORTABLE = {"test_rest", "test_search", "test_errors", "test_batch", "test_capability", "test_operations", "test_scheduling", "test_edge"}
VENDORS = ["epic", "cerner", "athena", "nextgen", "ecw"]


def pytest_generate_tests(metafunc):
    if "client" in metafunc.fixturenames and metafunc.module.__name__ in PORTABLE:
        metafunc.parametrize("client", ["generic"] + VENDORS, indirect=True)


@pytest.fixture
def client(sandbox, request):
    """A client against a freshly reset sandbox: the generic profile, or (for the portable
    modules) a vendor profile through VendorClient."""
    c = Client(sandbox.origin)
    response = c.admin("POST", "/_admin/reset")
    assert response.status_code == 200, response.text
    clock = c.admin("PUT", "/_admin/clock", {"now": CLOCK, "frozen": True})
    assert clock.status_code == 200, clock.text
    name = getattr(request, "param", "generic")
    if name == "generic":
        return c
    from deviations import GENERIC_ONLY, TAGS
    from vendorclient import VendorClient
    key = f"{request.module.__name__}.{request.function.__name__}"
    if key in GENERIC_ONLY:
        pytest.skip("runs against the generic profile only (raw HTTP with seed ids, or its own server)")
    vendor = VendorClient(sandbox.origin, name)
    for tag in TAGS.get(key, []):
        # FHIR_SANDBOX_ALL_TESTS=1 runs them anyway (to see which tags a test still needs).
        if vendor.declares(tag) and not os.environ.get("FHIR_SANDBOX_ALL_TESTS"):
            declared = vendor.deviations[tag]
            pytest.skip(f"{name} deviates ({tag}, vendor-quirks {declared['reference']}): {declared['what']}")
    return vendor


@pytest.fixture
def tmpdir_path():
    with tempfile.TemporaryDirectory() as directory:
        yield directory
