"""A seeded, bounded HTTP fuzzer for a running fhir-sandbox (issue 10): requests over every
profile's FHIR bases, OAuth endpoints, the admin API and random paths, with mutated bodies,
queries, headers and paths. Oracles: no 5xx, no dropped or hung request, and every body labelled
FHIR JSON parses.

    python Tests/blackbox/fuzz.py --origin http://127.0.0.1:8080 --requests 200000 --seed 7

`test_fuzz.py` runs it in CI (20,000 requests by default, FHIR_SANDBOX_FUZZ_REQUESTS for more).
Every request goes to the loopback origin given; nothing else is contacted."""
import argparse
import http.client
import json
import os
import random
import threading
import time
import urllib.parse
import uuid

import jwt
import yaml

from vendorclient import CernerIds, EpicIds

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KEYS = os.path.join(ROOT, "Seeds", "default", "keys")
RESOURCES = os.path.join(ROOT, "Seeds", "default", "resources")
CLOCK = "2026-04-13T08:00:00-05:00"  # the fuzzed server must start with --clock CLOCK
TYPES = ["Patient", "Practitioner", "PractitionerRole", "Organization", "Location", "HealthcareService", "Schedule", "Slot",
         "Appointment", "Coverage", "Condition", "Observation", "Communication", "DocumentReference", "Encounter", "Bundle",
         "Parameters", "OperationOutcome", "Binary", "patient", "Nope"]
PARAMETERS = ["_id", "_count", "_sort", "_include", "_revinclude", "_summary", "_total", "_elements", "_format", "_lastUpdated",
              "family", "given", "name", "birthdate", "identifier", "phone", "telecom", "gender", "date", "status", "start",
              "end", "patient", "actor", "practitioner", "location", "schedule", "slot", "service-type", "_page_token",
              "_page_offset", "pageContext", "-pageContext", "direction", "family:exact", "family:contains", "name:missing",
              "patient.family", "actor:Patient.name", "subject", "code", "_tag", "_since", "visit-type", "patient-reference",
              "count", "onlyCertainMatches", "startTime", "endTime", "appt-id", "_has:Appointment:patient:status"]
OPERATIONS = ["$find", "$hold", "$book", "$match", "$everything", "$validate", "$meta", "$nope"]
ODD_VALUES = ["", "0", "-1", "1e300", "-9223372036854775808", "9223372036854775807", "18446744073709551616", "NaN", "null",
              "0001-01-01", "9999-12-31", "ge0001-01-01", "lt9999-12-31T23:59:59Z", "2026-02-30", "2026-04-13T25:00:00Z",
              "eq2026", "sa", "ap2026-04-13", "%00", "\u0000", "é", "名前", "\U0001F600", "a" * 5000, ",,,,", "\\,", "|", "||",
              "Patient/", "Patient/pat-0001/_history/1", "http://evil.example/Patient/1", "../../etc/passwd", "*", "true",
              "false", "[]", "{}", "'; DROP TABLE resource; --", "%", "%zz", "+", " ", "\t", "\r\n"]
ACCEPTS = [None, "application/fhir+json", "application/json", "application/fhir+xml", "text/html", "*/*", "text/plain",
           "application/fhir+json;fhirVersion=4.0", "xml", "", "application/json;q=0"]
CONTENT_TYPES = ["application/fhir+json", "application/json", "application/json-patch+json", "application/x-www-form-urlencoded",
                 "text/plain", "application/fhir+xml", "multipart/form-data; boundary=x", "", None]
PREFERS = [None, "return=minimal", "return=representation", "return=OperationOutcome", "handling=strict", "handling=lenient",
           "respond-async", "return=" + "x" * 300]
NUMBERS = [0, -1, 1, 1e300, -1e300, 9223372036854775807, -9223372036854775808, 10 ** 40, 0.5, -0.0, 1e-300]


class Oracle(Exception):
    pass


def profiles():
    result = []
    for name in sorted(os.listdir(os.path.join(ROOT, "Profiles"))):
        if not name.endswith(".yaml"):
            continue
        with open(os.path.join(ROOT, "Profiles", name)) as f:
            settings = yaml.safe_load(f)
        bases = [settings["fhirBase"]] + [b["fhirBase"] for b in settings.get("otherBases", [])]
        auth = settings.get("auth", {}).get("path") if isinstance(settings.get("auth"), dict) else None
        ids = {"epic": EpicIds, "cerner": CernerIds}.get(settings.get("ids"))
        result.append({"name": settings["name"], "bases": bases, "auth": auth, "ids": ids() if ids else None})
    return result


def seed_resources():
    found = []
    for name in sorted(os.listdir(RESOURCES)):
        with open(os.path.join(RESOURCES, name)) as f:
            for index, line in enumerate(f):
                if index < 3:
                    found.append(json.loads(line))
    return found


def token(origin, profile):
    """A backend-services token for a profile (SMART v1 scopes every profile accepts), or None."""
    if not profile["auth"]:
        return None
    with open(os.path.join(KEYS, "backend-rs384.pem")) as f:
        key = f.read()
    url = origin + profile["auth"] + "/token"
    now = int(time.time())
    assertion = jwt.encode({"iss": "sandbox-backend", "sub": "sandbox-backend", "aud": url, "exp": now + 240, "jti": str(uuid.uuid4())},
                           key, algorithm="RS384", headers={"kid": "backend-rs384"})
    scope = " ".join(f"system/{t}.{a}" for t in TYPES[:15] for a in ("read", "write"))
    body = urllib.parse.urlencode({"grant_type": "client_credentials", "scope": scope, "client_assertion": assertion,
                                   "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})
    parsed = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    connection.request("POST", parsed.path, body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return json.loads(data)["access_token"] if response.status == 200 else None


class Fuzzer:
    def __init__(self, origin, seed):
        self.origin = origin
        parsed = urllib.parse.urlsplit(origin)
        self.host, self.port = parsed.hostname, parsed.port
        self.seed = seed
        self.profiles = profiles()
        self.resources = seed_resources()
        self.tokens = {p["name"]: token(origin, p) for p in self.profiles}
        self.count = 0
        self.statuses = {}
        # Paging links the server handed out: replayed with their values mutated.
        self.links = []
        self.lock = threading.Lock()

    # --- mutation -----------------------------------------------------------------------------------

    def mutate(self, rng, value, depth=0):
        roll = rng.random()
        if depth > 6 or roll < 0.05:
            return rng.choice([None, True, 0, "", [], {}, rng.choice(NUMBERS), rng.choice(ODD_VALUES)])
        if isinstance(value, dict):
            result = {}
            for key, item in value.items():
                if rng.random() < 0.1:
                    continue
                result[key if rng.random() > 0.05 else key + rng.choice(["x", "_", "[]", ""])] = self.mutate(rng, item, depth + 1)
            if rng.random() < 0.1:
                result[rng.choice(["extension", "modifierExtension", "meta", "id", "text", "contained", "unknown"])] = \
                    self.mutate(rng, rng.choice(self.resources), depth + 1)
            return result
        if isinstance(value, list):
            items = [self.mutate(rng, item, depth + 1) for item in value if rng.random() > 0.1]
            if rng.random() < 0.1:
                items = items * rng.randint(2, 50)
            return items
        if isinstance(value, str):
            if roll < 0.3:
                return rng.choice(ODD_VALUES)
            if roll < 0.4:
                return rng.choice(NUMBERS)
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return rng.choice(NUMBERS) if roll < 0.5 else str(value)
        return value

    def body(self, rng, method):
        roll = rng.random()
        if roll < 0.1:
            return bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300)))
        if roll < 0.15:
            return b"[" * rng.randint(50, 5000)
        if roll < 0.2:
            return ("{\"a\":" * rng.randint(60, 200) + "1" + "}" * rng.randint(0, 200)).encode()
        if roll < 0.3:
            operations = [{"op": rng.choice(["add", "remove", "replace", "move", "copy", "test", "nope"]),
                           "path": rng.choice(["/status", "/name/0/family", "/id", "/-", "", "/~2", "/meta/versionId", "/a/b/c"]),
                           "value": self.mutate(rng, "x"), "from": rng.choice(["/name", "/nope", None])} for _ in range(rng.randint(0, 5))]
            return json.dumps(operations).encode()
        if roll < 0.45:
            entries = []
            for _ in range(rng.randint(0, 12)):
                entries.append({"fullUrl": rng.choice(["urn:uuid:" + str(uuid.UUID(int=rng.getrandbits(128))), "x", None]),
                                "resource": self.mutate(rng, rng.choice(self.resources)),
                                "request": {"method": rng.choice(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "x"]),
                                            "url": self.path_tail(rng)}})
            return json.dumps({"resourceType": "Bundle", "type": rng.choice(["batch", "transaction", "searchset", "x"]),
                               "entry": entries}, default=str).encode()
        if roll < 0.55:
            parameters = [{"name": rng.choice(PARAMETERS + ["resource", "appt-resource", "patient-resource"]),
                           rng.choice(["valueString", "valueInteger", "valueBoolean", "valueReference", "resource", "valueDateTime"]):
                               self.mutate(rng, rng.choice(self.resources + ["2026-04-20", 5, True]))} for _ in range(rng.randint(0, 6))]
            return json.dumps({"resourceType": "Parameters", "parameter": parameters}, default=str).encode()
        try:
            return json.dumps(self.mutate(rng, rng.choice(self.resources)), default=str).encode()
        except (ValueError, RecursionError):
            return b"{}"

    SEED_IDS = {"Patient": ["pat-0001", "pat-0002", "pat-0100"], "Practitioner": ["pract-okafor", "pract-raman"],
                "Schedule": ["sched-okafor-main"], "Slot": ["slot-okafor-main-20260420-0900", "slot-raman-main-20260421-1000"],
                "Location": ["loc-main"], "Coverage": ["cov-0001"], "Communication": ["pat-0001"]}

    def path_tail(self, rng, profile=None):
        type_ = rng.choice(TYPES[:15]) if rng.random() < 0.8 else rng.choice(TYPES)
        roll = rng.random()
        if rng.random() < 0.6:
            ident = rng.choice(self.SEED_IDS.get(type_, ["x"]))
            if profile and profile["ids"]:
                ident = profile["ids"].external(ident, type_)
        else:
            ident = rng.choice(["x", "e" + "A" * 70 + "3", "127240001", "8" + "9" * 60, "%2e%2e", "..", "a/b", "名前", "-1", "0" * 65,
                                rng.choice(ODD_VALUES)])
        ident = urllib.parse.quote(ident, safe="")
        if roll < 0.3:
            tail = type_
        elif roll < 0.6:
            tail = f"{type_}/{ident}"
        elif roll < 0.7:
            tail = f"{type_}/{ident}/_history/{rng.choice(['1', '2', '0', '-1', 'x', '99999999999999999999'])}"
        elif roll < 0.8:
            tail = f"{type_}/{rng.choice(OPERATIONS)}"
        elif roll < 0.85:
            tail = rng.choice(["metadata", "_history", "", ".well-known/smart-configuration", "_search", "$meta"])
        else:
            tail = f"{type_}/{ident}/{rng.choice(OPERATIONS + ['_history', '*', ''])}"
        if rng.random() < 0.6:
            pairs = []
            for _ in range(rng.randint(1, 6)):
                name = rng.choice(PARAMETERS)
                value = rng.choice(ODD_VALUES + ["pat-0001", "garcia", "2026-04-20", "Patient/pat-0001", "ge2026-04-13", "5"])
                if rng.random() < 0.05:
                    value = ",".join(rng.choice(["a", "b", "ge2026"]) for _ in range(rng.randint(2, 300)))
                pairs.append((name, value))
            tail += "?" + urllib.parse.urlencode(pairs, safe="|,:/$")
        return tail

    def replayed_link(self, rng):
        with self.lock:
            if not self.links:
                return None
            url = rng.choice(self.links)
        parsed = urllib.parse.urlsplit(url)
        pairs = urllib.parse.parse_qsl(parsed.query, keep_blank_values=True)
        pairs = [(name, rng.choice(ODD_VALUES + [value] * 5)) for name, value in pairs]
        return parsed.path + "?" + urllib.parse.urlencode(pairs)

    def request(self, rng):
        roll = rng.random()
        headers = {}
        if roll < 0.03:
            replay = self.replayed_link(rng)
            if replay:
                owner = next((p["name"] for p in self.profiles if any(replay.startswith(b + "/") for b in p["bases"])), None)
                token = self.tokens.get(owner)
                return "GET", replay, ({"Authorization": "Bearer " + token} if token else {}), None
        profile = rng.choice(self.profiles)
        if roll < 0.75:
            base = rng.choice(profile["bases"]) if rng.random() < 0.95 else "/cerner/r4/00000000-0000-0000-0000-000000000000"
            path = base + "/" + self.path_tail(rng, profile)
            if self.tokens.get(profile["name"]) and rng.random() < 0.8:
                headers["Authorization"] = "Bearer " + (self.tokens[profile["name"]] if rng.random() < 0.9 else
                                                        rng.choice(["x", "a.b.c", "e30.e30.", self.tokens[profile["name"]][::-1]]))
        elif roll < 0.85 and profile["auth"]:
            path = profile["auth"] + "/" + rng.choice(["token", "authorize", "introspect", "revoke", "jwks", "x"])
            if rng.random() < 0.5:
                path += "?" + urllib.parse.urlencode([(rng.choice(["response_type", "client_id", "redirect_uri", "scope", "state",
                                                                   "aud", "code_challenge", "code_challenge_method", "launch"]),
                                                       rng.choice(ODD_VALUES + ["code", "sandbox-public"])) for _ in range(rng.randint(1, 8))])
        elif roll < 0.95:
            path = rng.choice(["/_admin/clock", "/_admin/clock/advance", "/_admin/locks", "/_admin/clients", "/_admin/compare",
                               "/_admin/openapi.json", "/_admin/nope", "/_admin/compare?type=Patient&seedId=" +
                               urllib.parse.quote(rng.choice(ODD_VALUES), safe=""),
                               "/_admin/sandboxes", "/_admin/sandboxes/fz-" + str(rng.randint(0, 3)),
                               "/_admin/sandboxes/" + urllib.parse.quote(rng.choice(ODD_VALUES), safe=""),
                               "/sandboxes/fz-" + str(rng.randint(0, 3)) + "/fhir/r4/Patient",
                               "/sandboxes/fz-" + str(rng.randint(0, 3)) + "/_admin/clock",
                               # Test control: the fuzzed bodies never carry an `action`, so they probe
                               # validation without arming a rule that would drop the fuzzer's own calls.
                               "/_admin/faults", "/_admin/faults/fault-" + str(rng.randint(0, 3)), "/_admin/rate-limits",
                               "/_admin/latency", "/_admin/actions", "/sandboxes/fz-" + str(rng.randint(0, 3)) + "/_admin/faults"])
        else:
            path = rng.choice(["/", "/_health", "/fhir", "/%00", "/" + "a/" * 200, "/epic", "/cerner/r4", "/favicon.ico", "//"])
        method = rng.choice(["GET", "GET", "GET", "POST", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
        body = None
        if method in ("POST", "PUT", "PATCH"):
            if path.startswith("/_admin"):
                body = json.dumps(self.mutate(rng, {"seconds": 60, "now": "2026-04-13T08:00:00-05:00", "frozen": True,
                                                    "profiles": ["epic"], "ttlSeconds": 60, "clock": {"frozen": True},
                                                    "profile": "generic", "type": "Patient", "id": "pat-0001",
                                                    "tokenMinutes": 5, "scopes": ["system/*.rs"]}), default=str).encode()
                headers["Content-Type"] = rng.choice(["application/json", "application/json", "text/plain"])
                if "/clock" in path and rng.random() < 0.7:
                    body = json.dumps({"seconds": rng.choice([60, -60, 5])}).encode()
            elif "/auth" in path or "oauth" in path or "protocols" in path:
                body = urllib.parse.urlencode([(rng.choice(["grant_type", "client_id", "client_secret", "client_assertion",
                                                             "client_assertion_type", "code", "refresh_token", "token", "scope"]),
                                                rng.choice(ODD_VALUES + ["client_credentials", "a.b.c"])) for _ in range(rng.randint(0, 6))]).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                body = self.body(rng, method)
                content_type = rng.choice(CONTENT_TYPES)
                if content_type is not None:
                    headers["Content-Type"] = content_type
        accept = rng.choice(ACCEPTS)
        if accept is not None:
            headers["Accept"] = accept
        prefer = rng.choice(PREFERS)
        if prefer:
            headers["Prefer"] = prefer
        if rng.random() < 0.1:
            headers[rng.choice(["If-Match", "If-None-Match", "If-None-Exist", "If-Modified-Since"])] = rng.choice(
                ['W/"1"', 'W/"x"', "*", "family=garcia", '"1"', "", 'W/"99999999999999999999"'])
        return method, path, headers, body

    # --- running ---------------------------------------------------------------------------------------

    def check(self, method, path, status, response_headers, data):
        if status >= 500:
            raise Oracle(f"{method} {path} answered {status}: {data[:300]!r}")
        kind = response_headers.get("Content-Type", "")
        if "fhir+json" in kind and data and method != "HEAD":
            try:
                body = json.loads(data)
            except ValueError as error:
                raise Oracle(f"{method} {path} answered {status} labelled FHIR JSON that does not parse ({error}): {data[:300]!r}")
            if isinstance(body, dict) and isinstance(body.get("link"), list):
                with self.lock:
                    for link in body["link"]:
                        if isinstance(link, dict) and isinstance(link.get("url"), str) and len(self.links) < 500:
                            self.links.append(link["url"])

    def worker(self, index, count, failures, deadline):
        rng = random.Random(self.seed * 1000 + index)
        connection = None
        for number in range(count):
            if time.time() > deadline or failures:
                return
            method, path, headers, body = self.request(rng)
            if number % 100 == 0:
                # Put the clock back where the tokens were minted, whatever the admin calls did to it.
                method, path, headers, body = "PUT", "/_admin/clock", {"Content-Type": "application/json"}, json.dumps(
                    {"now": CLOCK, "frozen": True}).encode()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(self.host, self.port, timeout=15)
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                self.check(method, path, response.status, response.headers, data)
                with self.lock:
                    self.count += 1
                    self.statuses[response.status] = self.statuses.get(response.status, 0) + 1
                if response.will_close:
                    connection.close()
                    connection = None
            except (http.client.InvalidURL, ValueError, UnicodeEncodeError):
                connection = None  # the client refused to send it: not the server's doing
            except Oracle as error:
                failures.append(str(error))
            except (TimeoutError, OSError, http.client.HTTPException) as error:
                failures.append(f"{method} {path}: no answer ({type(error).__name__}: {error})")
                connection = None

    def run(self, total, threads=4, seconds=900):
        failures = []
        deadline = time.time() + seconds
        workers = [threading.Thread(target=self.worker, args=(i, total // threads, failures, deadline)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--origin", default="http://127.0.0.1:8080")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    host = urllib.parse.urlsplit(arguments.origin).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the fuzzer only targets a loopback origin")
    fuzzer = Fuzzer(arguments.origin, arguments.seed)
    started = time.time()
    failures = fuzzer.run(arguments.requests)
    print(f"{fuzzer.count} requests in {time.time() - started:.1f} s; statuses {dict(sorted(fuzzer.statuses.items()))}")
    for failure in failures[:20]:
        print("FAIL", failure)
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
