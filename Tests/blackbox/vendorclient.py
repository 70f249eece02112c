"""Runs the generic black-box suite against a vendor profile: a client that speaks to the vendor's
base with a backend-services token and translates the suite's seed ids (pat-0001, sched-okafor-main,
slot-…) to the vendor's ids on the way out and back on the way in — an implementation of the
profiles' id schemes independent of the server's (so the suite also checks they are reversible).

Validation is not relaxed: every FHIR body is validated as R4 before translation. A response body
that is not FHIR JSON (Cerner's plain-text 400, Epic's HTML 404, empty 406) is accepted only when
the profile declares that deviation (`deviations` in Profiles/<name>.yaml)."""
import base64
import json
import os
import re
import time
import urllib.parse
import uuid

import jwt
import requests
import yaml

from conftest import Client
from fhirvalidation import ROOT

KEYS = os.path.join(ROOT, "Seeds", "default", "keys")
SEED = os.path.join(ROOT, "Seeds", "default")
PROFILES = os.path.join(ROOT, "Profiles")
TYPES = ["Appointment", "Communication", "Condition", "Coverage", "DocumentReference", "Encounter", "HealthcareService",
         "Location", "Observation", "Organization", "Patient", "Practitioner", "PractitionerRole", "Provenance", "Schedule", "Slot"]
USUAL_TARGETS = {"patient": "Patient", "beneficiary": "Patient", "subscriber": "Patient", "schedule": "Schedule", "slot": "Slot",
                 "practitioner": "Practitioner", "location": "Location"}
REFERENCE_PARAMETERS = set(USUAL_TARGETS) | {"subject", "actor", "organization", "general-practitioner", "encounter", "based-on",
                                              "performer", "requester", "participant", "link", "payor", "author", "sender",
                                              "recipient", "policy-holder", "service-provider", "partof", "asserter", "recorder"}


def profile(name):
    """A profile file as the server reads it: {practiceCode} in its paths is the seed's."""
    with open(os.path.join(SEED, "seed.yaml")) as f:
        practice = yaml.safe_load(f).get("practiceCode", "CLINIC")
    with open(os.path.join(ROOT, "Profiles", f"{name}.yaml")) as f:
        return yaml.safe_load(f.read().replace("{practiceCode}", practice))


class EpicIds:
    """Profiles/epic.yaml `ids: epic`: e + base64 of the stored id ('+' as '-', '/' as '.') + 3."""

    def external(self, id_, type_):
        encoded = "e" + base64.b64encode(id_.encode()).decode().replace("+", "-").replace("/", ".").rstrip("=") + "3"
        return encoded if len(encoded) <= 64 else id_

    def internal(self, id_, type_):
        if not (len(id_) > 2 and id_.startswith("e") and id_.endswith("3")):
            return None
        text = id_[1:-1].replace("-", "+").replace(".", "/")
        try:
            decoded = base64.b64decode(text + "=" * (-len(text) % 4)).decode()
        except Exception:
            return None
        return decoded if self.external(decoded, type_) == id_ else None


def fnv(text):
    value = 1469598103934665603
    for byte in text.encode():
        value = ((value ^ byte) * 1099511628211) % (1 << 64)
    return str(10_000_000 + value % 90_000_000)


class CernerIds:
    """Profiles/cerner.yaml `ids: cerner`: numeric ids (seed patients 12724NNNN, other seed
    resources an 8-digit number, server-assigned uuids 8 + their 128 bits, other ids 9 + their
    bytes); composite Slot, Schedule and Coverage ids from the seed's schedule templates and
    coverages; Communication ids with Cerner's dotted suffix."""

    def __init__(self):
        with open(os.path.join(SEED, "schedules.yaml")) as f:
            templates = yaml.safe_load(f)["schedules"]
        seeded = {}
        for name in os.listdir(os.path.join(SEED, "resources")):
            with open(os.path.join(SEED, "resources", name)) as f:
                for line in f:
                    if line.strip():
                        resource = json.loads(line)
                        seeded.setdefault(resource["resourceType"], set()).add(resource["id"])
        for t in templates:
            seeded.setdefault("Practitioner", set()).add(t["practitioner"])
            seeded.setdefault("Location", set()).add(t["location"])
        with open(os.path.join(SEED, "appointments.yaml")) as f:
            seeded["Appointment"] = {a["id"] for a in yaml.safe_load(f)["appointments"]}
        self.numbers = {type_: {i: fnv(i) for i in ids} for type_, ids in seeded.items() if type_ != "Patient"}
        self.numbers_back = {type_: {v: k for k, v in table.items()} for type_, table in self.numbers.items()}
        self.templates = [t["id"] for t in templates]
        with open(os.path.join(PROFILES, "cerner.yaml")) as f:
            services = yaml.safe_load(f).get("serviceTypes", {}).get("codes", {})
        service = lambda code: (lambda v: v["code"] if isinstance(v, dict) else v)(services[code]) if code in services else code
        self.schedules = {t["id"]: f"{service(t.get('serviceType', '0'))}-{fnv(t['location'])}-{fnv(t['practitioner'])}" for t in templates}
        self.back = {v: k for k, v in self.schedules.items()}
        self.coverages = {}
        with open(os.path.join(SEED, "resources", "Coverage.ndjson")) as f:
            for line in f:
                coverage = json.loads(line)
                number = 490_000_000 + int(coverage["id"].split("-")[1])
                patient = self.external(coverage["beneficiary"]["reference"].split("/")[1], "Patient")
                self.coverages[coverage["id"]] = f"{patient}-{number}-{number}"
        self.coverages_back = {v: k for k, v in self.coverages.items()}

    def number(self, id_, type_):
        if type_ == "Patient" and re.fullmatch(r"pat-\d{4}", id_):
            return "12724" + id_[4:]
        if id_ in self.numbers.get(type_, {}):
            return self.numbers[type_][id_]
        if re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", id_):
            return "8" + str(int(id_.replace("-", ""), 16))
        digits = str(int.from_bytes(id_.encode(), "big"))
        return "9" + digits if len(digits) < 64 else id_

    def stored(self, id_, type_):
        if not id_.isdigit() or len(id_) < 2:
            return None
        if type_ == "Patient" and len(id_) == 9 and id_.startswith("12724"):
            return "pat-" + id_[5:]
        if id_ in self.numbers_back.get(type_, {}):
            return self.numbers_back[type_][id_]
        if id_.startswith("8"):
            text = f"{int(id_[1:]):032x}"
            return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
        if id_.startswith("9"):
            number = int(id_[1:])
            return number.to_bytes((number.bit_length() + 7) // 8, "big").decode()
        return None

    def external(self, id_, type_):
        if type_ == "Schedule" and id_ in self.schedules:
            return self.schedules[id_] + "-0"
        if type_ == "Slot":
            match = re.fullmatch(r"slot-(.+)-(\d{8})-(\d{4})", id_)
            if match and f"sched-{match.group(1)}" in self.schedules:
                return f"{self.schedules['sched-' + match.group(1)]}-{match.group(2)}{match.group(3)}"
        if type_ == "Coverage" and id_ in self.coverages:
            return self.coverages[id_]
        if type_ == "Appointment":
            match = re.fullmatch(r"appt-(.+)-(\d{8})-(\d{4})", id_)
            if match and f"sched-{match.group(1)}" in self.templates:
                return f"5{self.templates.index('sched-' + match.group(1)):03d}{match.group(2)}{match.group(3)}"
        if type_ == "Communication":
            number = self.number(id_, type_)
            return number + ".0.-4.prsnl" if number != id_ else id_
        return self.number(id_, type_)

    def internal(self, id_, type_):
        if type_ == "Schedule" and id_.endswith("-0") and id_[:-2] in self.back:
            return self.back[id_[:-2]]
        if type_ == "Slot":
            prefix, _, stamp = id_.rpartition("-")
            if prefix in self.back and len(stamp) == 12:
                return f"slot-{self.back[prefix][6:]}-{stamp[:8]}-{stamp[8:]}"
        if type_ == "Coverage" and id_ in self.coverages_back:
            return self.coverages_back[id_]
        if type_ == "Appointment" and re.fullmatch(r"5\d{15}", id_) and int(id_[1:4]) < len(self.templates):
            template = self.templates[int(id_[1:4])]
            return f"appt-{template[6:]}-{id_[4:12]}-{id_[12:]}"
        if type_ == "Communication" and id_.endswith(".0.-4.prsnl"):
            return self.stored(id_[:-len(".0.-4.prsnl")], type_)
        return self.stored(id_, type_)


class IdentityIds:
    """A profile without `ids`: stored ids as they are."""

    def external(self, id_, type_):
        return id_

    def internal(self, id_, type_):
        return id_


class AthenaIds:
    """Profiles/athena.yaml `ids: athena`: a-195900.E-{60177 + n} for seed patients pat-NNNN,
    a-195900.Department-{n} for locations, a-1.Practice-195900 for the practice (the first
    location's managing organization), a-195900.{Type}-{n} otherwise: other seed resources number
    from 1 per type in id order; slots and the appointments on them encode the slot (template,
    day, time, generation: 89 for the clinic's background appointments); uuids 8 + their 128 bits,
    other ids 9 + their bytes."""

    PRACTICE = "195900"

    def __init__(self):
        seeded = {}
        self.practice_org = None
        for name in sorted(os.listdir(os.path.join(SEED, "resources"))):
            with open(os.path.join(SEED, "resources", name)) as f:
                for line in f:
                    if line.strip():
                        resource = json.loads(line)
                        seeded.setdefault(resource["resourceType"], []).append(resource["id"])
                        if resource["resourceType"] == "Location" and self.practice_org is None and "managingOrganization" in resource:
                            self.practice_org = resource["managingOrganization"]["reference"].split("/")[1]
        with open(os.path.join(SEED, "appointments.yaml")) as f:
            seeded["Appointment"] = [a["id"] for a in yaml.safe_load(f)["appointments"]]
        self.numbers = {t: {i: str(n + 1) for n, i in enumerate(sorted(x for x in ids if x != self.practice_org))}
                        for t, ids in seeded.items() if t != "Patient"}
        self.back = {t: {v: k for k, v in table.items()} for t, table in self.numbers.items()}
        with open(os.path.join(SEED, "schedules.yaml")) as f:
            self.stems = [t["id"][6:] for t in yaml.safe_load(f)["schedules"]]

    @staticmethod
    def tag(type_):
        return {"Patient": "E", "Location": "Department"}.get(type_, type_)

    def slot_number(self, slot, generation=0):
        match = re.fullmatch(r"slot-(.+)-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})", slot)
        if not match or match.group(1) not in self.stems:
            return None
        import datetime
        day = (datetime.date(int(match.group(2)), int(match.group(3)), int(match.group(4))) - datetime.date(1970, 1, 1)).days
        return generation * 10**11 + (self.stems.index(match.group(1)) + 1) * 10**9 + day * 10**4 + int(match.group(5) + match.group(6))

    def number(self, id_, type_):
        if type_ == "Patient" and re.fullmatch(r"pat-\d{4}", id_):
            return str(60177 + int(id_[4:]))
        if type_ in ("Slot", "Appointment"):
            if type_ == "Slot" and self.slot_number(id_) is not None:
                return str(self.slot_number(id_))
            if type_ == "Appointment" and id_.startswith("appt-slot-"):
                slot, _, generation = id_[5:].partition(".")
                if self.slot_number(slot) is not None:
                    return str(self.slot_number(slot, int(generation or 0)))
            elif type_ == "Appointment" and id_.startswith("appt-") and self.slot_number("slot-" + id_[5:]) is not None:
                return str(self.slot_number("slot-" + id_[5:], 89))
        if id_ in self.numbers.get(type_, {}):
            return self.numbers[type_][id_]
        if re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", id_):
            return "8" + str(int(id_.replace("-", ""), 16))
        return "9" + str(int.from_bytes(id_.encode(), "big"))

    def external(self, id_, type_):
        if type_ in ("Bundle", "SubscriptionTopic"):
            return id_
        if type_ == "Organization" and id_ == self.practice_org:
            return f"a-1.Practice-{self.PRACTICE}"
        return f"a-{self.PRACTICE}.{self.tag(type_)}-{self.number(id_, type_)}"

    def internal(self, id_, type_):
        if type_ == "Organization" and id_ == f"a-1.Practice-{self.PRACTICE}":
            return self.practice_org
        prefix = f"a-{self.PRACTICE}.{self.tag(type_)}-"
        if not id_.startswith(prefix) or not id_[len(prefix):].isdigit():
            return None
        number = id_[len(prefix):]
        if type_ == "Patient" and len(number) == 5 and 60177 < int(number) <= 60177 + 9999:
            return f"pat-{int(number) - 60177:04d}"
        if number in self.back.get(type_, {}):
            return self.back[type_][number]
        if type_ in ("Slot", "Appointment") and int(number) < 90 * 10**11:
            value = int(number)
            generation, template = value // 10**11, value % 10**11 // 10**9
            day, time_ = value % 10**9 // 10**4, value % 10**4
            if 1 <= template <= len(self.stems):
                import datetime
                date = datetime.date(1970, 1, 1) + datetime.timedelta(days=day)
                slot = f"slot-{self.stems[template - 1]}-{date:%Y%m%d}-{time_:04d}"
                if type_ == "Slot" and generation == 0:
                    return slot
                if type_ == "Appointment":
                    return "appt-" + slot[5:] if generation == 89 else f"appt-{slot}" + (f".{generation}" if generation else "")
        if number.startswith("8"):
            text = f"{int(number[1:]):032x}"
            return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
        if number.startswith("9"):
            value = int(number[1:])
            try:
                return value.to_bytes((value.bit_length() + 7) // 8, "big").decode()
            except UnicodeDecodeError:
                return None
        return None


_TOKENS = {}


class VendorClient(Client):
    """The suite's Client against a vendor profile (see the module docstring)."""

    def __init__(self, origin, name):
        settings = profile(name)
        super().__init__(origin, base=settings["fhirBase"])
        self.name = name
        self.profile = settings
        self.deviations = {d["id"]: d for d in settings.get("deviations", [])}
        self.ids = {"epic": EpicIds, "athena": AthenaIds, "cerner": CernerIds}.get(settings.get("ids"), IdentityIds)()
        # A vendor's required context (athena's practice) goes with every call but metadata.
        context = settings.get("context")
        self.context = (context["parameter"], context["value"]) if context else None
        self.token_url = origin + settings["auth"]["path"] + "/token"
        self.authorize()

    def authorize(self):
        # One token per server and profile (athena throttles its token endpoint: 5 a minute).
        key = (self.origin, self.name)
        if key not in _TOKENS:
            _TOKENS[key] = self.fetch_token()
        self.session.headers["Authorization"] = f"Bearer {_TOKENS[key]}"

    def fetch_token(self):
        # Every type, read and write, in SMART v1 syntax (Cerner refuses v2 and wildcards).
        scope = " ".join(f"system/{t}.{a}" for t in TYPES for a in ("read", "write"))
        if self.profile["auth"].get("allowListedJwksOnly"):
            # The seed's backend client has inline keys, not an allow-listed JWKS URL: use Basic.
            response = requests.post(self.token_url, auth=("sandbox-secret", "sandbox-secret-TEST-ONLY"),
                                     data={"grant_type": "client_credentials", "scope": scope}, timeout=30)
            assert response.status_code == 200, response.text
            return response.json()["access_token"]
        with open(os.path.join(KEYS, "backend-rs384.pem")) as f:
            key = f.read()
        now = int(time.time())
        assertion = jwt.encode({"iss": "sandbox-backend", "sub": "sandbox-backend", "aud": self.token_url, "exp": now + 240,
                                "jti": str(uuid.uuid4())}, key, algorithm="RS384", headers={"kid": "backend-rs384"})
        response = requests.post(self.token_url, data={
            "grant_type": "client_credentials", "scope": scope, "client_assertion": assertion,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def declares(self, deviation):
        return deviation in self.deviations

    # --- id translation -------------------------------------------------------------------

    def map_id(self, id_, type_, outward):
        if outward:
            return self.ids.external(id_, type_)
        return self.ids.internal(id_, type_) or id_

    def map_reference(self, text, outward):
        parts = text.split("/")
        for index in range(len(parts) - 2, -1, -1):
            if parts[index] in TYPES and parts[index + 1] and not parts[index + 1].startswith(("$", "_", "#")):
                tail = parts[index + 1]
                id_, mark, query = tail.partition("?")
                parts[index + 1] = self.map_id(id_, parts[index], outward) + mark + query
                return "/".join(parts)
        return text

    def map_value(self, name, value, type_, outward):
        base = re.split(r"[:.]", name)[0]
        if base == "_id":
            return ",".join(self.map_id(part, type_, outward) for part in value.split(","))
        if base in REFERENCE_PARAMETERS:
            modifier = name.split(":")[1] if ":" in name and name.split(":")[1] in TYPES else None
            target = modifier or USUAL_TARGETS.get(base)
            return ",".join(self.map_reference(part, outward) if "/" in part else self.map_id(part, target, outward)
                            for part in value.split(","))
        return value

    def map_url(self, url, outward):
        path, mark, query = url.partition("?")
        path = self.map_reference(path, outward)
        if not mark:
            return path
        type_ = path.rstrip("/").split("/")[-1]
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        return path + "?" + urllib.parse.urlencode([(k, self.map_value(k, v, type_, outward)) for k, v in pairs], safe="|,:/")

    def walk(self, value, outward, depth=0):
        if depth > 100:  # the suite's deliberately deep bodies: nothing to translate down there
            return value
        if isinstance(value, list):
            return [self.walk(item, outward, depth + 1) for item in value]
        if not isinstance(value, dict):
            return value
        result = {}
        for key, item in value.items():
            if key == "id" and "resourceType" in value and isinstance(item, str):
                result[key] = self.map_id(item, value["resourceType"], outward)
            elif key in ("reference", "fullUrl") and isinstance(item, str):
                result[key] = self.map_reference(item, outward)
            elif key == "url" and "relation" in value and isinstance(item, str):
                result[key] = self.map_url(item, outward)
            elif key == "valueString" and outward and isinstance(item, str) and "/" in item:
                result[key] = self.map_reference(item, outward)
            else:
                result[key] = self.walk(item, outward, depth + 1)
        return result

    def changed_strings(self, before, after, found):
        """(before, after) for every string value the translation changed."""
        if isinstance(before, dict):
            for key in before:
                self.changed_strings(before[key], after[key], found)
        elif isinstance(before, list):
            for old, new in zip(before, after):
                self.changed_strings(old, new, found)
        elif isinstance(before, str) and before != after:
            found[before] = after
        return found

    # --- requests -------------------------------------------------------------------------

    def url(self, path):
        if path.startswith("/_") or path == "/":
            return self.origin + path
        if path.startswith("http"):
            return self.map_url(path, True)
        return super().url(self.map_url(path, True))

    def request(self, method, path, json_body=None, data=None, headers=None, validate=True, params=None, **kwargs):
        if json_body is not None:
            json_body = self.walk(json_body, True)
        elif isinstance(data, str) and data.startswith(("{", "[")):
            # Raw bodies stay as written (duplicate keys, odd spacing); only ids are replaced.
            try:
                parsed = json.loads(data)
            except ValueError:
                parsed = None
            for old, new in self.changed_strings(parsed, self.walk(parsed, True), {}).items():
                data = data.replace(json.dumps(old), json.dumps(new))
        if params is not None:
            pairs = params.items() if isinstance(params, dict) else params
            type_ = path.split("?")[0].split("/")[0]
            params = [(k, self.map_value(k, v, type_, True)) for k, v in pairs
                      for v in (v if isinstance(v, list) else [v])]
        if self.context and path.split("?")[0] != "metadata" and not path.startswith(("/_", "http")):
            params = list(params or []) + [self.context]
        response = super().request(method, path, json_body=json_body, data=data, headers=headers, validate=validate,
                                   params=params, **kwargs)
        self.check_body(response)
        kind = response.headers.get("Content-Type", "")
        if response.content and "json" in kind:
            # Replace translated string values in the raw body: numbers keep their lexical form
            # and the server's serialization is otherwise untouched.
            body = response.json()
            text = response.content.decode()
            for old, new in self.changed_strings(body, self.walk(body, False), {}).items():
                text = text.replace(json.dumps(old), json.dumps(new))
            response._content = text.encode()
        for header in ("Location", "Content-Location"):
            if header in response.headers:
                response.headers[header] = self.map_url(response.headers[header], False)
        return response

    def check_body(self, response):
        """Non-FHIR bodies only where the profile declares them."""
        kind = response.headers.get("Content-Type", "")
        if not response.content or "json" in kind:
            if not response.content and response.status_code >= 400 and response.status_code != 304:
                assert self.declares("empty-error-bodies"), f"{self.name}: empty {response.status_code} body is not a declared deviation"
            return
        if kind.startswith("text/plain"):
            assert self.declares("plain-text-errors"), f"{self.name}: text/plain body is not a declared deviation: {response.text[:200]}"
        elif kind.startswith("text/html"):
            assert self.declares("html-errors"), f"{self.name}: text/html body is not a declared deviation"
        elif "xml" in kind:
            assert self.declares("xml-metadata"), f"{self.name}: XML body is not a declared deviation"
