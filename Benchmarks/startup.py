#!/usr/bin/env python3
"""Start-up and idle memory with every profile mounted, against baselines measured in the same
run (issue 16: "start-up with all six stays within the README's figure, idle memory reported").

    swift build -c release --product fhir-sandbox && swift build -c release --product bench-ceiling
    python3 Benchmarks/startup.py --bin .build/release [--rounds 9] [--out Benchmarks/results/startup-DATE.txt]

Per round, interleaved: a cold start of the default server (every profile), of `--profiles
generic` alone, and of `bench-ceiling` (a bare Hummingbird route: the framework's floor), each
timed from exec to its ready line; after 2 s idle its RSS; then, on the default server, the RSS
after one request per profile (each tenant copies the clinic on its first request). Medians, with
each figure's ratio to its baseline. Standard library only."""
import argparse
import json
import os
import statistics
import tempfile
import time
import urllib.request

from bench import CLOCK, free_port, rss_mb, start, stop



def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--out")
    options = parser.parse_args()
    sandbox = os.path.join(options.bin, "fhir-sandbox")
    report = []

    def say(text=""):
        report.append(text)
        print(text, flush=True)

    patient = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    patient.write('{"resourceType": "Patient", "id": "pat-0010"}')
    patient.close()
    figures = {name: [] for name in ("all", "generic", "ceiling", "all-rss", "generic-rss", "ceiling-rss", "touched-rss")}
    profiles = []
    for _ in range(options.rounds):
        port = free_port()
        process, elapsed = start([sandbox, "--port", str(port), "--clock", CLOCK], "ready ")
        figures["all"].append(elapsed)
        time.sleep(2)
        figures["all-rss"].append(rss_mb(process.pid))
        index = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/").read())
        profiles = [p["name"] for p in index["profiles"]]
        # Each tenant is seeded on its first request: read every profile's metadata once.
        for entry in index["profiles"]:
            urllib.request.urlopen(entry["metadata"]).read()
        time.sleep(1)
        figures["touched-rss"].append(rss_mb(process.pid))
        stop(process)

        process, elapsed = start([sandbox, "--port", "0", "--clock", CLOCK, "--profiles", "generic"], "ready ")
        figures["generic"].append(elapsed)
        time.sleep(2)
        figures["generic-rss"].append(rss_mb(process.pid))
        stop(process)

        port = free_port()
        process, elapsed = start([os.path.join(options.bin, "bench-ceiling"), patient.name, str(port)], "ready")
        figures["ceiling"].append(elapsed)
        time.sleep(2)
        figures["ceiling-rss"].append(rss_mb(process.pid))
        stop(process)

    median = {name: statistics.median(values) for name, values in figures.items()}
    spread = {name: (min(values), max(values)) for name, values in figures.items()}
    say(f"fhir-sandbox start-up and idle memory, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    say(f"machine: {os.cpu_count()} cores; release build; {options.rounds} interleaved rounds, medians (min–max)")
    say(f"profiles mounted by default ({len(profiles)}): {', '.join(profiles)}")
    say()
    say(f"start-up to ready, every profile:    {median['all']:6.0f} ms ({spread['all'][0]:.0f}–{spread['all'][1]:.0f}); "
        f"{median['all'] / median['generic']:.2f}× generic alone, {median['all'] / median['ceiling']:.1f}× bench-ceiling")
    say(f"start-up to ready, generic alone:    {median['generic']:6.0f} ms ({spread['generic'][0]:.0f}–{spread['generic'][1]:.0f})")
    say(f"start-up to ready, bench-ceiling:    {median['ceiling']:6.0f} ms ({spread['ceiling'][0]:.0f}–{spread['ceiling'][1]:.0f})")
    say(f"idle RSS, every profile:             {median['all-rss']:6.1f} MB ({spread['all-rss'][0]:.1f}–{spread['all-rss'][1]:.1f}); "
        f"{median['all-rss'] / median['generic-rss']:.2f}× generic alone, {median['all-rss'] / median['ceiling-rss']:.2f}× bench-ceiling")
    say(f"idle RSS, generic alone:             {median['generic-rss']:6.1f} MB")
    say(f"idle RSS, bench-ceiling:             {median['ceiling-rss']:6.1f} MB")
    say(f"RSS after one request per profile:   {median['touched-rss']:6.1f} MB "
        f"(+{median['touched-rss'] - median['all-rss']:.1f} MB: {len(profiles)} tenants seeded, "
        f"{(median['touched-rss'] - median['all-rss']) / len(profiles):.1f} MB each)")
    os.unlink(patient.name)
    if options.out:
        with open(options.out, "w") as f:
            f.write("\n".join(report) + "\n")


if __name__ == "__main__":
    main()
