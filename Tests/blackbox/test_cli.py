"""The command line: options, environment variables, one-line failures, persistence, reindex."""
import json
import os
import re
import shutil
import signal
import subprocess
import urllib.parse

import requests

from conftest import BIN, CLOCK, ROOT, Client, Sandbox


def run(*args, env=None, cwd=ROOT):
    environment = dict(os.environ)
    environment.update(env or {})
    return subprocess.run([BIN, *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=120)


def test_bad_flags_and_inputs_exit_nonzero_with_one_line():
    cases = [
        (["serve", "--port", "abc"], "port"),
        (["serve", "--port", "70000"], "out of range"),
        (["serve", "--seed", "/nonexistent/seed"], "seed"),
        (["serve", "--clock", "soon"], "--clock"),
        (["serve", "--profiles", "nope"], "unknown profile"),
        (["serve", "--profiles-dir", "/nonexistent"], "profiles"),
        (["serve", "--public-url", "ftp://x"], "public-url"),
        (["serve", "--frobnicate"], "frobnicate"),
    ]
    for args, needle in cases:
        result = run(*args)
        assert result.returncode != 0, args
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert lines and needle in result.stderr, (args, result.stderr)
        assert len(lines) == 1, (args, result.stderr)


def test_help_is_printed_in_full():
    result = run("serve", "--help")
    assert result.returncode == 0 and "--data-dir" in result.stdout and "FHIR_SANDBOX_DATA_DIR" in result.stdout


def test_bad_environment_variable_fails():
    result = run("serve", env={"FHIR_SANDBOX_PORT": "eighty"})
    assert result.returncode != 0 and "FHIR_SANDBOX_PORT" in result.stderr


def test_unreadable_seed_fails_with_file_and_line(tmp_path):
    seed = tmp_path / "seed"
    shutil.copytree(os.path.join(ROOT, "Seeds", "default"), seed)
    patients = seed / "resources" / "Patient.ndjson"
    original = patients.read_text()
    patients.write_text(original + '{"resourceType": "Patient", "id": "broken", "gender": "robot"}\n')
    result = run("serve", "--seed", str(seed))
    assert result.returncode != 0
    assert "Patient.ndjson:321" in result.stderr and "gender" in result.stderr
    patients.write_text(original)
    (seed / "schedules.yaml").write_text("schedules:\n  - id: x\n    practitioner: pract-okafor\n    colour: red\n")
    result = run("serve", "--seed", str(seed))
    assert result.returncode != 0 and "schedules.yaml:4" in result.stderr and "colour" in result.stderr


def test_ready_lines_environment_and_public_url():
    server = Sandbox(env={"FHIR_SANDBOX_CLOCK": "2026-06-01T12:00:00Z", "FHIR_SANDBOX_PUBLIC_URL": "https://sandbox.example.org/"})
    try:
        # One line per profile (sorted by file name), then the ready line.
        # (Epic's second line is its STU3 scheduling base.)
        assert [line.split()[0] for line in server.lines] == ["athena", "athena", "cerner", "ecw", "ecw", "epic", "epic", "generic",
                                                                  "nextgen", "nextgen", "ready"]
        assert "HL7 in mllp://" in server.lines[9]  # NextGen books over HL7 v2: its listener is on by default
        assert server.lines[1].split()[1:4] == ["API", "base", "https://sandbox.example.org/athena/v1"]
        assert server.lines[4].split()[1:4] == ["API", "base", "https://sandbox.example.org/ecw/healow/apps/api/v1/fhir/RIVBCD/fhir"]
        assert server.lines[6].split()[3:] == ["https://sandbox.example.org/epic/api/FHIR/STU3", "(STU3;", "same", "data", "and", "tokens)"]
        assert server.lines[7].split() == ["generic", "FHIR", "base", "https://sandbox.example.org/fhir/r4", "token",
                                           "https://sandbox.example.org/fhir/auth/token", "(auth", "optional)"]
        assert server.lines[5].split()[3:5] == ["https://sandbox.example.org/epic/api/FHIR/R4", "token"]
        client = Client(server.origin)
        assert client.admin("GET", "/_admin/clock").json()["now"] == "2026-06-01T12:00:00.000Z"
        created = client.post("Patient", {"resourceType": "Patient"})
        assert created.headers["Location"].startswith("https://sandbox.example.org/fhir/r4/Patient/")
    finally:
        server.stop()
    flag_wins = Sandbox("--clock", "2026-07-01T00:00:00Z", env={"FHIR_SANDBOX_CLOCK": "2026-06-01T12:00:00Z"})
    try:
        assert Client(flag_wins.origin).admin("GET", "/_admin/clock").json()["now"] == "2026-07-01T00:00:00.000Z"
    finally:
        flag_wins.stop()


def test_runs_from_another_working_directory(tmp_path):
    server = Sandbox("--clock", CLOCK, cwd=str(tmp_path))
    try:
        assert Client(server.origin).get("Patient/pat-0001").status_code == 200
    finally:
        server.stop()


def test_acknowledged_writes_survive_kill_9(tmp_path):
    data = str(tmp_path / "data")
    server = Sandbox("--clock", CLOCK, "--data-dir", data)
    client = Client(server.origin)
    created = client.post("Patient", {"resourceType": "Patient", "name": [{"family": "Durable"}]})
    assert created.status_code == 201
    updated = client.get("Patient/pat-0001").json()
    updated["gender"] = "other"
    assert client.put("Patient/pat-0001", updated).status_code == 200
    assert client.delete("Patient/pat-0002").status_code == 204
    server.stop(signal.SIGKILL)
    again = Sandbox("--clock", CLOCK, "--data-dir", data)
    try:
        client = Client(again.origin)
        assert client.get(f"Patient/{created.json()['id']}").json()["name"][0]["family"] == "Durable"
        assert client.get("Patient/pat-0001").json()["meta"]["versionId"] == "2"
        assert client.get("Patient/pat-0002").status_code == 410
        assert os.path.exists(os.path.join(data, "generic.sqlite"))
    finally:
        again.stop()


def test_db_reindex_leaves_search_results_unchanged(tmp_path):
    data = str(tmp_path / "data")
    queries = [("Patient", {"family": "garcia"}), ("Patient", {"birthdate": "lt1950", "_sort": "-birthdate"}),
               ("Appointment", {"patient.family": "garcia"}), ("Patient", {"phone": "3095550142"}),
               ("PractitionerRole", {"specialty": "http://snomed.info/sct|419772000"}), ("Coverage", {"payor": "org-payer-medicare"})]

    def results():
        server = Sandbox("--clock", CLOCK, "--data-dir", data)
        try:
            client = Client(server.origin)
            return [[e["resource"]["id"] for e in client.search(t, dict(p, _count=1000)).get("entry", [])] for t, p in queries]
        finally:
            server.stop()

    before = results()
    assert all(before)
    result = run("db", "reindex", "--data-dir", data)
    assert result.returncode == 0 and "generic: reindexed" in result.stdout
    assert results() == before
    missing = run("db", "reindex")
    assert missing.returncode != 0 and "--data-dir" in missing.stderr


def test_profiles_list_show_and_lint(tmp_path):
    listed = run("profiles", "list")
    assert listed.returncode == 0
    assert [line.split()[:2] for line in listed.stdout.splitlines()] == [["athena", "/athena/fhir/r4"],
        ["cerner", "/cerner/r4/ec2458f2-1e24-41c8-b71b-0e701af7583d"], ["ecw", "/ecw/fhir/r4/{practiceCode}"], ["epic", "/epic/api/FHIR/R4"], ["generic", "/fhir/r4"],
        ["nextgen", "/nextgen/nge/prod/fhir-api-r4/fhir/R4"]]
    shown = run("profiles", "show", "generic")
    assert "fhirBase: /fhir/r4" in shown.stdout
    assert run("profiles", "show", "nope").returncode != 0
    good = run("profiles", "lint", os.path.join(ROOT, "Profiles", "generic.yaml"))
    assert good.returncode == 0 and "ok" in good.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nfhirBase: /bad\nsearch:\n  defaultPageSize: 10\n  pageSize: 5\n")
    linted = run("profiles", "lint", str(bad))
    assert linted.returncode != 0 and "bad.yaml:5" in linted.stderr and "pageSize" in linted.stderr
    assert "auth.mode: optional" in shown.stdout and "auth.tokenSeconds: 3600" in shown.stdout
    for line, text, fragment in [
        (4, "  mode: sometimes\n", "anonymous, optional, required"),
        (4, "  assertionAlgorithms: [RS384, HS256]\n", "none and HS* are never accepted"),
        (4, "  tokenSeconds: 0\n", "at least 1"),
        (4, "  path: /_admin/auth\n", "not under /_"),
        (4, "  lifetime: 5\n", "lifetime"),
    ]:
        bad.write_text("name: bad\nfhirBase: /bad\nauth:\n" + text)
        linted = run("profiles", "lint", str(bad))
        assert linted.returncode != 0 and f"bad.yaml:{line}" in linted.stderr and fragment in linted.stderr, linted.stderr


def test_profile_settings_change_behaviour(tmp_path):
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "strict.yaml").write_text(
        "name: strict\nfhirBase: /strict/fhir\nsearch:\n  defaultPageSize: 7\n  unknownParameters: strict\nlimits:\n  maxBodyBytes: 2048\n")
    server = Sandbox("--clock", CLOCK, "--profiles-dir", str(profiles))
    try:
        client = Client(server.origin, base="/strict/fhir")
        assert len(client.search("Patient")["entry"]) == 7
        assert client.get("Patient", params={"shoe": "1"}).status_code == 400
        assert client.get("Patient", params={"shoe": "1"}, headers={"Prefer": "handling=lenient"}).status_code == 200
        assert client.post("Patient", {"resourceType": "Patient", "name": [{"family": "x" * 3000}]}).status_code == 413
        assert requests.get(server.origin + "/fhir/r4/metadata", timeout=10).status_code == 404
    finally:
        server.stop()


def test_vendor_rules_from_yaml_alone(tmp_path):
    """A made-up vendor whose ids, identifiers, paging (page size and link style), totals, search
    minimums and error dialect come from its profile file alone: no Swift change is needed for
    data-only vendor behaviour (issue 5's Done-when)."""
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "acme.yaml").write_text("""name: acme
fhirBase: /acme/fhir
ids: epic
render:
  Patient:
    identifiers:
      - from: http://riverbend.example.org/fhir/sid/mrn
        system: urn:acme:chart
        type: '{"text": "CHART"}'
        value: "C-{value}"
    keepOtherIdentifiers: false
search:
  defaultPageSize: 3
  total: none
  emptyResult: outcome
  paging:
    links: [next]
    parameter: cursor
    direction: null-direction
    keepParameters: false
  rules:
    Practitioner:
      requireOneOf: [[name], [identifier]]
      maxMatches: 5
errors:
  system: urn:acme:errors
  codes:
    searchCriteriaMissing: {code: ACME-1, severity: error, text: Say who, status: 422}
    tooManyResults: {code: ACME-2, text: Too many}
    noMatches: {code: ACME-3, severity: information, text: Nothing}
    notFound: {code: ACME-4, text: No such thing, status: 410}
auth:
  mode: anonymous
""")
    server = Sandbox("--clock", CLOCK, "--profiles-dir", str(profiles))
    try:
        client = Client(server.origin, base="/acme/fhir")
        page = client.search("Patient")
        assert len(page["entry"]) == 3 and "total" not in page
        # Paging, ids and identifiers in acme's own shape, from YAML alone.
        assert [link["relation"] for link in page["link"]] == ["next"]
        cursor = urllib.parse.parse_qs(urllib.parse.urlsplit(page["link"][0]["url"]).query)
        assert set(cursor) == {"cursor", "null-direction"}
        second = client.get(page["link"][0]["url"]).json()
        assert len(second["entry"]) == 3 and not {e["resource"]["id"] for e in second["entry"]} & {e["resource"]["id"] for e in page["entry"]}
        patient = page["entry"][0]["resource"]
        assert patient["id"].startswith("e") and patient["id"].endswith("3")
        assert patient["identifier"] == [{"use": "usual", "type": {"text": "CHART"}, "system": "urn:acme:chart", "value": "C-RB100001"}]
        missing = client.get("Practitioner")
        assert missing.status_code == 422
        issue = missing.json()["issue"][0]
        assert issue["details"]["coding"][0] == {"system": "urn:acme:errors", "code": "ACME-1", "display": "Say who"}
        assert client.get("Practitioner", params={"name": "Okafor"}).status_code == 200
        many = client.get("Practitioner", params={"identifier": "http://hl7.org/fhir/sid/us-npi|", "_count": 2})
        assert many.status_code == 400 and many.json()["issue"][0]["details"]["coding"][0]["code"] == "ACME-2"
        none = client.search("Practitioner", {"name": "Nobody"})
        outcome = none["entry"][0]["resource"]["issue"][0]
        assert outcome["severity"] == "information" and outcome["details"]["coding"][0]["code"] == "ACME-3"
        gone = client.get("Patient/nope")
        assert gone.status_code == 410 and gone.json()["issue"][0]["details"]["coding"][0]["code"] == "ACME-4"
        assert any("FHIR base" in line and "(no auth)" in line for line in server.lines)
    finally:
        server.stop()
    bad = tmp_path / "bad.yaml"
    for text, fragment in [
        ("search:\n  rules:\n    Patient:\n      requireOneOf: [[famly]]\n", "'famly' is not a Patient search parameter"),
        ("search:\n  rules:\n    Nonsense:\n      maxMatches: 3\n", "'Nonsense' is not a resource type"),
        ("errors:\n  codes:\n    oops: {code: X}\n", "'oops' is not an error kind"),
        ("errors:\n  codes:\n    notFound: {code: X, status: 200}\n", "400-599"),
        ("search:\n  total: sometimes\n", "accurate, page-size-when-count, none"),
    ]:
        bad.write_text("name: bad\nfhirBase: /bad\n" + text)
        linted = run("profiles", "lint", str(bad))
        assert linted.returncode != 0 and fragment in linted.stderr, linted.stderr


def test_readme_vendor_table_is_generated_from_the_profiles():
    """README's vendor-differences table is `fhir-sandbox profiles table`, not hand-maintained."""
    table = run("profiles", "table")
    assert table.returncode == 0, table.stderr
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    block = readme.split("<!-- profiles-table:begin -->\n")[1].split("\n<!-- profiles-table:end -->")[0]
    assert block == table.stdout.rstrip("\n"), "README table is stale: paste `fhir-sandbox profiles table` between the markers"
    assert "| search.rules.Patient |" in block and "| auth.tokenSeconds | `3600` | `570` | `300` | `3600` | `3600` | `3600` |" in block


def test_auth_shorthand_turns_enforcement_on(tmp_path):
    """`auth: required` in a profile (DESIGN.md's shorthand for auth.mode) requires a token."""
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    with open(os.path.join(ROOT, "Profiles", "generic.yaml")) as f:
        text = f.read()
    head = text.split("\nauth:")[0]
    (profiles / "generic.yaml").write_text(head + "\nauth: required\n")
    server = Sandbox("--clock", CLOCK, "--profiles-dir", str(profiles))
    try:
        client = Client(server.origin)
        assert client.get("Patient/pat-0001").status_code == 401
        assert client.get("metadata").status_code == 200
    finally:
        server.stop()
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nfhirBase: /bad\nauth: sometimes\n")
    linted = run("profiles", "lint", str(bad))
    assert linted.returncode != 0 and "bad.yaml:3" in linted.stderr


def test_profile_schema_matches_the_loader_and_every_profile(tmp_path):
    """Profiles/profile.schema.json (for editors) accepts every shipped profile, and at every
    mapping level lists exactly the keys the loader accepts (read from lint's 'allowed:' list)."""
    import jsonschema
    import yaml
    with open(os.path.join(ROOT, "Profiles", "profile.schema.json")) as f:
        schema = json.load(f)
    validator = jsonschema.Draft202012Validator(schema)
    for name in ("generic.yaml", "epic.yaml", "cerner.yaml"):
        with open(os.path.join(ROOT, "Profiles", name)) as f:
            errors = list(validator.iter_errors(yaml.safe_load(f)))
        assert errors == [], (name, [e.message for e in errors])
    assert list(validator.iter_errors({"name": "x", "fhirBase": "/x", "serch": {}}))

    def allowed(document):
        bad = tmp_path / "probe.yaml"
        bad.write_text(yaml.safe_dump(document))
        linted = run("profiles", "lint", str(bad))
        match = re.search(r"\(allowed: ([^)]*)\)", linted.stderr)
        assert linted.returncode != 0 and match, linted.stderr
        return set(match.group(1).split(", "))

    base = {"name": "probe", "fhirBase": "/probe/fhir"}
    properties = schema["properties"]
    levels = [
        ([], properties),
        (["search"], properties["search"]["properties"]),
        (["limits"], properties["limits"]["properties"]),
        (["resources"], properties["resources"]["properties"]),
        (["content"], properties["content"]["properties"]),
        (["writes"], properties["writes"]["properties"]),
        (["errors"], properties["errors"]["properties"]),
        (["auth"], properties["auth"]["oneOf"][1]["properties"]),
        (["otherTenants"], properties["otherTenants"]["properties"]),
        (["render"], properties["render"]["properties"]),
        (["render", "Patient"], properties["render"]["properties"]["Patient"]["properties"]),
        (["render", "Patient", "telecom"], properties["render"]["properties"]["Patient"]["properties"]["telecom"]["properties"]),
        (["otherBases", 0], properties["otherBases"]["items"]["properties"]),
        (["otherBases", 0, "resources"], properties["otherBases"]["items"]["properties"]["resources"]["properties"]),
        (["otherBases", 0, "search"], properties["otherBases"]["items"]["properties"]["search"]["properties"]),
        (["search", "rules", "Patient"], properties["search"]["properties"]["rules"]["additionalProperties"]["properties"]),
        (["errors", "codes", "notFound"], properties["errors"]["properties"]["codes"]["additionalProperties"]["properties"]),
    ]
    for path, expected in levels:
        document = dict(base)
        node = document
        for key in path:
            if key == 0:
                node["otherBases"] = [{"fhirBase": "/probe/stu3"}]
                node = node["otherBases"][0]
            elif key != "otherBases":
                node = node.setdefault(key, {})
        node["zz-not-a-key"] = 1
        if path == ["otherTenants"]:
            node["pathPrefix"] = "/probe"
        assert allowed(document) == set(expected), path
    bad = tmp_path / "kinds.yaml"
    bad.write_text("name: probe\nfhirBase: /probe\nerrors:\n  codes:\n    oops: {code: X}\n")
    linted = run("profiles", "lint", str(bad))
    known = set(re.search(r"known: ([^)]*)\)", linted.stderr).group(1).split(", "))
    assert known == set(properties["errors"]["properties"]["codes"]["propertyNames"]["enum"])


def test_tenants_are_seeded_on_their_first_request(tmp_path):
    """A mounted profile copies the seeded clinic on its first request, not at start-up: many
    simultaneous first requests all see the whole clinic (it is copied once), and a reset before
    any request leaves the tenant to be seeded later."""
    import concurrent.futures
    from test_vendor_auth import CERNER_AUTH, CERNER_BASE, backend
    server = Sandbox("--clock", CLOCK)
    try:
        assert requests.post(server.origin + "/_admin/reset", timeout=30).status_code == 200
        token = backend(server.origin + CERNER_AUTH + "/token", "system/Patient.read").json()["access_token"]

        def read(n):
            response = requests.get(f"{server.origin}{CERNER_BASE}/Patient/12724{n:04d}", timeout=60,
                                    headers={"Authorization": f"Bearer {token}"})
            return response.status_code, response.json()["id"]

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            results = list(pool.map(read, range(1, 33)))
        assert results == [(200, f"12724{n:04d}") for n in range(1, 33)]
        generic = requests.get(server.origin + "/fhir/r4/Patient?_summary=count", timeout=30).json()
        assert generic["total"] == 320
    finally:
        server.stop()
