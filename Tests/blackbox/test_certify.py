"""`fhir-sandbox certify` with the scheduling kit (issue 17, in part): the reference client passes
every scenario on every profile it speaks (generic, cerner, epic); the naive client fails exactly
the checks it should, with the check's message and the journal lines that prove it; the JUnit
report parses with junitparser, the JSON report says the same, the HTML report is one
self-contained page."""
import json
import os
import re
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


@pytest.mark.parametrize("profile", ["generic", "cerner", "epic"])
def test_the_reference_client_passes_every_scenario(tmp_path, profile):
    run, report, reports = certify(tmp_path, profile, "reference_client.py")
    assert run.returncode == 0, run.stdout + run.stderr
    assert report["passed"] and [s["id"] for s in report["scenarios"]] == SCENARIOS
    assert failed_checks(report) == {scenario: set() for scenario in SCENARIOS}, json.dumps(report, indent=1)[:4000]
    xml = junitparser.JUnitXml.fromfile(reports["xml"])
    suites = list(xml)
    assert [suite.name for suite in suites] == [f"scheduling.{profile}.{s}" for s in SCENARIOS]
    assert sum(suite.tests for suite in suites) == sum(len(s["checks"]) for s in report["scenarios"])
    assert all(case.is_passed for suite in suites for case in suite)
    assert "5 of 5 scenarios passed" in run.stdout


@pytest.mark.parametrize("profile", ["generic", "cerner"])
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
