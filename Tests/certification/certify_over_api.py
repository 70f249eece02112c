#!/usr/bin/env python3
"""Certify the reference client over the admin API, the way a client that cannot be wrapped in
`fhir-sandbox certify` is certified (docker/compose.yaml's client service; README: Certify a
client). For each scenario given (default: all of the scheduling kit's for the profile): start a
run, run reference_client.py against the sandbox it names, finish, print the verdicts; exit 1
when a required check failed.

    SANDBOX=http://127.0.0.1:8080 ADMIN_TOKEN=... python3 certify_over_api.py [--profile cerner] [--junit-dir DIR] [SCENARIO ...]"""
import argparse
import os
import subprocess
import sys

import requests

SCENARIOS = ["book-verified", "slot-taken", "throttled", "token-expires", "outage"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", default="generic")
    parser.add_argument("--junit-dir", help="save each run's JUnit report here (for CI test-report steps)")
    parser.add_argument("scenarios", nargs="*", default=SCENARIOS)
    options = parser.parse_args()
    sandbox = os.environ.get("SANDBOX", "http://127.0.0.1:8080")
    headers = {"Authorization": f"Bearer {os.environ['ADMIN_TOKEN']}"} if os.environ.get("ADMIN_TOKEN") else {}
    failed = False
    for scenario in options.scenarios:
        started = requests.post(f"{sandbox}/_admin/certifications", json={"profile": options.profile, "scenario": scenario},
                                headers=headers, timeout=30)
        started.raise_for_status()
        run = started.json()
        client = subprocess.run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference_client.py")],
                                env={**os.environ, **run["environment"]}, timeout=run["timeoutSeconds"])
        finished = requests.post(run["finish"], headers=headers, timeout=30).json()
        if options.junit_dir:
            os.makedirs(options.junit_dir, exist_ok=True)
            junit = requests.get(finished["links"]["junit"], headers=headers, timeout=30)
            with open(os.path.join(options.junit_dir, f"{options.profile}-{scenario}.xml"), "w") as f:
                f.write(junit.text)
        verdict = "pass" if finished["passed"] else "FAIL"
        print(f"{verdict}  {scenario} (client exit {client.returncode}; report {finished['links']['html']})")
        for check in finished["report"]["scenarios"][0]["checks"]:
            if not check["passed"]:
                print(f"      {check['id']}: {check['detail']}")
        failed = failed or not finished["passed"]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
