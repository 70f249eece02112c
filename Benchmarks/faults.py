"""Fault rules on the read path (issue 12): FHIR read throughput with no rule, 1 and 100 armed
rules that do not match the reads, on one release binary, scenarios interleaved over rounds
(the baseline, no rules, is measured in the same run). Target: within 5% of no rules.

    python3 Benchmarks/faults.py [--binary .build/release/fhir-sandbox] [--rounds 7] [--seconds 6]

The non-matching rules are a realistic mix: a third name another profile, a third another
resource type and operation, a third a path glob the reads do not match (the slowest to reject).
With no rule armed a request skips test control with three atomic loads; with rules it is
classified (type, interaction, client) and screened against each rule outside the sandbox's lock.

Besides throughput (which moves by ±15% between rounds on this shared machine), it reports the
server's CPU time per request (user + system, from /proc, over each wrk run): the cost of the
rules themselves, far less noisy."""
import argparse
import json
import os
import statistics
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from bench import EPIC_PATIENT, CONNECTIONS, free_port, start, stop, wrk, wrk_cpu  # noqa: E402
from ab_read import token  # noqa: E402
from soak import epic_token  # noqa: E402

CLOCK = "2026-04-13T08:00:00-05:00"
KINDS = tuple(int(k) for k in os.environ.get("FAULT_KINDS", "0,1,2").split(","))


def admin(origin, method, path, body=None):
    request = urllib.request.Request(origin + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def rules(count, kinds=(0, 1, 2)):
    made = []
    for index in range(count):
        kind = kinds[index % len(kinds)]
        if kind == 0:
            match = {"profile": "cerner", "resourceType": "Patient"}
        elif kind == 1:
            match = {"resourceType": "Appointment", "operation": "$book"}
        else:
            match = {"path": f"*/Slot/{index}*"}
        made.append({"match": match, "action": {"type": "error", "status": 503}})
    return made


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/fhir-sandbox")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=int, default=6)
    arguments = parser.parse_args()
    port = free_port()
    process, _ = start([arguments.binary, "serve", "--port", str(port), "--clock", CLOCK], "ready ")
    origin = f"http://127.0.0.1:{port}"
    try:
        targets = {
            "generic bearer read": (origin + "/fhir/r4/Patient/pat-0010",
                                    [f"Authorization: Bearer {token(origin, arguments.binary)}"]),
            "epic read": (origin + EPIC_PATIENT, [f"Authorization: Bearer {epic_token(origin)}"]),
        }
        scenarios = {"no rules": 0, "1 rule": 1, "100 rules": 100}
        results = {(target, scenario): [] for target in targets for scenario in scenarios}
        for url, headers in targets.values():
            wrk(url, duration=2, headers=headers)  # warm up
        for _ in range(arguments.rounds):
            for scenario, count in scenarios.items():
                assert admin(origin, "DELETE", "/_admin/faults") == 200
                for rule in rules(count, KINDS):
                    assert admin(origin, "POST", "/_admin/faults", rule) == 201
                for target, (url, headers) in targets.items():
                    run = wrk_cpu(process.pid, url, duration=arguments.seconds, headers=headers)
                    assert run["non2xx"] == 0, run
                    results[(target, scenario)].append(run)
        print(f"fhir-sandbox fault rules on reads, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {os.cpu_count()} cores, "
              f"{arguments.rounds} interleaved rounds of {arguments.seconds} s, wrk {CONNECTIONS} connections; medians "
              "(release build, one server, rules armed through the admin API between scenarios)")
        print(f"{'target':<22}{'scenario':<12}{'req/s':>9}{'vs none':>9}{'p99':>10}{'CPU/req':>10}{'vs none':>9}   rounds (req/s)")
        for target in targets:
            base = statistics.median(run["rps"] for run in results[(target, "no rules")])
            base_cpu = statistics.median(run["cpu_us"] for run in results[(target, "no rules")])
            for scenario in scenarios:
                runs = results[(target, scenario)]
                rps = statistics.median(run["rps"] for run in runs)
                p99 = statistics.median(run["p99"] for run in runs)
                cpu = statistics.median(run["cpu_us"] for run in runs)
                print(f"{target:<22}{scenario:<12}{rps:>9.0f}{rps / base:>9.2f}{p99:>8.2f}ms{cpu:>8.1f}us{base_cpu / cpu:>9.2f}   "
                      f"{[round(run['rps']) for run in runs]}")
        print("vs none: throughput ratio; for CPU, no-rules CPU per request / this scenario's (1.00 = same cost)")
    finally:
        stop(process)


if __name__ == "__main__":
    main()
