#!/usr/bin/env python3
"""Writes a scaled copy of Seeds/default for the scheduling benchmark: the default clinic plus
--extra fictional family-medicine practitioners (pract-bench-NN, default 20, so 29 in all),
each with a PractitionerRole and a Monday-Friday schedule at the main clinic (sched-bench-NN-main,
20-minute slots, 08:00-12:00 and 13:00-17:00, the primary-care visit types). The planning horizon
stays the seed's 90 days. Standard library only; fictional data, no real people.

usage: scale-seed.py SOURCE DEST [--extra N]
"""
import argparse
import json
import os
import shutil

SURNAMES = ["Abbott", "Birch", "Calloway", "Dunmore", "Ellery", "Fairbanks", "Galloway", "Hartwell", "Ingram", "Jessup",
            "Kerrigan", "Lindqvist", "Mallory", "Northcott", "Oyelaran", "Prescott", "Quimby", "Radley", "Sorensen", "Thackeray",
            "Underhill", "Vantongeren", "Whitlock", "Yardley", "Zeller"]
GIVEN = ["Avery", "Blair", "Casey", "Devon", "Emerson", "Finley", "Gray", "Harper", "Indra", "Jordan",
         "Kai", "Logan", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Reese", "Sage", "Taylor",
         "Umber", "Vale", "Wren", "Yael", "Zion"]
FAMILY_PRACTICE = {"system": "http://snomed.info/sct", "code": "419772000", "display": "Family practice"}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("dest")
    parser.add_argument("--extra", type=int, default=20)
    options = parser.parse_args()
    if options.extra > len(SURNAMES):
        parser.error(f"--extra is at most {len(SURNAMES)}")
    shutil.copytree(options.source, options.dest, dirs_exist_ok=True)
    resources = os.path.join(options.dest, "resources")
    practitioners, roles, schedules = [], [], []
    for n in range(1, options.extra + 1):
        pid = f"pract-bench-{n:02d}"
        family, given = SURNAMES[n - 1], GIVEN[n - 1]
        practitioners.append({
            "resourceType": "Practitioner", "id": pid, "active": True,
            "identifier": [{"system": "http://riverbend.example.org/fhir/sid/staff", "value": f"STAFF9{n:02d}"}],
            "name": [{"use": "official", "family": family, "given": [given], "prefix": ["Dr."], "suffix": ["MD"]}],
        })
        roles.append({
            "resourceType": "PractitionerRole", "id": f"role-bench-{n:02d}", "active": True,
            "practitioner": {"reference": f"Practitioner/{pid}", "display": f"{given} {family}, MD"},
            "organization": {"reference": "Organization/org-riverbend"},
            "specialty": [{"coding": [FAMILY_PRACTICE]}],
            "location": [{"reference": "Location/loc-main"}],
        })
        day = '[{start: "08:00", end: "12:00"}, {start: "13:00", end: "17:00"}]'
        schedules.append(f"""  - id: sched-bench-{n:02d}-main
    practitioner: {pid}
    location: loc-main
    slotMinutes: 20
    specialty: "419772000"
    serviceType: "394814009"
    week:
""" + "".join(f"      {weekday}: {day}\n" for weekday in ["monday", "tuesday", "wednesday", "thursday", "friday"])
            + "    types: [NEW_PATIENT, FOLLOW_UP, ANNUAL_PHYSICAL, URGENT]\n")
    for name, rows in [("Practitioner", practitioners), ("PractitionerRole", roles)]:
        with open(os.path.join(resources, f"{name}.ndjson"), "a") as f:
            f.write("".join(json.dumps(row, separators=(",", ":")) + "\n" for row in rows))
    with open(os.path.join(options.dest, "schedules.yaml"), "a") as f:
        f.write("".join(schedules))


if __name__ == "__main__":
    main()
