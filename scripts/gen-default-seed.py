#!/usr/bin/env python3
"""Writes the FHIR resources of Seeds/default (a fictional clinic) as NDJSON, deterministically.

Everything here is invented: names come from small pools, phone numbers use the 555-01xx range
reserved for fiction, e-mail addresses use example.com/example.org, identifiers use the
clinic's example.org systems. Rerunning the script reproduces the files byte for byte.

Schedules and appointments are not written here: they are rendered at load time from
Seeds/default/schedules.yaml and appointments.yaml, relative to the sandbox clock.

    python3 scripts/gen-default-seed.py
"""
import json
import os
import random

OUT = os.path.join(os.path.dirname(__file__), "..", "Seeds", "default", "resources")
SYS = "http://riverbend.example.org/fhir"
MRN = f"{SYS}/sid/mrn"
NPI = "http://hl7.org/fhir/sid/us-npi"
rng = random.Random(20260413)

def write(name, resources):
    with open(os.path.join(OUT, name + ".ndjson"), "w") as f:
        for r in resources:
            f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")

def coding(system, code, display):
    return {"system": system, "code": code, "display": display}

SCT = "http://snomed.info/sct"
TAXONOMY = "http://nucc.org/provider-taxonomy"

organizations = [
    {"resourceType": "Organization", "id": "org-riverbend", "identifier": [{"system": f"{SYS}/sid/org", "value": "RFH"}],
     "active": True, "type": [{"coding": [coding("http://terminology.hl7.org/CodeSystem/organization-type", "prov", "Healthcare Provider")]}],
     "name": "Riverbend Family Health", "alias": ["RFH"],
     "telecom": [{"system": "phone", "value": "217-555-0100", "use": "work"}, {"system": "url", "value": "https://riverbend.example.org"}],
     "address": [{"use": "work", "line": ["400 Mill Race Road"], "city": "Riverbend", "state": "IL", "postalCode": "62999", "country": "US"}]},
    {"resourceType": "Organization", "id": "org-riverbend-northside", "active": True,
     "type": [{"coding": [coding("http://terminology.hl7.org/CodeSystem/organization-type", "dept", "Hospital Department")]}],
     "name": "Riverbend Family Health - Northside", "partOf": {"reference": "Organization/org-riverbend"},
     "telecom": [{"system": "phone", "value": "217-555-0101", "use": "work"}]},
]
payers = [
    ("org-payer-prairie", "Prairie Mutual Health", "PMH"),
    ("org-payer-heartland", "Heartland Blue Plan", "HBP"),
    ("org-payer-lakeshore", "Lakeshore Health Alliance", "LHA"),
    ("org-payer-medicare", "Medicare (fictional test payer)", "MCR"),
]
for pid, name, code in payers:
    organizations.append({"resourceType": "Organization", "id": pid, "active": True,
        "identifier": [{"system": f"{SYS}/sid/payer", "value": code}],
        "type": [{"coding": [coding("http://terminology.hl7.org/CodeSystem/organization-type", "pay", "Payer")]}],
        "name": name})

locations = [
    {"resourceType": "Location", "id": "loc-main", "identifier": [{"system": f"{SYS}/sid/location", "value": "MAIN"}],
     "status": "active", "name": "Riverbend Main Clinic", "alias": ["Main"], "mode": "instance",
     "type": [{"coding": [coding("http://terminology.hl7.org/CodeSystem/v3-RoleCode", "HOSP", "Hospital")]}],
     "telecom": [{"system": "phone", "value": "217-555-0100", "use": "work"}],
     "address": {"use": "work", "line": ["400 Mill Race Road"], "city": "Riverbend", "state": "IL", "postalCode": "62999", "country": "US"},
     "managingOrganization": {"reference": "Organization/org-riverbend"},
     "hoursOfOperation": [{"daysOfWeek": ["mon", "tue", "wed", "thu", "fri"], "openingTime": "08:00:00", "closingTime": "17:00:00"}]},
    {"resourceType": "Location", "id": "loc-northside", "identifier": [{"system": f"{SYS}/sid/location", "value": "NORTH"}],
     "status": "active", "name": "Riverbend Northside Clinic", "alias": ["Northside"], "mode": "instance",
     "telecom": [{"system": "phone", "value": "217-555-0101", "use": "work"}],
     "address": {"use": "work", "line": ["18 Quarry Street", "Suite 200"], "city": "Riverbend", "state": "IL", "postalCode": "62998", "country": "US"},
     "managingOrganization": {"reference": "Organization/org-riverbend-northside"},
     "hoursOfOperation": [{"daysOfWeek": ["mon", "tue", "wed", "thu"], "openingTime": "09:00:00", "closingTime": "18:00:00"},
                          {"daysOfWeek": ["fri"], "openingTime": "09:00:00", "closingTime": "13:00:00"}]},
    {"resourceType": "Location", "id": "loc-telehealth", "status": "active", "name": "Riverbend Virtual Visits", "mode": "kind",
     "type": [{"coding": [coding("http://terminology.hl7.org/CodeSystem/v3-RoleCode", "VI", "virtual")]}],
     "managingOrganization": {"reference": "Organization/org-riverbend"}},
]

# (id, given, family, prefix/suffix, gender, specialty SNOMED code, display, taxonomy, role code, locations, telehealth)
practitioners = [
    ("pract-okafor", ["Amara"], "Okafor", "MD", "female", "419772000", "Family practice", "207Q00000X", "doctor", ["loc-main"]),
    ("pract-reyes", ["Daniel", "J."], "Reyes", "MD", "male", "419192003", "Internal medicine", "207R00000X", "doctor", ["loc-main"]),
    ("pract-hoffmann", ["Lena"], "Hoffmann", "MD", "female", "394537008", "Pediatric specialty", "208000000X", "doctor", ["loc-main", "loc-northside"]),
    ("pract-nguyen", ["Samuel"], "Nguyen", "MD", "male", "394609007", "General surgery", "208600000X", "doctor", ["loc-main"]),
    ("pract-raman", ["Priya"], "Raman", "MD", "female", "394579002", "Cardiology", "207RC0000X", "doctor", ["loc-main"]),
    ("pract-martinez-garcia", ["José", "Luis"], "Martínez-García", "DO", "male", "419772000", "Family practice", "207Q00000X", "doctor", ["loc-northside"]),
    ("pract-obrien", ["Gráinne"], "O'Brien", "FNP-C", "female", "419772000", "Family practice", "363LF0000X", "nurse", ["loc-northside", "loc-telehealth"]),
    ("pract-larsen", ["Henrik"], "Larsen", "MD", "male", "394582007", "Dermatology", "207N00000X", "doctor", ["loc-main"]),
    ("pract-chen", ["Maya"], "Chen", "MD", "female", "394586005", "Gynecology", "207V00000X", "doctor", ["loc-northside"]),
]
pract_resources, role_resources = [], []
for i, (pid, given, family, suffix, gender, spec, spec_display, taxonomy, role, locs) in enumerate(practitioners):
    npi = f"1{rng.randrange(100000000, 999999999)}"
    pract_resources.append({"resourceType": "Practitioner", "id": pid,
        "identifier": [{"system": NPI, "value": npi}, {"system": f"{SYS}/sid/staff", "value": f"STAFF{100 + i}"}],
        "active": True, "name": [{"use": "official", "family": family, "given": given, "prefix": ["Dr."] if suffix in ("MD", "DO") else [], "suffix": [suffix]}],
        "telecom": [{"system": "phone", "value": f"217-555-01{10 + i:02d}", "use": "work"}, {"system": "email", "value": f"{pid[6:]}@riverbend.example.org", "use": "work"}],
        "gender": gender,
        "qualification": [{"code": {"coding": [coding(TAXONOMY, taxonomy, spec_display)], "text": suffix}}]})
    if not pract_resources[-1]["name"][0]["prefix"]:
        del pract_resources[-1]["name"][0]["prefix"]
    role_resources.append({"resourceType": "PractitionerRole", "id": f"role-{pid[6:]}", "active": True,
        "practitioner": {"reference": f"Practitioner/{pid}", "display": f"{' '.join(given)} {family}, {suffix}"},
        "organization": {"reference": "Organization/org-riverbend"},
        "code": [{"coding": [coding("http://terminology.hl7.org/CodeSystem/practitioner-role", role, role.capitalize())]}],
        "specialty": [{"coding": [coding(SCT, spec, spec_display)]}],
        "location": [{"reference": f"Location/{l}"} for l in locs],
        "healthcareService": [{"reference": "HealthcareService/hs-primary-care" if spec in ("419772000", "419192003", "394537008") else "HealthcareService/hs-specialty"}],
        "telecom": [{"system": "phone", "value": f"217-555-01{10 + i:02d}", "use": "work"}]})

services = [
    {"resourceType": "HealthcareService", "id": "hs-primary-care", "active": True, "providedBy": {"reference": "Organization/org-riverbend"},
     "category": [{"coding": [coding("http://terminology.hl7.org/CodeSystem/service-category", "17", "General Practice")]}],
     "type": [{"coding": [coding(SCT, "394814009", "General practice")]}],
     "specialty": [{"coding": [coding(SCT, "419772000", "Family practice")]}],
     "location": [{"reference": "Location/loc-main"}, {"reference": "Location/loc-northside"}],
     "name": "Primary care", "appointmentRequired": True},
    {"resourceType": "HealthcareService", "id": "hs-specialty", "active": True, "providedBy": {"reference": "Organization/org-riverbend"},
     "category": [{"coding": [coding("http://terminology.hl7.org/CodeSystem/service-category", "35", "Hospital")]}],
     "type": [{"coding": [coding(SCT, "394609007", "General surgery")]}, {"coding": [coding(SCT, "394579002", "Cardiology")]},
              {"coding": [coding(SCT, "394582007", "Dermatology")]}, {"coding": [coding(SCT, "394586005", "Gynecology")]}],
     "location": [{"reference": "Location/loc-main"}, {"reference": "Location/loc-northside"}],
     "name": "Specialty clinics", "appointmentRequired": True},
    {"resourceType": "HealthcareService", "id": "hs-telehealth", "active": True, "providedBy": {"reference": "Organization/org-riverbend"},
     "type": [{"coding": [coding(SCT, "394814009", "General practice")]}],
     "location": [{"reference": "Location/loc-telehealth"}], "name": "Virtual visits",
     "characteristic": [{"coding": [coding(f"{SYS}/CodeSystem/service-characteristic", "video", "Video visit")]}]},
]

GIVEN_F = ["Olivia", "Emma", "Ava", "Sophia", "Isabella", "Mia", "Amelia", "Harper", "Evelyn", "Abigail", "Emily", "Ella",
           "Elizabeth", "Camila", "Luna", "Sofia", "Avery", "Mila", "Aria", "Scarlett", "Penelope", "Layla", "Chloe", "Victoria",
           "Madison", "Eleanor", "Grace", "Nora", "Riley", "Zoey", "Hannah", "Hazel", "Lily", "Ellie", "Violet", "Lillian",
           "Zoë", "Chloé", "Renée", "Anne-Marie", "Siobhán", "María", "Inés", "Ngozi", "Mei", "Aaliyah", "Fatima", "Priyanka"]
GIVEN_M = ["Liam", "Noah", "Oliver", "Elijah", "James", "William", "Benjamin", "Lucas", "Henry", "Theodore", "Jack", "Levi",
           "Alexander", "Jackson", "Mateo", "Daniel", "Michael", "Mason", "Sebastian", "Ethan", "Logan", "Owen", "Samuel",
           "Jacob", "Asher", "Aiden", "John", "Joseph", "Wyatt", "David", "Leo", "Luke", "Julian", "Hudson", "Grayson",
           "José", "Björn", "François", "Jean-Luc", "Seán", "Tomás", "Chidi", "Wei", "Omar", "Rahul", "Kwame", "D'Andre"]
FAMILY = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez",
          "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez",
          "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen",
          "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
          "O'Connor", "O'Neil", "D'Angelo", "Smith-Jones", "Lefèvre", "Núñez", "Müller", "Østergaard", "Peña", "Van der Berg",
          "McAllister", "Okonkwo", "Nakamura", "Kowalski", "Abu-Bakr", "St. James", "García-López", "Dubois"]
STREETS = ["Maple Avenue", "Oak Street", "Prairie Lane", "Cedar Court", "Mill Race Road", "Quarry Street", "Elm Drive",
           "Lincoln Way", "Sycamore Circle", "Riverside Drive", "Harvest Road", "Willow Bend"]
CITIES = [("Riverbend", "62999"), ("Riverbend", "62998"), ("Oakton", "62997"), ("Millbrook", "62996"), ("Cedar Falls", "62995")]
AREA_CODES = ["217", "309", "312", "618", "630", "773", "815", "847"]
phone_pool = [f"{a}-555-01{n:02d}" for a in AREA_CODES for n in range(100)]
rng.shuffle(phone_pool)
phone_pool = [p for p in phone_pool if not p.startswith("217-555-01")]  # 217-555-01xx is the clinic's

def phone():
    return phone_pool.pop()

def fmt_variant(p):
    digits = p.replace("-", "")
    return rng.choice([p, f"({digits[:3]}) {digits[3:6]}-{digits[6:]}", digits, f"+1 {p}"])

def birthdate(min_age, max_age):
    year = 2026 - rng.randint(min_age, max_age)
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    return f"{year:04d}-{month:02d}-{day:02d}"

def address(use="home"):
    city, zip_code = rng.choice(CITIES)
    return {"use": use, "type": "physical", "line": [f"{rng.randint(10, 9999)} {rng.choice(STREETS)}"], "city": city,
            "state": "IL", "postalCode": zip_code, "country": "US"}

patients = []
notes = {}

def patient(n, given, family, gender, birth, phones=None, email=True, extra=None):
    pid = f"pat-{n:04d}"
    r = {"resourceType": "Patient", "id": pid,
         "identifier": [{"use": "usual", "type": {"coding": [coding("http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "Medical record number")], "text": "MRN"},
                         "system": MRN, "value": f"RB{100000 + n}"}],
         "active": True, "name": [{"use": "official", "family": family, "given": given}], "gender": gender, "birthDate": birth}
    if phones is None:
        phones = [{"system": "phone", "value": fmt_variant(phone()), "use": rng.choice(["home", "mobile", "mobile"])}]
    if phones:
        r["telecom"] = phones
    if email:
        handle = (given[0] + "." + family).lower().replace("'", "").replace(" ", "").replace("é", "e").replace("ë", "e").replace("á", "a").replace("í", "i").replace("ú", "u").replace("ñ", "n").replace("ü", "u").replace("ø", "o").replace("ó", "o").replace("ö", "o").replace("ç", "c").replace("è", "e")
        r.setdefault("telecom", []).append({"system": "email", "value": f"{handle}{n}@example.com"})
    r["address"] = [address()]
    r["communication"] = [{"language": {"coding": [coding("urn:ietf:bcp:47", "en-US", "English (United States)")]}, "preferred": True}]
    if extra:
        extra(r)
    patients.append(r)
    return r

n = 1
# Deliberate data problems first, at stable ids (documented in the seed README).
patient(n, ["Maria"], "Garcia", "female", "1984-03-12"); notes[n] = "same name as pat-0002 and pat-0003, different birth dates"; n += 1
patient(n, ["Maria"], "Garcia", "female", "1991-07-30"); notes[n] = "same name as pat-0001 and pat-0003"; n += 1
patient(n, ["Maria", "Elena"], "Garcia", "female", "1962-11-02"); notes[n] = "same name (plus middle name) as pat-0001/pat-0002"; n += 1
patient(n, ["Michael"], "Smith", "male", "1975-05-05"); notes[n] = "common name, same as pat-0005"; n += 1
patient(n, ["Michael"], "Smith", "male", "2001-09-19"); notes[n] = "common name, same as pat-0004"; n += 1
patient(n, ["Sarah"], "Smith-Jones", "female", "1988-01-23"); notes[n] = "hyphenated family name"; n += 1
patient(n, ["Anne-Marie"], "Dubois", "female", "1979-08-14"); notes[n] = "hyphenated given name"; n += 1
patient(n, ["Patrick"], "O'Connor", "male", "1956-02-29" if False else "1956-02-28"); notes[n] = "apostrophe in family name"; n += 1
patient(n, ["D'Andre"], "Williams", "male", "1993-12-01"); notes[n] = "apostrophe in given name"; n += 1
patient(n, ["José"], "Núñez", "male", "1969-04-17"); notes[n] = "accents: search 'nunez' finds him"; n += 1
patient(n, ["Zoë"], "Lefèvre", "female", "2012-06-06"); notes[n] = "accents, a minor"; n += 1
patient(n, ["Björn"], "Østergaard", "male", "1948-10-10"); notes[n] = "non-ASCII letters (ø folds to o)"; n += 1
patient(n, ["Tomás"], "García-López", "male", "1990-03-03"); notes[n] = "accented, hyphenated family name"; n += 1
patient(n, ["Wei"], "Nakamura", "female", "1985-09-09", phones=[
    {"system": "phone", "value": "309-555-0142", "use": "home"}, {"system": "phone", "value": "(773) 555-0143", "use": "mobile", "rank": 1},
    {"system": "phone", "value": "815-555-0144", "use": "work"}]); notes[n] = "three phone numbers (home, mobile rank 1, work)"; n += 1
patient(n, ["Harold"], "Kowalski", "male", "1939-01-15", phones=[], email=False); notes[n] = "no phone, no e-mail"; n += 1
patient(n, ["Grace"], "Adams", "female", "1972-12-24", phones=[], email=True); notes[n] = "e-mail only, no phone"; n += 1
def old_address(r):
    old = address("old")
    old["period"] = {"end": "2024-06-30"}
    r["address"].append(old)
patient(n, ["Eleanor"], "Hill", "female", "1958-07-07", extra=old_address); notes[n] = "current and old (use=old, ended) address"; n += 1
def merged_source(r):
    r["active"] = False
    r["link"] = [{"other": {"reference": "Patient/pat-0019"}, "type": "replaced-by"}]
patient(n, ["Jon"], "Baker", "male", "1980-02-02", phones=[{"system": "phone", "value": "630-555-0177", "use": "mobile"}], extra=merged_source)
notes[n] = "merged duplicate: inactive, link replaced-by pat-0019"; n += 1
def merged_target(r):
    r["link"] = [{"other": {"reference": "Patient/pat-0018"}, "type": "replaces"}]
patient(n, ["Jonathan"], "Baker", "male", "1980-02-02", phones=[{"system": "phone", "value": "(630) 555-0177", "use": "mobile"}], extra=merged_target)
notes[n] = "surviving record of the merged pair (link replaces pat-0018)"; n += 1
patient(n, ["Chloe"], "Martin", "female", "1995-11-11", phones=[{"system": "phone", "value": "847-555-0160", "use": "mobile"}])
notes[n] = "unmerged duplicate of pat-0021 (same person, phone formatted differently)"; n += 1
patient(n, ["Chloé"], "Martin", "female", "1995-11-11", phones=[{"system": "phone", "value": "8475550160", "use": "mobile"}])
notes[n] = "unmerged duplicate of pat-0020"; n += 1
def deceased(r):
    r["deceasedDateTime"] = "2025-10-02T14:30:00-05:00"
patient(n, ["Walter"], "Nelson", "male", "1931-03-30", extra=deceased); notes[n] = "deceased"; n += 1
def nickname(r):
    r["name"].append({"use": "nickname", "given": ["Liz"]})
patient(n, ["Elizabeth"], "Taylor", "female", "1966-08-08", extra=nickname); notes[n] = "official name plus nickname Liz"; n += 1
def maiden(r):
    r["name"].append({"use": "maiden", "family": "Okonkwo", "given": ["Ngozi"], "period": {"end": "2019-05-18"}})
patient(n, ["Ngozi"], "Robinson", "female", "1989-05-18", extra=maiden); notes[n] = "maiden name Okonkwo (old name still searchable)"; n += 1
def spanish(r):
    r["communication"] = [{"language": {"coding": [coding("urn:ietf:bcp:47", "es", "Spanish")]}, "preferred": True}]
patient(n, ["Inés"], "Peña", "female", "1977-02-14", extra=spanish); notes[n] = "prefers Spanish"; n += 1

while n <= 320:
    gender = rng.choice(["female", "male", "female", "male", "other"] if n % 53 == 0 else ["female", "male"])
    pool = GIVEN_F if gender == "female" else GIVEN_M if gender == "male" else GIVEN_F + GIVEN_M
    given = [rng.choice(pool)]
    if rng.random() < 0.25:
        given.append(rng.choice(pool)[0] + ".")
    kind = rng.random()
    if kind < 0.06:
        phones = []
    elif kind < 0.22:
        phones = [{"system": "phone", "value": fmt_variant(phone()), "use": "home"}, {"system": "phone", "value": fmt_variant(phone()), "use": "mobile"}]
    else:
        phones = None
    age = rng.choice([(0, 17), (18, 44), (18, 44), (45, 64), (45, 64), (65, 95)])
    patient(n, given, rng.choice(FAMILY), gender, birthdate(*age), phones=phones, email=rng.random() < 0.7,
            extra=old_address if rng.random() < 0.08 else None)
    n += 1

coverages = []
plans = {"org-payer-prairie": ["PPO Gold", "HMO Silver"], "org-payer-heartland": ["Blue Choice"], "org-payer-lakeshore": ["Alliance Basic"],
         "org-payer-medicare": ["Part B"]}
for p in patients:
    num = int(p["id"][4:])
    if num in (15, 22) or rng.random() < 0.12:
        continue  # no coverage on file
    age = 2026 - int(p["birthDate"][:4])
    payer = "org-payer-medicare" if age >= 65 else rng.choice(["org-payer-prairie", "org-payer-prairie", "org-payer-heartland", "org-payer-lakeshore"])
    plan = rng.choice(plans[payer])
    coverages.append({"resourceType": "Coverage", "id": f"cov-{num:04d}", "status": "active",
        "identifier": [{"system": f"{SYS}/sid/member-id", "value": f"{payer[10:13].upper()}{rng.randrange(10**8, 10**9)}"}],
        "type": {"coding": [coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "HIP" if payer != "org-payer-medicare" else "SUBSIDIZ", "health insurance plan policy" if payer != "org-payer-medicare" else "subsidized health program")]},
        "subscriber": {"reference": f"Patient/{p['id']}"}, "beneficiary": {"reference": f"Patient/{p['id']}"},
        "relationship": {"coding": [coding("http://terminology.hl7.org/CodeSystem/subscriber-relationship", "self", "Self")]},
        "period": {"start": f"{rng.choice([2022, 2023, 2024, 2025])}-01-01"},
        "payor": [{"reference": f"Organization/{payer}"}],
        "class": [{"type": {"coding": [coding("http://terminology.hl7.org/CodeSystem/coverage-class", "plan", "Plan")]}, "value": plan, "name": plan},
                  {"type": {"coding": [coding("http://terminology.hl7.org/CodeSystem/coverage-class", "group", "Group")]}, "value": f"G{rng.randrange(1000, 9999)}"}]})

conditions = []
COND = [("38341003", "Hypertensive disorder"), ("44054006", "Diabetes mellitus type 2"), ("195967001", "Asthma"),
        ("35489007", "Depressive disorder"), ("55822004", "Hyperlipidemia")]
for p in patients[::7]:
    code, display = rng.choice(COND)
    num = int(p["id"][4:])
    conditions.append({"resourceType": "Condition", "id": f"cond-{num:04d}",
        "clinicalStatus": {"coding": [coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active")]},
        "verificationStatus": {"coding": [coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed")]},
        "category": [{"coding": [coding("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item", "Problem List Item")]}],
        "code": {"coding": [coding(SCT, code, display)], "text": display},
        "subject": {"reference": f"Patient/{p['id']}"}, "onsetDateTime": f"{rng.randint(2005, 2024)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"})

os.makedirs(OUT, exist_ok=True)
write("Organization", organizations)
write("Location", locations)
write("Practitioner", pract_resources)
write("PractitionerRole", role_resources)
write("HealthcareService", services)
write("Patient", patients)
write("Coverage", coverages)
write("Condition", conditions)
def readme():
    def name(r):
        n = r["name"][0]
        return " ".join(n.get("prefix", []) + n.get("given", []) + [n.get("family", "")] + n.get("suffix", []))
    out = ["# Seed `default`: Riverbend Family Health", "",
           "A fictional two-site clinic. Every name, number and identifier is invented; phone numbers use the",
           "555-01xx range reserved for fiction. Generated by `scripts/gen-default-seed.py` (resources and this",
           "file) plus the hand-written YAML beside it. Ids are stable: tests and docs may cite them.", "",
           "Time zone `America/Chicago`; schedules and appointments are placed relative to the sandbox clock",
           "(`schedules.yaml`, `appointments.yaml`).", "",
           "| file | what |", "|---|---|",
           "| `seed.yaml` | name, time zone, planning horizon (days) |",
           "| `appointment-types.yaml` | visit types: code, v2-0276 code, minutes, booking rules |",
           "| `schedules.yaml` | weekly templates per practitioner and location, blocks, closures, vacations |",
           "| `appointments.yaml` | existing appointments, relative to the clock |",
           "| `resources/*.ndjson` | FHIR R4 resources, one per line |", "",
           "## Organizations", "", "| id | name |", "|---|---|"]
    out += [f"| `{o['id']}` | {o['name']} |" for o in organizations]
    out += ["", "## Locations", "", "| id | name |", "|---|---|"]
    out += [f"| `{l['id']}` | {l['name']} |" for l in locations]
    out += ["", "## Practitioners and roles", "", "| practitioner | role | name | specialty | locations |", "|---|---|---|---|---|"]
    for (pid, *_), p, r in zip(practitioners, pract_resources, role_resources):
        out.append(f"| `{pid}` | `{r['id']}` | {name(p)} | {r['specialty'][0]['coding'][0]['display']} | "
                   + ", ".join(f"`{x['reference'][9:]}`" for x in r["location"]) + " |")
    out += ["", "## Healthcare services", "", "| id | name |", "|---|---|"]
    out += [f"| `{h['id']}` | {h['name']} |" for h in services]
    out += ["", "## Schedules, appointment types, appointments", "",
            "Schedule ids are the `id`s in `schedules.yaml` (`sched-okafor-main`, `sched-raman-main`, ...); appointment",
            "types are the `code`s in `appointment-types.yaml` (`NEW_PATIENT`, `FOLLOW_UP`, `ANNUAL_PHYSICAL`, `URGENT`,",
            "`TELEHEALTH`, `PROCEDURE_CONSULT`); appointments are `appt-0001` ... `appt-0008` in `appointments.yaml`.", "",
            "Slots are generated from the templates relative to the clock, with ids",
            "`slot-<schedule without \"sched-\">-<yyyymmdd>-<hhmm>` in local time (`slot-okafor-main-20260414-0900`).",
            "The appointments that fill the next two weeks are `appt-<the first slot's id without \"slot-\">`",
            "(`appt-okafor-main-20260414-0920`): same seed and clock date, same ids.", "",
            "## Patients", "",
            f"`pat-0001` ... `pat-{len(patients):04d}`; MRN `RB1` + the number (`pat-0010` has MRN `RB100010`, system",
            f"`{MRN}`). Patients with deliberate data problems:", "", "| id | name | birth date | why it is here |", "|---|---|---|---|"]
    by_id = {p["id"]: p for p in patients}
    for k, v in notes.items():
        p = by_id[f"pat-{k:04d}"]
        out.append(f"| `{p['id']}` | {name(p)} | {p['birthDate']} | {v} |")
    out += ["", "## Coverage and conditions", "",
            f"`cov-NNNN` is the Coverage of `pat-NNNN` ({len(coverages)} patients have one; `pat-0015` and `pat-0022` do not).",
            "Payers: " + ", ".join(f"`{pid}` ({n})" for pid, n, _ in payers) + ".",
            f"`cond-NNNN` is a problem-list Condition of `pat-NNNN` ({len(conditions)} of them).", ""]
    with open(os.path.join(OUT, "..", "README.md"), "w") as f:
        f.write("\n".join(out))

readme()
print(f"{len(organizations)} organizations, {len(locations)} locations, {len(pract_resources)} practitioners, "
      f"{len(patients)} patients, {len(coverages)} coverages, {len(conditions)} conditions")
