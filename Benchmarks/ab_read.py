"""A/B read benchmark: the same Patient reads against two release binaries (a baseline commit and
the current one), interleaved over rounds, medians reported with the ratio current/baseline,
and the server's CPU time per request with the ratio baseline/current (far steadier than
throughput on this shared machine, whose rounds move by ±15%).
For changes on the request path that should cost nothing measurable (issue 10's connection
guard, admin middleware, token-audience check, re-entrant store lock).

    python3 Benchmarks/ab_read.py --baseline DIR --current DIR [--rounds 3] [--seconds 10]
"""
import argparse
import base64
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from bench import free_port, start, stop, wrk_cpu  # noqa: E402
from soak import epic_token  # noqa: E402

CLOCK = "2026-04-13T08:00:00-05:00"


def token(origin, binary, extra=()):
    """A generic bearer token from the binary's own CLI (audience: this server's port)."""
    import subprocess
    port = origin.rsplit(":", 1)[1]
    args = [binary, "token", "--client", "sandbox-backend", "--scope", "system/Patient.rs", "--clock", CLOCK, *extra, "--port", port]
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:  # a baseline without --port: its token names port 8080, which it does not check
        out = subprocess.run(args[:-2], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def measure(directory, seconds):
    binary = os.path.join(directory, "fhir-sandbox")
    port = free_port()
    # Each binary reads the profile files and the seed of its own checkout (DIR is
    # <checkout>/.build/release): a seed or profile key the other binary lacks would stop it.
    profiles = os.path.normpath(os.path.join(directory, "..", "..", "Profiles"))
    seed = os.path.normpath(os.path.join(directory, "..", "..", "Seeds", "default"))
    extra = (["--profiles-dir", profiles] if os.path.isdir(profiles) else []) + (["--seed", seed] if os.path.isdir(seed) else [])
    process, _ = start([binary, "serve", "--port", str(port), "--clock", CLOCK] + extra, "ready ")
    origin = f"http://127.0.0.1:{port}"
    try:
        results = {"read": wrk_cpu(process.pid, origin + "/fhir/r4/Patient/pat-0010", duration=seconds)}
        results["bearer read"] = wrk_cpu(process.pid, origin + "/fhir/r4/Patient/pat-0010", duration=seconds,
                                         headers=[f"Authorization: Bearer {token(origin, binary, extra)}"])
        epic = "/epic/api/FHIR/R4/Patient/e" + base64.b64encode(b"pat-0010").decode().rstrip("=") + "3"
        results["epic read"] = wrk_cpu(process.pid, origin + epic, duration=seconds,
                                       headers=[f"Authorization: Bearer {epic_token(origin)}"])
        return results
    finally:
        stop(process)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", required=True)
    parser.add_argument("--current", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    arguments = parser.parse_args()
    runs = {"baseline": [], "current": []}
    for _ in range(arguments.rounds):
        for name in ("baseline", "current"):
            runs[name].append(measure(getattr(arguments, name), arguments.seconds))
    print(f"fhir-sandbox A/B reads, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {os.cpu_count()} cores, "
          f"{arguments.rounds} interleaved rounds of {arguments.seconds} s, wrk 64 connections; medians")
    print(f"{'scenario':<12} {'baseline req/s':>15} {'current req/s':>14} {'ratio':>6} {'baseline p99':>13} {'current p99':>12}"
          f" {'CPU/req base':>13} {'current':>8} {'ratio':>6}")
    for scenario in runs["baseline"][0]:
        base = [run[scenario] for run in runs["baseline"]]
        current = [run[scenario] for run in runs["current"]]
        b_rps, c_rps = statistics.median(r["rps"] for r in base), statistics.median(r["rps"] for r in current)
        b_p99, c_p99 = statistics.median(r["p99"] for r in base), statistics.median(r["p99"] for r in current)
        b_cpu, c_cpu = statistics.median(r["cpu_us"] for r in base), statistics.median(r["cpu_us"] for r in current)
        print(f"{scenario:<12} {b_rps:>15.0f} {c_rps:>14.0f} {c_rps / b_rps:>6.2f} {b_p99:>11.2f}ms {c_p99:>10.2f}ms"
              f" {b_cpu:>11.1f}us {c_cpu:>6.1f}us {b_cpu / c_cpu:>6.2f}")
        print(f"{'':<12} rounds: baseline {[round(r['rps']) for r in base]}, current {[round(r['rps']) for r in current]}")


if __name__ == "__main__":
    main()
