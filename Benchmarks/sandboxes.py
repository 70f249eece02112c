"""Isolated sandboxes over HTTP (issue 12): how long creating one takes and what an idle one
costs in memory, on a release binary.

    python3 Benchmarks/sandboxes.py [--binary .build/release/fhir-sandbox] [--count 200]

Baseline, in the same run: the same admin round trip that creates nothing (GET /_admin/clock).
Creation is PUT /_admin/sandboxes/{id} with every profile. Memory: the server's RSS before,
after creating COUNT sandboxes (idle: no request yet, so no copy of the clinic), and after one
request to each of the first 20 (each copies the snapshot into its tenant)."""
import argparse
import http.client
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from bench import free_port, rss_mb, start, stop  # noqa: E402

CLOCK = "2026-04-13T08:00:00-05:00"


def timed(connection, method, path, body=None):
    started = time.perf_counter()
    connection.request(method, path, body=None if body is None else json.dumps(body),
                       headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    return (time.perf_counter() - started) * 1000, response.status


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/fhir-sandbox")
    parser.add_argument("--count", type=int, default=200)
    arguments = parser.parse_args()
    port = free_port()
    process, _ = start([arguments.binary, "serve", "--port", str(port), "--clock", CLOCK, "--max-sandboxes",
                        str(arguments.count)], "ready ")
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(20):  # warm up
            timed(connection, "GET", "/_admin/clock")
        time.sleep(1)
        before = rss_mb(process.pid)
        baseline = [timed(connection, "GET", "/_admin/clock")[0] for _ in range(arguments.count)]
        created = []
        for index in range(arguments.count):
            elapsed, status = timed(connection, "PUT", f"/_admin/sandboxes/bench-{index}")
            assert status == 201, status
            created.append(elapsed)
        time.sleep(1)
        idle = rss_mb(process.pid)
        for index in range(20):
            _, status = timed(connection, "GET", f"/sandboxes/bench-{index}/fhir/r4/Patient/pat-0001")
            assert status == 200, status
        time.sleep(1)
        used = rss_mb(process.pid)

        def line(name, samples):
            ordered = sorted(samples)
            return (f"{name:<34} median {statistics.median(ordered):6.2f} ms  p99 {ordered[int(len(ordered) * 0.99) - 1]:6.2f} ms"
                    f"  max {ordered[-1]:6.2f} ms")

        print(f"fhir-sandbox isolated sandboxes, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {os.cpu_count()} cores, "
              f"{arguments.count} sandboxes with every profile (release, one keep-alive connection)")
        print(line("baseline GET /_admin/clock", baseline))
        print(line("PUT /_admin/sandboxes/{id}", created))
        print(f"{'creation / baseline (medians)':<34} {statistics.median(created) / statistics.median(baseline):.1f}x")
        print(f"RSS: {before:.0f} MB before, {idle:.0f} MB with {arguments.count} idle sandboxes "
              f"({(idle - before) / arguments.count * 1024:.0f} KB each), {used:.0f} MB after a first request to 20 of them "
              f"({(used - idle) / 20:.1f} MB each: the copy of the clinic)")
    finally:
        stop(process)


if __name__ == "__main__":
    main()
