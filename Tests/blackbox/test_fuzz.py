"""The seeded HTTP fuzzer (fuzz.py) against a fresh sandbox with every profile mounted:
FHIR_SANDBOX_FUZZ_REQUESTS requests (20,000 by default) over every base, OAuth endpoint, the
admin API and random paths. No 5xx, no dropped or hung request, every FHIR JSON body parses,
and the server is alive and answering at the end."""
import os
import time

import requests

from conftest import CLOCK, Sandbox
from fuzz import Fuzzer


def test_fuzz_every_profile_without_a_5xx_a_crash_or_a_hang():
    server = Sandbox("--clock", CLOCK)
    try:
        total = int(os.environ.get("FHIR_SANDBOX_FUZZ_REQUESTS", "20000"))
        seed = int(os.environ.get("FHIR_SANDBOX_FUZZ_SEED", "1"))
        fuzzer = Fuzzer(server.origin, seed)
        started = time.time()
        failures = fuzzer.run(total)
        print(f"fuzz: {fuzzer.count} requests in {time.time() - started:.0f} s, statuses {dict(sorted(fuzzer.statuses.items()))}")
        assert not failures, "\n".join(failures[:10])
        assert fuzzer.count >= total * 0.95, fuzzer.count
        assert server.process.poll() is None, "the server died"
        assert requests.get(server.origin + "/_health", timeout=10).status_code == 200
    finally:
        server.stop()
