#!/usr/bin/env python3
"""Change-feed benchmark (issue 14): what Subscriptions cost the write path and how fast they
deliver, and how fast HL7 v2 goes out and comes in. One release server per scenario, clock
frozen, medians of interleaved rounds; each figure with a ratio against a baseline measured in
the same run:

- Patient creates (wrk POST, 64 connections) with 0, 1 and 100 active subscriptions whose
  criteria match every created patient (payload mode: each notification a PUT of the
  resource) to nginx answering 204; ratio against 0 subscriptions.
- Notifications per second: 2000 creates with 1 subscription (queue limit raised to hold them
  all), from the first create to the 2000th notification nginx logged; ratio against the creates
  per second of the same burst.
- HL7 out: 2000 Patient creates (ADT^A04) to an MLLP peer that ACKs each message; messages per
  second until the last ACK; ratio against the creates per second of the same burst.
- HL7 in: 2000 ADT^A04 registrations over 8 MLLP connections; ratio against 2000 FHIR Patient
  creates over 8 HTTP connections in the same round.

    python3 Benchmarks/feeds.py --bin .build/release [--baseline DIR] [--rounds 3]

With `--baseline DIR` (a release build of a commit before change feeds), Patient creates are
also measured on that binary in each round, and the create ratios are against it: what
watching commits costs a write when nobody subscribes, and what each subscription adds.
"""
import argparse
import asyncio
import concurrent.futures
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from bench import CLOCK, free_port, line_per_request, stop, wrk  # noqa: E402

BURST = 2000
WRITE_SECONDS = 8


class Nginx:
    """nginx answering 204 to everything, logging one line per request (to count deliveries)."""

    def __init__(self):
        self.work = tempfile.mkdtemp()
        os.chmod(self.work, 0o755)
        self.port = free_port()
        self.log = os.path.join(self.work, "access.log")
        with open(os.path.join(self.work, "nginx.conf"), "w") as f:
            f.write(f"""worker_processes 1; daemon off; pid {self.work}/nginx.pid; error_log stderr warn;
events {{ worker_connections 4096; }}
http {{ log_format line '$request_method'; access_log {self.log} line buffer=4k flush=100ms;
  server {{ listen 127.0.0.1:{self.port} backlog=4096; location / {{ return 204; }} }} }}
""")
        nginx = "nginx" if subprocess.run(["which", "nginx"], capture_output=True).returncode == 0 else "/usr/sbin/nginx"
        self.process = subprocess.Popen([nginx, "-c", os.path.join(self.work, "nginx.conf"), "-p", self.work], stderr=subprocess.PIPE)
        time.sleep(0.3)

    def count(self):
        try:
            with open(self.log) as f:
                return sum(1 for _ in f)
        except FileNotFoundError:
            return 0

    def stop(self):
        self.process.terminate()
        self.process.wait()


class AckPeer:
    """An MLLP listener that ACKs every message (AA), counting them, on its own thread."""

    def __init__(self):
        self.count = 0
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self.run, args=(ready,), daemon=True).start()
        ready.wait()

    def run(self, ready):
        asyncio.set_event_loop(self.loop)

        async def serve(reader, writer):
            buffer = b""
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    return
                buffer += chunk
                while b"\x1c\r" in buffer:
                    message, buffer = buffer.split(b"\x1c\r", 1)
                    control = message.split(b"\r", 1)[0].split(b"|")[9]
                    writer.write(b"\x0bMSH|^~\\&|PEER|X|FHIR-SANDBOX|X|20260413080000||ACK|A1|P|2.5.1\rMSA|AA|" + control + b"\r\x1c\r")
                    self.count += 1
                await writer.drain()

        self.server = self.loop.run_until_complete(asyncio.start_server(serve, "127.0.0.1", self.port))
        ready.set()
        self.loop.run_forever()


def request(port, method, path, body=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    media = "application/json" if path.startswith("/_admin") else "application/fhir+json"
    connection.request(method, path, body=json.dumps(body) if body is not None else None,
                       headers={"Content-Type": media} if body is not None else {})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, json.loads(data) if data else None


def subscribe(port, receiver, count):
    for _ in range(count):
        status, body = request(port, "POST", "/fhir/r4/Subscription", {
            "resourceType": "Subscription", "status": "requested", "reason": "benchmark", "criteria": "Patient?family=Bench",
            "channel": {"type": "rest-hook", "endpoint": f"http://127.0.0.1:{receiver}/hook", "payload": "application/fhir+json"}})
        assert status == 201, body
    deadline = time.time() + 30
    while time.time() < deadline:
        _, bundle = request(port, "GET", "/fhir/r4/Subscription?status=active&_count=1&_total=accurate")
        if bundle.get("total") == count:
            return
        time.sleep(0.05)
    raise RuntimeError("subscriptions did not become active")


def server(binary, *extra):
    """A release server of the generic profile; (process, HTTP port, inbound HL7 port or None)."""
    port = free_port()
    # Each binary reads the profile files and seed of its own checkout (BIN is <checkout>/.build/release).
    checkout = os.path.normpath(os.path.join(os.path.dirname(binary), "..", ".."))
    own = []
    if os.path.isdir(os.path.join(checkout, "Profiles")):
        own = ["--profiles-dir", os.path.join(checkout, "Profiles"), "--seed", os.path.join(checkout, "Seeds", "default")]
    process = subprocess.Popen([binary, "serve", "--port", str(port), "--clock", CLOCK, "--profiles", "generic", *own, *extra],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    hl7 = None
    while True:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"fhir-sandbox exited: {process.stderr.read()}")
        if "HL7 in mllp://" in line:
            hl7 = int(line.split("mllp://")[1].split()[0].rsplit(":", 1)[1])
        if line.startswith("ready "):
            break
    request(port, "GET", "/fhir/r4/metadata")  # the tenant's data is copied in on first use
    return process, port, hl7


def patient(n):
    return {"resourceType": "Patient", "name": [{"family": "Bench", "given": [f"P{n}"]}], "gender": "female"}


def creates(port, count, connections=8):
    """Seconds for `count` FHIR Patient creates over `connections` parallel connections."""
    def one(n):
        status, _ = request(port, "POST", "/fhir/r4/Patient", patient(n))
        assert status == 201

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(connections) as pool:
        list(pool.map(one, range(count)))
    return time.perf_counter() - started


def write_path(binary, subscriptions, receiver, work):
    process, port, _ = server(binary)
    try:
        if subscriptions:
            subscribe(port, receiver.port, subscriptions)
        lines = os.path.join(work, "names.txt")
        with open(lines, "w") as f:
            f.write("\n".join(f"P{n}" for n in range(200000)))
        script = line_per_request(os.path.join(work, "create.lua"), lines, "/fhir/r4/Patient", "application/fhir+json",
                                  '\'{"resourceType":"Patient","name":[{"family":"Bench","given":["\' .. line .. \'"]}]}\'')
        return wrk(f"http://127.0.0.1:{port}/fhir/r4/Patient", script=script, duration=WRITE_SECONDS)
    finally:
        stop(process)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--baseline")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    binary = os.path.join(args.bin, "fhir-sandbox")
    baseline = os.path.join(args.baseline, "fhir-sandbox") if args.baseline else None
    receiver = Nginx()
    work = tempfile.mkdtemp()
    rows = {}
    try:
        for round_ in range(args.rounds):
            if baseline:
                rows.setdefault("creates, baseline", []).append(write_path(baseline, 0, receiver, work))
            for count in (0, 1, 100):
                result = write_path(binary, count, receiver, work)
                rows.setdefault(f"creates, {count} subscriptions", []).append(result)
            # Notifications per second: the burst's creates, then every notification logged.
            # (A receiver of its own, and a queue that holds the whole burst: notifications are
            # slower than creates, and the default queue of 1000 would drop the oldest.)
            fresh = Nginx()
            process, port, _ = server(binary)
            try:
                status, _ = request(port, "PUT", "/_admin/deliveries/policy", {"queueLimit": 100000})
                assert status == 200
                subscribe(port, fresh.port, 1)
                before = fresh.count()
                started = time.perf_counter()
                seconds = creates(port, BURST)
                while fresh.count() - before < BURST and time.perf_counter() - started < 120:
                    time.sleep(0.01)
                delivered = time.perf_counter() - started
                rows.setdefault("notifications", []).append(
                    {"rps": (fresh.count() - before) / delivered, "baseline": BURST / seconds})
            finally:
                stop(process)
                fresh.stop()
            # HL7 out: ADT^A04 per create, to a peer that ACKs.
            peer = AckPeer()
            process, port, _ = server(binary, "--hl7-out", f"generic=127.0.0.1:{peer.port}")
            try:
                started = time.perf_counter()
                seconds = creates(port, BURST)
                while peer.count < BURST and time.perf_counter() - started < 120:
                    time.sleep(0.01)
                rows.setdefault("hl7 out", []).append({"rps": peer.count / (time.perf_counter() - started), "baseline": BURST / seconds})
            finally:
                stop(process)
            # HL7 in: ADT^A04 registrations over 8 connections, against FHIR creates over 8.
            process, port, hl7_port = server(binary, "--hl7-in-port", "0")
            try:
                fhir_rate = BURST / creates(port, BURST)
                rows.setdefault("hl7 in", []).append({"rps": registrations(hl7_port, BURST, 8), "baseline": fhir_rate})
            finally:
                stop(process)
    finally:
        receiver.stop()
    report(rows, args.rounds)


def registrations(port, count, connections):
    """ADT^A04 messages per second over `connections` MLLP connections, each waiting for its ACK."""
    per = count // connections

    def run(index):
        sock = socket.create_connection(("127.0.0.1", port))
        buffer = b""
        for n in range(per):
            message = (f"MSH|^~\\&|REG|X|FHIR-SANDBOX|RIVERBEND|20260413080000||ADT^A04^ADT_A01|R{index}-{n}|P|2.5.1\r"
                       f"EVN|A04|20260413080000\rPID|1||BENCH-{index}-{n}^^^X^MR||Bench^P{n}||19800101|F\rPV1|1|O\r")
            sock.sendall(b"\x0b" + message.encode() + b"\x1c\r")
            while b"\x1c\r" not in buffer:
                buffer += sock.recv(65536)
            answer, buffer = buffer.split(b"\x1c\r", 1)
            assert b"MSA|AA" in answer, answer
        sock.close()

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(connections) as pool:
        list(pool.map(run, range(connections)))
    return per * connections / (time.perf_counter() - started)


def report(rows, rounds):
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"fhir-sandbox change feeds, {stamp}, {os.cpu_count()} cores, {rounds} interleaved rounds; medians (release build, "
          f"generic profile only, clock frozen)")
    reference = "creates, baseline" if "creates, baseline" in rows else "creates, 0 subscriptions"
    base = statistics.median(r["rps"] for r in rows[reference])
    print(f"{'scenario':44} {'per s':>9} {'ratio':>7} {'p99':>9}   rounds")
    for count in ([None] if "creates, baseline" in rows else []) + [0, 1, 100]:
        runs = rows["creates, baseline" if count is None else f"creates, {count} subscriptions"]
        if count is None:
            rps = statistics.median(r["rps"] for r in runs)
            p99 = statistics.median(r["p99"] for r in runs)
            print(f"{'Patient create, before change feeds':44} {rps:9.0f} {rps / base:7.2f} {p99:7.2f}ms   "
                  f"{[round(r['rps']) for r in runs]}")
            continue
        rps = statistics.median(r["rps"] for r in runs)
        p99 = statistics.median(r["p99"] for r in runs)
        print(f"{f'Patient create, {count} subscriptions':44} {rps:9.0f} {rps / base:7.2f} {p99:7.2f}ms   "
              f"{[round(r['rps']) for r in runs]}")
    names = {"notifications": f"notifications delivered (1 sub, {BURST} creates)", "hl7 out": f"HL7 out ADT^A04 ACKed ({BURST} creates)",
             "hl7 in": f"HL7 in ADT^A04 over 8 connections ({BURST})"}
    baselines = {"notifications": "creates/s of the same burst", "hl7 out": "creates/s of the same burst",
                 "hl7 in": "FHIR creates/s over 8 connections"}
    for key, name in names.items():
        runs = rows[key]
        rps = statistics.median(r["rps"] for r in runs)
        baseline = statistics.median(r["baseline"] for r in runs)
        print(f"{name:44} {rps:9.0f} {rps / baseline:7.2f} {'':>9}   {[round(r['rps']) for r in runs]}  (vs {baseline:.0f} {baselines[key]})")
    print(f"ratio: creates against {'the binary before change feeds' if reference == 'creates, baseline' else '0 subscriptions'}; "
          "the others against the baseline named on the line")


if __name__ == "__main__":
    main()
