"""Issue 10's hardening, one test per finding: each sends what once killed, stalled, leaked or
opened the server, and checks that it stays up and answers as documented (README "Security")."""
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
import uuid

import jwt
import pytest
import requests

from conftest import BIN, CLOCK, Client, Sandbox, outcome_text
from fhirvalidation import ROOT, assert_valid
from vendorclient import VendorClient

KEYS = os.path.join(ROOT, "Seeds", "default", "keys")
RS384 = open(os.path.join(KEYS, "backend-rs384.pem")).read()
SERVER_KEY = open(os.path.join(KEYS, "server-es256.pem")).read()
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def alive(origin):
    response = requests.get(origin + "/_health", timeout=10)
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def assertion(token_url, **overrides):
    now = int(time.time())
    claims = {"iss": "sandbox-backend", "sub": "sandbox-backend", "aud": token_url, "exp": now + 240, "jti": str(uuid.uuid4())}
    claims.update(overrides)
    return jwt.encode(claims, RS384, algorithm="RS384", headers={"kid": "backend-rs384"})


def backend_token(origin, scope="system/*.rs", **overrides):
    token_url = origin + "/fhir/auth/token"
    return requests.post(token_url, data={"grant_type": "client_credentials", "scope": scope, "client_assertion_type": ASSERTION_TYPE,
                                          "client_assertion": assertion(token_url, **overrides)}, timeout=30)


def cli_token(port, *args):
    out = subprocess.run([BIN, "token", "--profile", "generic", "--port", str(port), "--clock", CLOCK, *args],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def raw(port, data, read_timeout=15):
    """Sends raw bytes, returns everything the server answers until it closes (or the timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except (socket.timeout, ConnectionResetError):
            pass
        return b"".join(chunks)


# --- 1. Numbers that do not fit -----------------------------------------------------------------

def test_out_of_range_numbers_in_assertions_tokens_and_admin_fields_are_4xx(client, sandbox):
    for claims in ({"exp": 1e300}, {"nbf": 1e300}, {"exp": -9223372036854775}, {"iat": 1e300}):
        response = backend_token(sandbox.origin, **claims)
        assert response.status_code == 400 and response.json()["error"] == "invalid_client", response.text
        alive(sandbox.origin)
    now = int(time.time())
    for exp in (-9223372036854775, 1e300, 10 ** 30):
        forged = jwt.encode({"iss": "x", "sub": "sandbox-backend", "aud": sandbox.origin + "/fhir/r4", "client_id": "sandbox-backend",
                             "jti": str(uuid.uuid4()), "iat": now, "exp": exp, "scope": "system/*.rs", "profile": "generic"},
                            SERVER_KEY, algorithm="ES256", headers={"kid": "sandbox-es256"})
        response = client.get("Patient/pat-0001", headers={"Authorization": f"Bearer {forged}"})
        assert response.status_code == 401, response.text
        assert "exp" in outcome_text(response)
        alive(sandbox.origin)
    too_long = client.admin("POST", "/_admin/clients", {"id": "long-lived", "type": "confidential-secret", "secret": "s",
                                                        "tokenMinutes": 153722867280912930, "scopes": ["system/*.rs"],
                                                        "grantTypes": ["client_credentials"]})
    assert too_long.status_code == 400 and too_long.json()["field"] == "tokenMinutes", too_long.text
    for seconds in (-9223372036854775808, 9223372036854775807, 10 ** 30):
        moved = client.admin("POST", "/_admin/clock/advance", {"seconds": seconds})
        assert moved.status_code == 400 and moved.json()["field"] == "seconds", moved.text
    alive(sandbox.origin)


# --- 2. $match count ------------------------------------------------------------------------------

def test_match_count_is_checked_and_clamped(client):
    maria = {"resourceType": "Patient", "name": [{"family": "Garcia", "given": ["Maria"]}], "birthDate": "1991-07-30"}

    def match(count):
        return client.post("Patient/$match", {"resourceType": "Parameters", "parameter": [
            {"name": "resource", "resource": maria}, {"name": "count", "valueInteger": count}]})
    for bad in (-1, 0):
        response = match(bad)
        assert response.status_code == 400 and "count" in outcome_text(response)
    clamped = match(100000)
    assert clamped.status_code == 200 and 1 <= len(clamped.json()["entry"]) <= 100


# --- 3. $find over any range costs the horizon, not the range ---------------------------------------

def test_find_over_ten_thousand_years_answers_and_does_not_stall_others(client, sandbox):
    result = {}

    def huge():
        started = time.time()
        result["response"] = client.get("Appointment/$find", params={"start": "0001-01-01", "end": "9999-12-31",
                                                                      "practitioner": "Practitioner/pract-okafor"})
        result["seconds"] = time.time() - started
    worker = threading.Thread(target=huge)
    worker.start()
    reads = []
    other = Client(sandbox.origin)
    while worker.is_alive() and len(reads) < 200:
        started = time.time()
        assert other.get("Practitioner/pract-okafor").status_code == 200
        reads.append(time.time() - started)
    worker.join(timeout=120)
    assert not worker.is_alive(), "$find over 0001-9999 did not finish"
    response = result["response"]
    assert response.status_code == 200, response.text
    proposals = [e for e in response.json().get("entry", []) if e["search"]["mode"] == "match"]
    assert proposals and all(e["resource"]["start"] >= "2026-04-13" for e in proposals)
    # Generous bounds: they tell "bounded work" from the 106 s the unclamped loop took.
    assert result["seconds"] < 20 and max(reads) < 5, (result["seconds"], max(reads))


# --- 4. Too many OR values ---------------------------------------------------------------------------

def test_a_search_with_hundreds_of_or_values_is_a_400_naming_the_limit(client):
    names = ",".join(f"n{i}" for i in range(600))
    assert client.get("Patient", params={"family": ",".join(f"n{i}" for i in range(200))}).status_code == 200
    response = client.get("Patient", params={"family": names})
    assert response.status_code == 400
    assert "at most 200" in outcome_text(response)
    many = client.get("Patient?" + "&".join(f"family:missing=false" for _ in range(70)))
    assert many.status_code == 400 and "at most 64 parameters" in outcome_text(many)


# --- 5. Timeouts and the header limit -----------------------------------------------------------------

@pytest.fixture(scope="module")
def impatient():
    server = Sandbox("--clock", CLOCK, "--profiles", "generic", "--header-timeout", "2", "--body-timeout", "2", "--idle-timeout", "3")
    yield server
    server.stop()


def test_slow_headers_get_408_and_idle_connections_are_closed(impatient):
    started = time.time()
    answer = raw(impatient.port, b"GET /fhir/r4/Patient/pat-0001 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b'"timeout"' in answer and time.time() - started < 10
    started = time.time()
    assert raw(impatient.port, b"") == b""  # an idle connection: closed without an answer
    assert 2 <= time.time() - started < 10
    # A keep-alive connection serves several requests, then is closed once idle.
    connection = http.client.HTTPConnection("127.0.0.1", impatient.port, timeout=15)
    for _ in range(3):
        connection.request("GET", "/fhir/r4/Patient/pat-0001")
        assert connection.getresponse().read() and True
    time.sleep(4.5)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, BrokenPipeError)):
        connection.request("GET", "/fhir/r4/Patient/pat-0001")
        connection.getresponse()
    alive(impatient.origin)


def test_a_body_that_never_ends_gets_408(impatient):
    head = (b"POST /fhir/r4/Patient HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/fhir+json\r\n"
            b"Content-Length: 1000\r\n\r\n{\"resourceType\":")
    started = time.time()
    answer = raw(impatient.port, head)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert time.time() - started < 10


def test_a_huge_header_gets_431(impatient):
    big = b"X-Big: " + b"a" * 200_000 + b"\r\n"
    answer = raw(impatient.port, b"POST /fhir/r4/Patient HTTP/1.1\r\nHost: 127.0.0.1\r\n" + big +
                 b"Content-Length: 2\r\n\r\n{}")
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    alive(impatient.origin)


def test_many_idle_and_slowloris_connections_are_shed(impatient):
    sockets = []
    for index in range(200):
        sock = socket.create_connection(("127.0.0.1", impatient.port), timeout=20)
        if index % 2:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        sockets.append(sock)
    alive(impatient.origin)
    time.sleep(4.5)
    closed = 0
    for sock in sockets:
        try:
            data = sock.recv(4096)
            closed += data == b"" or data.startswith(b"HTTP/1.1 408")
        except OSError:
            closed += 1
        sock.close()
    assert closed == len(sockets)
    alive(impatient.origin)


# --- 6. Graceful shutdown -------------------------------------------------------------------------------

def test_sigterm_finishes_within_the_grace_period_and_flushes_the_data_dir(tmp_path):
    server = Sandbox("--clock", CLOCK, "--profiles", "generic", "--data-dir", str(tmp_path))
    client = Client(server.origin)
    created = client.post("Patient", {"resourceType": "Patient", "name": [{"family": "Shutdown"}]})
    assert created.status_code == 201
    # A client that stops half-way through its body must not hold the shutdown.
    stuck = socket.create_connection(("127.0.0.1", server.port))
    stuck.sendall(b"POST /fhir/r4/Patient HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/fhir+json\r\n"
                  b"Content-Length: 5000\r\n\r\n{\"resourceType\":")
    time.sleep(0.3)
    started = time.time()
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    with pytest.raises(requests.ConnectionError):
        requests.get(server.origin + "/_health", timeout=5)  # no longer accepting
    code = server.process.wait(timeout=20)
    assert code == 0 and time.time() - started <= 12.5, (code, time.time() - started)
    stuck.close()
    wal = tmp_path / "generic.sqlite-wal"
    assert not wal.exists() or wal.stat().st_size == 0  # everything is in the database file
    again = Sandbox("--clock", CLOCK, "--profiles", "generic", "--data-dir", str(tmp_path))
    try:
        found = Client(again.origin).get(created.headers["Location"].split("/_history")[0].replace(server.origin, again.origin))
        assert found.status_code == 200 and found.json()["name"][0]["family"] == "Shutdown"
    finally:
        again.stop()


# --- 7. Operations obey the patient compartment ------------------------------------------------------------

def test_every_operation_obeys_a_patient_tokens_compartment(client, sandbox):
    token = cli_token(sandbox.port, "--client", "sandbox-public-auto", "--scope", "patient/*.cruds launch/patient",
                      "--patient", "pat-0001")
    headers = {"Authorization": f"Bearer {token}"}
    maria = {"resourceType": "Patient", "name": [{"family": "Garcia", "given": ["Maria"]}], "birthDate": "1991-07-30"}
    everyone = client.post("Patient/$match", {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": maria}]})
    assert {e["resource"]["id"] for e in everyone.json()["entry"]} >= {"pat-0001", "pat-0002"}
    confined = client.post("Patient/$match", {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": maria}]},
                           headers=headers)
    assert confined.status_code == 200
    assert [e["resource"]["id"] for e in confined.json()["entry"]] == ["pat-0001"]
    other = client.get("Appointment/$find", params={"start": "2026-04-20", "end": "2026-04-22", "patient-reference": "Patient/pat-0002"},
                       headers=headers)
    assert other.status_code == 403, other.text
    own = client.get("Appointment/$find", params={"start": "2026-04-20", "end": "2026-04-22", "patient-reference": "Patient/pat-0001",
                                                  "practitioner": "Practitioner/pract-okafor"}, headers=headers)
    assert own.status_code == 200, own.text
    proposal = next(e["resource"] for e in own.json()["entry"] if e["search"]["mode"] == "match")
    booked_for_other = client.post("Appointment/$book", {"resourceType": "Parameters", "parameter": [
        {"name": "appt-id", "valueString": proposal["id"]}, {"name": "patient-id", "valueString": "pat-0002"}]}, headers=headers)
    assert booked_for_other.status_code == 403, booked_for_other.text
    proposal2 = next(e["resource"] for e in client.get("Appointment/$find", params={
        "start": "2026-04-20", "end": "2026-04-22", "practitioner": "Practitioner/pract-okafor"}).json()["entry"]
        if e["search"]["mode"] == "match")
    held_for_other = client.post("Appointment/$hold", {"resourceType": "Parameters", "parameter": [
        {"name": "appt-resource", "resource": {**proposal2, "participant": proposal2["participant"] + [
            {"actor": {"reference": "Patient/pat-0002"}, "status": "needs-action"}]}}]}, headers=headers)
    assert held_for_other.status_code == 403, held_for_other.text
    booked = client.post("Appointment/$book", {"resourceType": "Parameters", "parameter": [
        {"name": "appt-id", "valueString": proposal["id"]}]}, headers=headers)
    assert booked.status_code == 200, booked.text


# --- 8. The admin API --------------------------------------------------------------------------------------

def test_admin_api_refuses_foreign_hosts_origins_and_non_json_bodies(client, sandbox):
    evil_host = requests.post(sandbox.origin + "/_admin/reset", headers={"Host": "rebind.example:8080"}, timeout=10)
    assert evil_host.status_code == 403 and "Host" in evil_host.json()["message"]
    cross = requests.post(sandbox.origin + "/_admin/reset", headers={"Origin": "http://evil.example"}, timeout=10)
    assert cross.status_code == 403 and "Access-Control-Allow-Origin" not in cross.headers
    form = requests.post(sandbox.origin + "/_admin/clock/advance", data='{"seconds": 60}', headers={"Content-Type": "text/plain"},
                         timeout=10)
    assert form.status_code == 415
    assert client.admin("POST", "/_admin/reset").status_code == 200  # loopback, JSON: open without a token


def test_admin_api_off_loopback_needs_the_admin_token(sandbox):
    server = Sandbox("--clock", CLOCK, "--host", "0.0.0.0", "--profiles", "generic,epic", "--allowed-hosts", "sandbox.test")
    try:
        ready = server.lines[-1]
        assert ready.startswith("ready ") and "  admin token " in ready, ready
        token = ready.split("  admin token ")[1].split()[0]
        assert "admin API requires" in server.process.stderr.readline()
        assert requests.post(server.origin + "/_admin/reset", timeout=10).status_code == 401
        vendor = VendorClient(server.origin, "epic")  # a valid vendor token never opens it
        refused = requests.post(server.origin + "/_admin/reset", headers={"Authorization": vendor.session.headers["Authorization"]},
                                timeout=10)
        assert refused.status_code == 401
        ok = requests.post(server.origin + "/_admin/reset", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert ok.status_code == 200, ok.text
        listed = requests.get(server.origin + "/_admin/clock", headers={"Authorization": f"Bearer {token}", "Host": "sandbox.test"},
                              timeout=10)
        assert listed.status_code == 200
        rebound = requests.get(server.origin + "/_admin/clock", headers={"Authorization": f"Bearer {token}", "Host": "evil.example"},
                               timeout=10)
        assert rebound.status_code == 403
        assert Client(server.origin).get("Patient/pat-0001").status_code == 200  # FHIR stays as it was
        # Test control's routes, and each sandbox's admin API under its prefix, obey the same rules.
        admin = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        rule = '{"action": {"type": "drop"}, "match": {"profile": "epic"}}'
        assert requests.post(server.origin + "/_admin/faults", data=rule, headers={"Content-Type": "application/json"},
                             timeout=10).status_code == 401
        assert requests.post(server.origin + "/_admin/faults", data=rule, headers=admin, timeout=10).status_code == 201
        assert requests.delete(server.origin + "/_admin/faults", headers=admin, timeout=10).status_code == 200
        for path in ("/_admin/rate-limits", "/_admin/latency", "/_admin/actions"):
            assert requests.get(server.origin + path, timeout=10).status_code == 401
            assert requests.get(server.origin + path, headers=vendor.session.headers, timeout=10).status_code == 401
            assert requests.get(server.origin + path, headers=admin, timeout=10).status_code == 200
        assert requests.put(server.origin + "/_admin/sandboxes/locked", timeout=10).status_code == 401
        assert requests.put(server.origin + "/_admin/sandboxes/locked", headers=admin, timeout=10).status_code == 201
        inside = server.origin + "/sandboxes/locked/_admin/faults"
        assert requests.get(inside, timeout=10).status_code == 401
        assert requests.get(inside, headers=vendor.session.headers, timeout=10).status_code == 401
        assert requests.get(inside, headers={**admin, "Origin": "http://evil.example"}, timeout=10).status_code == 403
        assert requests.post(inside, data=rule, headers={**admin, "Content-Type": "text/plain"}, timeout=10).status_code == 415
        assert requests.get(inside, headers=admin, timeout=10).status_code == 200
    finally:
        server.stop()


def test_admin_token_from_the_environment_is_required_on_loopback_too():
    server = Sandbox("--clock", CLOCK, "--profiles", "generic", env={"FHIR_SANDBOX_ADMIN_TOKEN": "let-me-in"})
    try:
        assert not any("admin token" in line for line in server.lines)  # a token you gave is not printed
        assert requests.get(server.origin + "/_admin/clock", timeout=10).status_code == 401
        assert requests.get(server.origin + "/_admin/clock", headers={"Authorization": "Bearer let-me-in"}, timeout=10).status_code == 200
    finally:
        server.stop()


# --- 9. jwksUri allow-list -----------------------------------------------------------------------------------

def test_jwks_uri_on_a_host_that_is_not_allowed_is_refused_without_a_connection(client):
    for url in ("http://10.255.255.1:22/jwks", "http://metadata.internal/keys", "file:///etc/passwd", "gopher://127.0.0.1:25/"):
        response = client.admin("POST", "/_admin/clients", {"id": "probe", "type": "backend", "jwksUri": url,
                                                            "scopes": ["system/*.rs"], "grantTypes": ["client_credentials"]})
        assert response.status_code == 400, response.text
        body = response.json()
        assert body["field"] == "jwksUri"
    allowed = client.admin("POST", "/_admin/clients", {"id": "probe", "type": "backend", "jwksUri": "http://127.0.0.1:9/jwks",
                                                       "scopes": ["system/*.rs"], "grantTypes": ["client_credentials"]})
    assert allowed.status_code == 200, allowed.text


# --- 10. Revocation -----------------------------------------------------------------------------------------------

def test_only_the_owning_client_revokes_and_a_reset_keeps_revocations(client, sandbox):
    minted = backend_token(sandbox.origin)
    assert minted.status_code == 200, minted.text
    token = minted.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    stranger = requests.post(sandbox.origin + "/fhir/auth/revoke", data={"token": token, "client_id": "sandbox-public"}, timeout=10)
    assert stranger.status_code == 400 and stranger.json()["error"] == "unauthorized_client", stranger.text
    assert client.get("Patient/pat-0001", headers=headers).status_code == 200
    own = requests.post(sandbox.origin + "/fhir/auth/revoke", data={"token": token}, headers=headers, timeout=10)
    assert own.status_code == 200
    assert client.get("Patient/pat-0001", headers=headers).status_code == 401
    assert client.admin("POST", "/_admin/reset").status_code == 200
    after = client.get("Patient/pat-0001", headers=headers)
    assert after.status_code == 401 and "revoked" in outcome_text(after)


# --- 11. Audience ------------------------------------------------------------------------------------------------------

def test_tokens_and_assertions_are_bound_to_this_servers_base(client, sandbox):
    elsewhere = cli_token(sandbox.port + 1, "--client", "sandbox-backend", "--scope", "system/Patient.rs")
    refused = client.get("Patient/pat-0001", headers={"Authorization": f"Bearer {elsewhere}"})
    assert refused.status_code == 401 and "audience" in outcome_text(refused)
    here = cli_token(sandbox.port, "--client", "sandbox-backend", "--scope", "system/Patient.rs")
    assert client.get("Patient/pat-0001", headers={"Authorization": f"Bearer {here}"}).status_code == 200
    # An assertion naming the token URL at a spoofed Host is refused, even with that Host sent.
    spoofed = f"http://localhost:{sandbox.port + 1}/fhir/auth/token"
    response = requests.post(sandbox.origin + "/fhir/auth/token", headers={"Host": f"localhost:{sandbox.port + 1}"}, data={
        "grant_type": "client_credentials", "scope": "system/Patient.rs", "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion(spoofed)}, timeout=10)
    assert response.status_code == 400 and response.json()["error"] == "invalid_client", response.text
    for name in ("localhost", "127.0.0.1"):
        url = f"http://{name}:{sandbox.port}/fhir/auth/token"
        ok = requests.post(url, data={"grant_type": "client_credentials", "scope": "system/Patient.rs",
                                      "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion(url)}, timeout=10)
        assert ok.status_code == 200, ok.text


# --- 12. Host is not echoed -----------------------------------------------------------------------------------------------

def test_a_foreign_host_header_is_not_echoed(client, sandbox):
    created = requests.post(sandbox.origin + "/fhir/r4/Patient", data=json.dumps({"resourceType": "Patient"}),
                            headers={"Content-Type": "application/fhir+json", "Host": "phish.example"}, timeout=10)
    assert created.status_code == 201
    assert created.headers["Location"].startswith(sandbox.origin + "/fhir/r4/Patient/")
    discovery = requests.get(sandbox.origin + "/fhir/r4/.well-known/smart-configuration", headers={"Host": "phish.example"}, timeout=10)
    assert "phish.example" not in discovery.text and discovery.json()["token_endpoint"] == sandbox.origin + "/fhir/auth/token"
    bundle = requests.get(sandbox.origin + "/fhir/r4/Patient?_count=2", headers={"Host": "phish.example"}, timeout=10).json()
    assert_valid(bundle)
    assert "phish.example" not in json.dumps(bundle)
    named = requests.get(sandbox.origin + "/fhir/r4/Patient?_count=1", headers={"Host": f"localhost:{sandbox.port}"}, timeout=10).json()
    assert named["link"][0]["url"].startswith(f"http://localhost:{sandbox.port}/fhir/r4/")  # allowed names are kept


# --- 13. Amplification limits -----------------------------------------------------------------------------------------------

def test_batch_entries_issues_and_response_size_are_limited(client):
    searches = {"resourceType": "Bundle", "type": "batch",
                "entry": [{"request": {"method": "GET", "url": "Patient?_count=1000"}} for _ in range(5000)]}
    too_many = client.post("", searches)
    assert too_many.status_code == 400 and "at most 500 entries" in outcome_text(too_many)
    wide = {"resourceType": "Bundle", "type": "batch",
            "entry": [{"request": {"method": "GET", "url": "Slot?_count=1000"}} for _ in range(500)]}
    huge = client.post("", wide)
    assert huge.status_code == 400 and "limit of 16777216 bytes" in outcome_text(huge)
    assert len(huge.content) < 10_000
    junk = {"resourceType": "Patient", **{f"k{i}": 1 for i in range(300_000)}}
    response = client.post("Patient", junk)
    assert response.status_code == 400, response.status_code
    issues = response.json()["issue"]
    assert len(issues) == 101 and "299900 more issues" in issues[-1]["diagnostics"]
    assert len(response.content) < 50_000


# --- 14. Vendor batch entries carry OperationOutcomes ----------------------------------------------------------------------------

@pytest.mark.parametrize("vendor", ["epic", "cerner"])
def test_vendor_batch_entry_errors_are_operation_outcomes(sandbox, vendor):
    Client(sandbox.origin).admin("POST", "/_admin/reset")
    client = VendorClient(sandbox.origin, vendor)
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": "Patient?bogus=1"}},
        {"request": {"method": "GET", "url": "NoSuchType/1"}},
        {"request": {"method": "GET", "url": "Patient/" + client.map_id("pat-0001", "Patient", True)}}]}
    response = client.session.post(client.base, data=json.dumps(bundle), headers={"Content-Type": "application/fhir+json"}, timeout=30)
    if response.status_code != 200:
        pytest.skip(f"{vendor} answers batch with {response.status_code}")
    assert response.headers["Content-Type"].startswith("application/fhir+json")
    body = response.json()
    assert_valid(body)
    for entry in body["entry"]:
        if not entry["response"]["status"].startswith("2"):
            assert entry["response"]["outcome"]["resourceType"] == "OperationOutcome"


# --- 15. A transaction is all or nothing ------------------------------------------------------------------------------------------

def test_a_transaction_with_a_failing_read_keeps_none_of_its_writes(client):
    marker = "Atomic" + uuid.uuid4().hex[:8]
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:" + str(uuid.uuid4()), "resource": {"resourceType": "Patient", "name": [{"family": marker}]},
         "request": {"method": "POST", "url": "Patient"}},
        {"request": {"method": "GET", "url": "Patient/does-not-exist"}}]}
    response = client.post("", bundle)
    assert response.status_code == 404, response.text
    assert "entry 1" in outcome_text(response)
    assert client.search("Patient", {"family": marker}).get("total") == 0
    # A read in a transaction sees the transaction's own writes.
    ident = "atomic-" + uuid.uuid4().hex[:8]
    ok = client.post("", {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {"resourceType": "Patient", "id": ident, "name": [{"family": marker}]},
         "request": {"method": "PUT", "url": f"Patient/{ident}"}},
        {"request": {"method": "GET", "url": f"Patient/{ident}"}}]})
    assert ok.status_code == 200, ok.text
    assert [e["response"]["status"][:3] for e in ok.json()["entry"]] == ["201", "200"]


# --- 16. What a sandbox may hold ---------------------------------------------------------------------------------------------------

def test_a_full_sandbox_answers_507_and_loses_nothing_it_acknowledged(tmp_path):
    server = Sandbox("--clock", CLOCK, "--profiles", "generic", "--max-sandbox-mb", "32")
    try:
        client = Client(server.origin)
        padding = "x" * 60_000
        acknowledged = []
        for index in range(2000):
            response = client.post("Patient", {"resourceType": "Patient", "name": [{"family": f"Fill{index}", "text": padding}]})
            if response.status_code == 507:
                assert "max-sandbox-mb" in outcome_text(response)
                break
            assert response.status_code == 201, response.text
            acknowledged.append(response.headers["Location"].split("/_history")[0])
        else:
            pytest.fail("32 MiB held 2000 patients of 60 KB")
        assert acknowledged
        for location in acknowledged[-3:] + acknowledged[:3]:
            assert client.get(location).status_code == 200
        assert client.get("Patient/pat-0001").status_code == 200  # reads still work
        assert client.admin("POST", "/_admin/reset").status_code == 200
        assert client.post("Patient", {"resourceType": "Patient", "name": [{"family": "AfterReset"}]}).status_code == 201
    finally:
        server.stop()
