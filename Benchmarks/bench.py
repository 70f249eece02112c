#!/usr/bin/env python3
"""Drives the benchmark (see run.sh). Standard library only."""
import argparse
import concurrent.futures
import json
import os
import re
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

CONNECTIONS = 64
THREADS = 2
DURATION = 10
PATIENT = "/fhir/r4/Patient/pat-0010"
SEARCH = "/fhir/r4/Patient?family=garcia"
CLOCK = "2026-04-13T08:00:00-05:00"
ROUNDS = 3
SLOTS = "/fhir/r4/Slot?schedule.actor=Practitioner/pract-okafor&start=ge2026-04-20&start=lt2026-04-27&status=free"
FIND = "/fhir/r4/Appointment/$find?start=2026-04-20&end=2026-04-27&visit-type=FOLLOW_UP&_count=10"
NAMES = ["nginx static Patient (machine ceiling)", "bench-ceiling Patient (framework ceiling)", "sandbox Patient read by id",
         "sandbox Patient search family=garcia", "sandbox Slot search, 1 practitioner, 1 week",
         "sandbox Appointment/$find, 1 week, FOLLOW_UP", "sandbox Patient read, bearer token",
         "epic Patient read (ids, rendering, token)", "cerner Patient read (ids, rendering, token)"]
# pat-0010 as each vendor shows it (Profiles/epic.yaml, Profiles/cerner.yaml ids).
EPIC_PATIENT = "/epic/api/FHIR/R4/Patient/ecGF0LTAwMTA3"
CERNER_PATIENT = "/cerner/r4/ec2458f2-1e24-41c8-b71b-0e701af7583d/Patient/127240010"
CERNER_TOKEN = "/cerner/tenants/ec2458f2-1e24-41c8-b71b-0e701af7583d/protocols/oauth2/profiles/smart-v1/token"
ASSERTIONS = 60000


def median_run(runs):
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid):
    """User + system CPU time a process has used, in seconds (from /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk_cpu(pid, url, duration=DURATION, headers=()):
    """`wrk`, plus the server's CPU time per request in microseconds (`cpu_us`): far steadier
    than throughput on a shared machine, where rounds move by ±15%."""
    used = cpu_seconds(pid)
    run = wrk(url, duration=duration, headers=headers)
    run["cpu_us"] = (cpu_seconds(pid) - used) * 1e6 / max(run["requests"], 1)
    return run


def wrk(url, script=None, duration=DURATION, headers=()):
    args = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}s", "--latency", url]
    for header in headers:
        args[1:1] = ["-H", header]
    if script:
        args[1:1] = ["-s", script]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def latency(p):
        match = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests_done = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50": latency(50), "p99": latency(99), "non2xx": int(errors.group(1)) if errors else 0,
            "requests": requests_done}


def start(args, ready):
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while True:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"{args[0]} exited: {process.stderr.read()}")
        if ready in line:
            return process, (time.perf_counter() - started) * 1000


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


RACES = 20
RACERS = 60


def line_per_request(script, lines, path, content_type, body):
    """Writes a wrk script that POSTs to `path` with each request using the next line of the
    file `lines` (threads interleave; the last line repeats once they run out). `body` is a Lua
    expression over `line`. Returns the script's path."""
    with open(script, "w") as f:
        f.write(f"""local count = 0
function setup(thread) thread:set("tid", count); count = count + 1 end
function init(args)
  items = {{}}
  for item in io.lines("{lines}") do if #item > 0 then items[#items + 1] = item end end
  n = 0
end
function request()
  n = n + 1
  local i = tid + (n - 1) * {THREADS} + 1
  if i > #items then i = #items end
  local line = items[i]
  return wrk.format("POST", "{path}", {{["Content-Type"] = "{content_type}"}}, {body})
end
""")
    return script


def post(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/fhir+json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, None


def parameters(**values):
    return {"resourceType": "Parameters", "parameter": [
        {"name": name.replace("_", "-"), "valueString": value} for name, value in values.items()]}


def contended_race(fhir, slots):
    """RACERS clients at once on one free slot, RACES times: a third POST Appointment, a third
    $hold a fresh $find proposal for the slot, a third $book one. Exactly one may win."""
    winners, conflicts, losers, other, durations = [], 0, 0, {}, []
    pool = concurrent.futures.ThreadPoolExecutor(RACERS)
    raced = 0
    for slot_id in slots:
        if raced == RACES:
            break
        slot = json.loads(urllib.request.urlopen(f"{fhir}/Slot/{slot_id}").read())
        if slot["status"] != "free":
            continue
        practitioner = json.loads(urllib.request.urlopen(f"{fhir}/Schedule/{slot['schedule']['reference'].split('/')[1]}").read())
        actor = practitioner["actor"][0]["reference"]
        query = urllib.parse.urlencode({"start": slot["start"], "end": slot["end"], "practitioner": actor, "_count": 1})
        proposals = []
        for _ in range(2 * RACERS // 3):
            bundle = json.loads(urllib.request.urlopen(f"{fhir}/Appointment/$find?{query}").read())
            proposals += [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]
        if len(proposals) < 2 * RACERS // 3 or any(p["slot"][0]["reference"] != f"Slot/{slot_id}" for p in proposals):
            continue
        barrier = threading.Barrier(RACERS)

        def attempt(n):
            barrier.wait()
            if n < RACERS // 3:
                return post(f"{fhir}/Appointment", {
                    "resourceType": "Appointment", "status": "booked", "slot": [{"reference": f"Slot/{slot_id}"}],
                    "participant": [{"actor": {"reference": f"Patient/pat-{n + 10:04d}"}, "status": "accepted"}]})[0]
            proposal = proposals[n - RACERS // 3]
            if n < 2 * RACERS // 3:
                return post(f"{fhir}/Appointment/$hold", parameters(appt_id=proposal["id"]))[0]
            return post(f"{fhir}/Appointment/$book", parameters(appt_id=proposal["id"], patient_id=f"Patient/pat-{n + 10:04d}"))[0]

        started = time.perf_counter()
        codes = list(pool.map(attempt, range(RACERS)))
        durations.append((time.perf_counter() - started) * 1000)
        won = sum(code in (200, 201) for code in codes)
        winners.append(won)
        losers += RACERS - won
        conflicts += codes.count(409)
        for code in codes:
            if code not in (200, 201, 409):
                other[code] = other.get(code, 0) + 1
        raced += 1
    pool.shutdown()
    spread = f"{min(winners)}..{max(winners)}" if winners else "n/a"
    return {"slots": raced, "winners": spread, "conflicts": conflicts, "losers": losers, "other": other,
            "median_ms": statistics.median(durations) if durations else float("nan")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    options = parser.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    report = []

    def say(text=""):
        report.append(text)
        print(text, flush=True)

    say(f"fhir-sandbox benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    say(f"machine: {os.cpu_count()} cores; wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}s on loopback; release builds")
    say(f"read/search and both ceilings: median of {ROUNDS} interleaved rounds; create: one run")
    say()

    # Start-up: median of 5 cold starts to the ready line, with every profile (the default) and
    # with generic alone (each mounted profile is a tenant: a full copy of the clinic).
    startups, generic_startups, generic_rss = [], [], 0.0
    for _ in range(5):
        process, elapsed = start([os.path.join(options.bin, "fhir-sandbox"), "--port", "0", "--clock", CLOCK], "ready ")
        startups.append(elapsed)
        stop(process)
        process, elapsed = start([os.path.join(options.bin, "fhir-sandbox"), "--port", "0", "--clock", CLOCK, "--profiles", "generic"],
                                 "ready ")
        generic_startups.append(elapsed)
        time.sleep(1)
        generic_rss = rss_mb(process.pid)
        stop(process)

    port = free_port()
    sandbox, _ = start([os.path.join(options.bin, "fhir-sandbox"), "--port", str(port), "--clock", CLOCK], "ready ")
    base = f"http://127.0.0.1:{port}"
    time.sleep(1)
    idle_rss = rss_mb(sandbox.pid)
    patient = urllib.request.urlopen(base + PATIENT).read()
    tenants = len(json.loads(urllib.request.urlopen(base + "/").read())["profiles"])

    # Scheduling runs on the default clinic scaled to 29 practitioners (scale-seed.py).
    work = tempfile.mkdtemp()
    scaled_seed = os.path.join(work, "scaled-seed")
    subprocess.run(["python3", os.path.join(root, "Benchmarks", "scale-seed.py"), os.path.join(root, "Seeds", "default"), scaled_seed],
                   check=True)
    scaled_port = free_port()
    scaled, scaled_startup = start([os.path.join(options.bin, "fhir-sandbox"), "--port", str(scaled_port), "--clock", CLOCK,
                                    "--seed", scaled_seed], "ready ")
    scaled_base = f"http://127.0.0.1:{scaled_port}"
    scaled_slots = json.loads(urllib.request.urlopen(scaled_base + "/fhir/r4/Slot?_summary=count").read())["total"]
    scaled_practitioners = json.loads(urllib.request.urlopen(scaled_base + "/fhir/r4/Practitioner?_summary=count").read())["total"]
    time.sleep(1)
    scaled_rss = rss_mb(scaled.pid)

    # Ceilings serve the same Patient bytes.
    os.chmod(work, 0o755)  # nginx workers run as www-data
    target = os.path.join(work, PATIENT.lstrip("/"))
    os.makedirs(os.path.dirname(target), mode=0o755)
    with open(target, "wb") as f:
        f.write(patient)
    for directory, _, files in os.walk(work):
        os.chmod(directory, 0o755)
        for name in files:
            os.chmod(os.path.join(directory, name), 0o644)
    nginx_port = free_port()
    with open(os.path.join(work, "nginx.conf"), "w") as f:
        f.write(f"""worker_processes auto; daemon off; pid {work}/nginx.pid; error_log stderr warn;
events {{ worker_connections 4096; }}
http {{ access_log off; server {{ listen 127.0.0.1:{nginx_port}; location / {{ root {work}; default_type application/fhir+json; }} }} }}
""")
    nginx = subprocess.Popen(["nginx", "-c", os.path.join(work, "nginx.conf"), "-p", work], stderr=subprocess.PIPE)
    time.sleep(0.5)
    ceiling_port = free_port()
    ceiling, _ = start([os.path.join(options.bin, "bench-ceiling"), target, str(ceiling_port)], "ready")
    time.sleep(1)
    ceiling_rss = rss_mb(ceiling.pid)

    # The ceilings and the sandbox's read and search run interleaved, ROUNDS times, and each
    # figure is the median: on a shared 2-core machine a single run moves by 20%.
    # A backend-services token for the bearer-token read (generic is auth: optional, so the
    # token is verified and its scopes enforced on every request).
    token_url = base + "/fhir/auth/token"
    python = os.path.join(root, ".venv", "bin", "python")
    assertion_file = os.path.join(work, "assertions.txt")
    subprocess.run([python, os.path.join(root, "Benchmarks", "assertions.py"), token_url, "1", assertion_file], check=True)
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "scope": "system/Patient.rs",
                                   "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                                   "client_assertion": open(assertion_file).readline().strip()}).encode()
    bearer = json.loads(urllib.request.urlopen(urllib.request.Request(token_url, data=form)).read())["access_token"]

    def vendor_token(path):
        subprocess.run([python, os.path.join(root, "Benchmarks", "assertions.py"), base + path, "1", assertion_file], check=True)
        body = urllib.parse.urlencode({"grant_type": "client_credentials", "scope": "system/Patient.read",
                                       "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                                       "client_assertion": open(assertion_file).readline().strip()}).encode()
        return json.loads(urllib.request.urlopen(urllib.request.Request(base + path, data=body)).read())["access_token"]

    vendor_tokens = {NAMES[7]: vendor_token("/epic/oauth2/token"), NAMES[8]: vendor_token(CERNER_TOKEN)}

    rounds = {name: [] for name in NAMES}
    targets = {
        NAMES[0]: f"http://127.0.0.1:{nginx_port}{PATIENT}",
        NAMES[1]: f"http://127.0.0.1:{ceiling_port}{PATIENT}",
        NAMES[2]: base + PATIENT,
        NAMES[3]: base + SEARCH,
        NAMES[4]: scaled_base + SLOTS,
        NAMES[5]: scaled_base + FIND,
    }
    targets[NAMES[6]] = base + PATIENT
    targets[NAMES[7]] = base + EPIC_PATIENT
    targets[NAMES[8]] = base + CERNER_PATIENT
    tokens_by_name = {NAMES[6]: bearer, **vendor_tokens}
    for _ in range(ROUNDS):
        for name in NAMES:
            headers = [f"Authorization: Bearer {tokens_by_name[name]}"] if name in tokens_by_name else []
            rounds[name].append(wrk(targets[name], headers=headers))
    stop(ceiling)
    nginx.terminate()
    nginx.wait()
    results = {name: median_run(runs) for name, runs in rounds.items()}
    read_ratios = [r["rps"] / c["rps"] for r, c in zip(rounds[NAMES[2]], rounds[NAMES[1]])]
    script = os.path.join(work, "create.lua")
    with open(script, "w") as f:
        body = json.dumps({"resourceType": "Appointment", "status": "proposed", "description": "benchmark",
                           "participant": [{"actor": {"reference": "Patient/pat-0001"}, "status": "needs-action"}]})
        f.write(f'wrk.method = "POST"\nwrk.body = [[{body}]]\nwrk.headers["Content-Type"] = "application/fhir+json"\n')
    results["sandbox Appointment create"] = wrk(base + "/fhir/r4/Appointment", script)
    loaded_rss = rss_mb(sandbox.pid)

    # Token endpoint: every request carries a fresh RS384 assertion (jti is single-use).
    subprocess.run([python, os.path.join(root, "Benchmarks", "assertions.py"), token_url, str(ASSERTIONS), assertion_file], check=True)
    token_script = line_per_request(
        os.path.join(work, "token.lua"), assertion_file, "/fhir/auth/token", "application/x-www-form-urlencoded",
        '"grant_type=client_credentials&scope=system%2FPatient.rs&client_assertion_type=" .. '
        '"urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=" .. line')
    tokens = wrk(token_url, token_script, duration=3)
    tokens_ok = tokens["requests"] - tokens["non2xx"]

    # Booking throughput on disjoint slots (scaled clinic): every request books a different free slot.
    free = []
    url = scaled_base + "/fhir/r4/Slot?status=free&_count=1000"
    while url:
        page = json.loads(urllib.request.urlopen(url).read())
        free += [e["resource"]["id"] for e in page.get("entry", []) if e["search"]["mode"] == "match"]
        url = next((link["url"] for link in page.get("link", []) if link["relation"] == "next"), None)
    with open(os.path.join(work, "slots.txt"), "w") as f:
        f.write("\n".join(free) + "\n")
    booking = line_per_request(
        os.path.join(work, "book.lua"), os.path.join(work, "slots.txt"), "/fhir/r4/Appointment", "application/fhir+json",
        """'{"resourceType":"Appointment","status":"booked","slot":[{"reference":"Slot/' .. line .. '"}],' .. """
        """'"participant":[{"actor":{"reference":"Patient/pat-0001"},"status":"accepted"}]}'""")
    bookings = wrk(scaled_base + "/fhir/r4/Appointment", booking, duration=3)
    booked_total = bookings["requests"] - bookings["non2xx"]
    taken = set()
    double = 0
    url = scaled_base + "/fhir/r4/Appointment?status=booked&_count=1000"
    while url:
        page = json.loads(urllib.request.urlopen(url).read())
        for entry in page.get("entry", []):
            for reference in entry["resource"].get("slot", []) if entry["search"]["mode"] == "match" else []:
                double += reference["reference"] in taken
                taken.add(reference["reference"])
        url = next((link["url"] for link in page.get("link", []) if link["relation"] == "next"), None)

    race = contended_race(scaled_base + "/fhir/r4", free[-RACES * 2:])
    stop(scaled)

    resets = []
    for _ in range(20):
        started = time.perf_counter()
        request = urllib.request.Request(base + "/_admin/reset", method="POST")
        urllib.request.urlopen(request).read()
        resets.append((time.perf_counter() - started) * 1000)
    stop(sandbox)

    nginx_rps = results["nginx static Patient (machine ceiling)"]["rps"]
    framework_rps = results["bench-ceiling Patient (framework ceiling)"]["rps"]
    say(f"{'scenario':44} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs nginx':>9} {'vs framework':>13} {'non-2xx':>8}")
    for name, r in results.items():
        say(f"{name:44} {r['rps']:9.0f} {r['p50']:8.2f} {r['p99']:8.2f} {r['rps'] / nginx_rps:9.2f} "
            f"{r['rps'] / framework_rps:13.2f} {r['non2xx']:8d}")
    say()
    say(f"start-up to ready line, every profile ({tenants} tenants): median {statistics.median(startups):.0f} ms "
        f"(runs: {', '.join(f'{s:.0f}' for s in startups)}); generic alone: median {statistics.median(generic_startups):.0f} ms, "
        f"idle RSS {generic_rss:.1f} MB")
    say(f"POST /_admin/reset: median {statistics.median(resets):.1f} ms, max {max(resets):.1f} ms over {len(resets)} "
        f"(after {results['sandbox Appointment create']['rps'] * DURATION:.0f} creates)")
    say(f"booking on disjoint slots: {booked_total / 3:.0f} bookings/s ({booked_total} booked in 3 s of {len(free)} free slots, "
        f"p99 {bookings['p99']:.2f} ms); slots held by two booked appointments afterwards: {double}")
    say(f"token endpoint, backend services (RS384 private_key_jwt, a fresh assertion per request): {tokens_ok / 3:.0f} tokens/s "
        f"({tokens_ok} issued in 3 s, p50 {tokens['p50']:.2f} ms, p99 {tokens['p99']:.2f} ms; {tokens['non2xx']} refused"
        f"{' after the ' + str(ASSERTIONS) + ' pre-signed assertions ran out' if tokens['requests'] > ASSERTIONS else ''})")
    say(f"contended race ({RACERS} simultaneous attempts per slot, a third each plain POST Appointment, $hold and $book, "
        f"{race['slots']} slots): winners per slot {race['winners']}, losers answered 409: {race['conflicts']} of "
        f"{race['losers']}, other answers: {race['other'] or 'none'}; median race {race['median_ms']:.0f} ms")
    say(f"scaled clinic: {scaled_practitioners} practitioners, {scaled_slots} slots over 90 days; "
        f"start-up {scaled_startup:.0f} ms; idle RSS {scaled_rss:.1f} MB")
    say(f"server RSS: idle {idle_rss:.1f} MB, after the runs {loaded_rss:.1f} MB; "
        f"bench-ceiling idle {ceiling_rss:.1f} MB (ratio {idle_rss / ceiling_rss:.2f})")
    say()
    read = results["sandbox Patient read by id"]
    search = results["sandbox Patient search family=garcia"]
    say("targets (issue 2):")
    say(f"  Patient read >= 80% of framework ceiling: {read['rps'] / framework_rps:.0%} "
        f"(per round: {', '.join(f'{r:.0%}' for r in read_ratios)})")
    say(f"  search p99 < 5 ms at {CONNECTIONS} connections: {search['p99']:.2f} ms")
    say(f"  start-up < 300 ms: {statistics.median(startups):.0f} ms with {tenants} tenants, "
        f"{statistics.median(generic_startups):.0f} ms with generic alone")
    say(f"  reset < 50 ms: {statistics.median(resets):.1f} ms")
    say(f"  idle RSS < 40 MB: {idle_rss:.1f} MB with {tenants} tenants, {generic_rss:.1f} MB with generic alone")
    slots = results[NAMES[4]]
    finds = results[NAMES[5]]
    bearer_read = results[NAMES[6]]
    say("issue 4 (no targets set):")
    say(f"  Patient read with a bearer token: {bearer_read['rps']:.0f} req/s = {bearer_read['rps'] / read['rps']:.0%} of anonymous "
        f"reads, p99 {bearer_read['p99']:.2f} ms; token endpoint: {tokens_ok / 3:.0f} tokens/s")
    epic_read, cerner_read = results[NAMES[7]], results[NAMES[8]]
    say("issue 5 (no targets set): the vendor edge (id rewriting, Patient rendering, token) on a Patient read:")
    say(f"  epic {epic_read['rps']:.0f} req/s = {epic_read['rps'] / bearer_read['rps']:.0%} of the generic bearer read, "
        f"p99 {epic_read['p99']:.2f} ms; cerner {cerner_read['rps']:.0f} req/s = {cerner_read['rps'] / bearer_read['rps']:.0%}, "
        f"p99 {cerner_read['p99']:.2f} ms")
    say(f"targets (issue 3, on the scaled clinic of {scaled_practitioners} practitioners x 90 days):")
    say(f"  slot search p99 < 5 ms: {slots['p99']:.2f} ms; $find p99 < 15 ms: {finds['p99']:.2f} ms")
    say(f"  >= 1500 bookings/s on disjoint slots: {booked_total / 3:.0f}/s; zero double bookings: {double} after the "
        f"disjoint run, race winners per slot {race['winners']}")
    say()
    say("reproduce: bash Benchmarks/run.sh")


if __name__ == "__main__":
    main()
