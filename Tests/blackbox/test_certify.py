"""`fhir-sandbox certify` with the scheduling kit (issue 17, in part): the reference client passes
every scenario on every profile it speaks (generic, cerner, epic, athena, ecw); the naive client fails exactly
the checks it should, with the check's message and the journal lines that prove it; the JUnit
report parses with junitparser, the JSON report says the same, the HTML report is one
self-contained page."""
import json
import os
import re
import shutil
import subprocess
import sys

import jsonschema
import junitparser
import pytest
import yaml

from conftest import BIN
from fhirvalidation import ROOT

CLIENTS = os.path.join(ROOT, "Tests", "certification")
KIT = os.path.join(ROOT, "Profiles", "certification", "scheduling.yaml")
SCENARIOS = ["book-verified", "slot-taken", "throttled", "token-expires", "outage"]
# What the naive client gets wrong, scenario by scenario (Tests/certification/naive_client.py).
NAIVE_FAILS = {
    "book-verified": {"verified-before-phi", "token-reused", "writes-valid", "note-written"},
    "slot-taken": {"booked-once", "no-retry-storm", "booked-as-asked"},
    "throttled": {"honours-retry-after"},
    "token-expires": {"token-reused"},
    "outage": {"outage-recovered", "booked-once"},
}


def certify(tmp_path, profile, client, *extra):
    reports = {kind: str(tmp_path / f"report.{kind}") for kind in ("xml", "html", "json")}
    command = [BIN, "certify", "--kit", "scheduling", "--profile", profile, "--junit", reports["xml"], "--html", reports["html"],
               "--json", reports["json"], *extra, "--", sys.executable, os.path.join(CLIENTS, client)]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    with open(reports["json"]) as f:
        report = json.load(f)
    return run, report, reports


def failed_checks(report):
    return {s["id"]: {c["id"] for c in s["checks"] if not c["passed"]} for s in report["scenarios"]}


def test_the_kit_matches_its_schema_and_lists_its_scenarios():
    with open(os.path.join(ROOT, "Profiles", "certification", "kit.schema.json")) as f:
        schema = json.load(f)
    with open(KIT) as f:
        jsonschema.validate(yaml.safe_load(f), schema)
    listed = subprocess.run([BIN, "certify", "--list"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()] == SCENARIOS


def test_bad_invocations_say_what_is_wrong(tmp_path):
    for arguments, expected in ((["--profile", "generic"], "--"), (["--profile", "generic", "--scenario", "nope", "--", "true"], "nope"),
                                (["--kit", "nope", "--list"], "no kit 'nope'"), (["--", "true"], "--profile")):
        run = subprocess.run([BIN, "certify", *arguments], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert run.returncode != 0 and expected in run.stderr, (arguments, run.stderr)
    broken = tmp_path / "profiles"
    (broken / "certification").mkdir(parents=True)
    for name in os.listdir(os.path.join(ROOT, "Profiles")):
        if name.endswith(".yaml"):
            (broken / name).write_text(open(os.path.join(ROOT, "Profiles", name)).read())
    (broken / "certification" / "odd.yaml").write_text(
        "kit: odd\nscenarios:\n  - id: one\n    title: x\n    task: {}\n    checks:\n      - {id: c, kind: booked-twice, message: m}\n")
    run = subprocess.run([BIN, "certify", "--profiles-dir", str(broken), "--kit", "odd", "--list"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode != 0 and "odd.yaml:7" in run.stderr and "booked-twice" in run.stderr, run.stderr


@pytest.mark.parametrize("profile", ["generic", "cerner", "epic", "athena", "ecw"])
def test_the_reference_client_passes_every_scenario(tmp_path, profile):
    run, report, reports = certify(tmp_path, profile, "reference_client.py")
    assert run.returncode == 0, run.stdout + run.stderr
    assert report["passed"] and [s["id"] for s in report["scenarios"]] == SCENARIOS
    # eClinicalWorks' facade is read-only: no call note can be written (a recommended check).
    expected = {scenario: set() for scenario in SCENARIOS}
    if profile == "ecw":
        expected["book-verified"] = {"note-written"}
    assert failed_checks(report) == expected, json.dumps(report, indent=1)[:4000]
    xml = junitparser.JUnitXml.fromfile(reports["xml"])
    suites = list(xml)
    assert [suite.name for suite in suites] == [f"scheduling.{profile}.{s}" for s in SCENARIOS]
    assert sum(suite.tests for suite in suites) == sum(len(s["checks"]) for s in report["scenarios"])
    assert {case.name for suite in suites for case in suite if not case.is_passed} == set().union(*expected.values())
    assert "5 of 5 scenarios passed" in run.stdout


@pytest.mark.parametrize("profile", ["generic", "cerner", "ecw"])
def test_the_naive_client_fails_exactly_the_checks_it_should(tmp_path, profile):
    run, report, reports = certify(tmp_path, profile, "naive_client.py")
    assert run.returncode == 1, run.stdout + run.stderr
    assert failed_checks(report) == NAIVE_FAILS, json.dumps(report, indent=1)[:6000]
    for scenario in report["scenarios"]:
        for check in scenario["checks"]:
            if not check["passed"] and check["id"] != "note-written":
                assert check["message"] and check["detail"] and check["evidence"], check
                assert all(re.match(r"#\d+ [A-Z]+ /sandboxes/certify-", line) for line in check["evidence"]), check
    # A recommended check that fails does not fail the scenario on its own.
    verified = next(s for s in report["scenarios"] if s["id"] == "book-verified")
    assert next(c for c in verified["checks"] if c["id"] == "note-written")["severity"] == "recommended"
    # JUnit: one testcase per check, a failure per failed check with the check's message and
    # the requests that show it.
    xml = junitparser.JUnitXml.fromfile(reports["xml"])
    failures = {}
    for suite in xml:
        for case in suite:
            if not case.is_passed:
                result = case.result[0]
                assert isinstance(result, junitparser.Failure)
                # (No note written means no request to quote.)
                assert result.message and ("→" in (result.text or "") or case.name == "note-written")
                failures.setdefault(suite.name.split(".")[-1], set()).add(case.name)
    assert failures == NAIVE_FAILS
    # The summary names each failed check and what was found.
    assert "FAIL  slot-taken" in run.stdout and "no-retry-storm:" in run.stdout
    # The HTML report: self-contained (no script, stylesheet or image from elsewhere), every
    # scenario listed with its verdict, every request of the run in the timeline.
    with open(reports["html"]) as f:
        page = f.read()
    assert not re.search(r"""(src|href)=["']https?:""", page) and "<script" not in page
    listed = re.findall(r'<li><a href="#([\w-]+)">', page)
    assert listed == SCENARIOS
    slot_taken = next(s for s in report["scenarios"] if s["id"] == "slot-taken")
    for line in slot_taken["requests"][:5]:
        assert line.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;") in page or line in page


def test_a_client_outside_is_certified_through_the_admin_api(tmp_path):
    """POST /_admin/certifications hands a client that cannot be wrapped in a command (a voice
    platform elsewhere) its scenario sandbox's URLs, credentials and task; POST .../finish runs
    the checks and answers the report, with the HTML and JUnit reports linked; runs are listed;
    a run finishes once; bad requests name the field."""
    import requests

    from conftest import CLOCK, Sandbox

    server = Sandbox("--clock", CLOCK, "--profiles", "generic,cerner,ecw")
    try:
        admin = server.origin + "/_admin/certifications"
        started = requests.post(admin, json={"profile": "cerner", "scenario": "slot-taken"})
        assert started.status_code == 201, started.text
        run = started.json()
        assert run["state"] == "running" and run["kit"] == "scheduling" and run["task"]["visitType"] == "FOLLOW_UP"
        cerner = run["sandbox"]["profiles"]["cerner"]
        assert cerner["fhirBase"] == run["environment"]["FHIR_BASE_URL"] and "/sandboxes/" + run["id"] + "/" in cerner["fhirBase"]
        assert run["credentials"]["clientId"] == "sandbox-secret" and run["finish"].endswith(f"/{run['id']}/finish")
        client = subprocess.run([sys.executable, os.path.join(CLIENTS, "reference_client.py")], env={**os.environ, **run["environment"]},
                                capture_output=True, text=True, timeout=120)
        assert client.returncode == 0, client.stdout + client.stderr
        finished = requests.post(run["finish"])
        assert finished.status_code == 200, finished.text
        body = finished.json()
        assert body["state"] == "finished" and body["passed"] is True
        checks = body["report"]["scenarios"][0]["checks"]
        assert {c["id"] for c in checks} == {"booked-once", "no-retry-storm", "booked-as-asked"} and all(c["passed"] for c in checks)
        assert any("409 [slot-taken]" in line for line in body["report"]["scenarios"][0]["requests"])
        html = requests.get(body["links"]["html"])
        assert html.status_code == 200 and html.headers["Content-Type"].startswith("text/html") and "slot-taken" in html.text
        junit = requests.get(body["links"]["junit"])
        assert junit.status_code == 200
        parsed = junitparser.JUnitXml.fromstring(junit.text)
        assert [suite.name for suite in parsed] == ["scheduling.cerner.slot-taken"]
        listed = requests.get(admin).json()
        assert [(r["id"], r["state"], r["passed"]) for r in listed] == [(run["id"], "finished", True)]
        assert requests.get(f"{admin}/{run['id']}").json()["report"]["passed"] is True
        assert requests.post(run["finish"]).status_code == 409
        # The run's sandbox is gone once finished.
        assert requests.get(cerner["fhirBase"] + "/metadata").status_code == 404
        for bad, field in (({"profile": "cerner"}, "scenario"), ({"profile": "cerner", "scenario": "nope"}, "scenario"),
                           ({"profile": "nextgen", "scenario": "slot-taken"}, "profile"), ({"profile": "cerner", "scenario": "outage", "x": 1}, "x"),
                           ({"kit": "nope", "profile": "cerner", "scenario": "outage"}, "kit")):
            refused = requests.post(admin, json=bad)
            assert refused.status_code == 400 and refused.json()["field"] == field, (bad, refused.text)
        assert requests.post(f"{admin}/cert-999/finish").status_code == 404
        assert requests.get(f"{admin}/cert-999/report.html").status_code == 404
        # The recipe the README's CI jobs and docker/compose.yaml use.
        recipe = subprocess.run([sys.executable, os.path.join(CLIENTS, "certify_over_api.py"), "--profile", "generic",
                                 "--junit-dir", str(tmp_path / "junit"), "book-verified", "throttled"],
                                env={**os.environ, "SANDBOX": server.origin}, capture_output=True, text=True, timeout=300)
        assert recipe.returncode == 0, recipe.stdout + recipe.stderr
        assert recipe.stdout.count("pass  ") == 2
        assert sorted(os.listdir(tmp_path / "junit")) == ["generic-book-verified.xml", "generic-throttled.xml"]
        # Not part of an isolated sandbox's own admin API.
        assert requests.get(server.origin + "/sandboxes/x/_admin/certifications").status_code == 404
    finally:
        server.stop()


def test_the_html_report_in_a_real_browser(tmp_path):
    """The HTML report in headless Chromium (Debian's chromium and chromium-driver) at 1280x800:
    the scenario list with each verdict, the failed checks' advice, and no resource loaded from
    anywhere (the page is self-contained). FHIR_SANDBOX_SCREENSHOTS=DIR keeps a screenshot
    (docs/certification/report.png is one)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    run, report, reports = certify(tmp_path, "generic", "naive_client.py")
    assert run.returncode == 1
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,800", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
    try:
        driver.get("file://" + reports["html"])
        listed = driver.find_elements(By.CSS_SELECTOR, "#scenarios li")
        assert [item.find_element(By.TAG_NAME, "a").text for item in listed] == SCENARIOS
        assert all("fail" in item.text for item in listed)
        slot_taken = driver.find_element(By.ID, "slot-taken")
        assert "A 409 means the slot is gone" in slot_taken.text
        assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
        keep = os.environ.get("FHIR_SANDBOX_SCREENSHOTS")
        if keep:
            os.makedirs(keep, exist_ok=True)
            driver.save_screenshot(os.path.join(keep, "report.png"))
    finally:
        driver.quit()
