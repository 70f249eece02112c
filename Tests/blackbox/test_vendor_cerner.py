"""Oracle Health (Cerner Millennium) FHIR rules that the cerner profile states as data
(Profiles/cerner.yaml). Each test names the fact it reproduces in
../shared/reference/vendor-quirks.md."""
import urllib.parse

import pytest
import requests

from conftest import Client
from test_vendor_auth import CERNER_AUTH, CERNER_BASE, backend
from vendorclient import CernerIds

NO_PARAMETERS = "no supported search parameters provided"


def cerner_patient(seed_id):
    """§2.4: Patient ids are numeric strings (Profiles/cerner.yaml: pat-NNNN is 12724NNNN)."""
    return "12724" + seed_id.split("-")[1]


CERNER_IDS = CernerIds()


def cerner_id(type_, seed_id):
    """§2.3, §2.4: the numeric id Cerner shows for a seed resource (Practitioner 8 digits, ...)."""
    return CERNER_IDS.external(seed_id, type_)


@pytest.fixture
def cerner(client):
    scopes = "system/Patient.read system/Slot.read system/Schedule.read system/Appointment.read"
    token = backend(client.origin + CERNER_AUTH + "/token", scopes).json()["access_token"]
    c = Client(client.origin, base=CERNER_BASE)
    c.session.headers["Authorization"] = f"Bearer {token}"
    return c


def plain_400(response):
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text == NO_PARAMETERS


def test_patient_search_any_one_parameter_once_with_one_value(cerner):
    """§2.4: any single one of _id, identifier, name, family, ... suffices; each at most once with a
    single value; birthdate without a time; a search with none is 400 with the plain-text body (§2.8)."""
    assert cerner.get("Patient", params={"family": "Garcia"}).status_code == 200
    found = cerner.search("Patient", {"_id": cerner_patient("pat-0001")})
    assert [e["resource"]["id"] for e in found["entry"]] == ["127240001"]
    plain_400(cerner.get("Patient", params={"gender": "female"}))
    plain_400(cerner.get("Patient"))
    repeated = cerner.get("Patient", params=[("family", "Garcia"), ("family", "Nguyen")])
    assert repeated.status_code == 400 and "only once" in repeated.json()["issue"][0]["diagnostics"]
    listed = cerner.get("Patient", params={"family": "Garcia,Nguyen"})
    assert listed.status_code == 400 and "single value" in listed.json()["issue"][0]["diagnostics"]
    timed = cerner.get("Patient", params={"birthdate": "1991-07-30T00:00:00Z"})
    assert timed.status_code == 400 and "time component" in timed.json()["issue"][0]["diagnostics"]
    assert cerner.get("Patient", params={"birthdate": "1991-07-30"}).status_code == 200


def test_no_bundle_total(cerner):
    """§2.7: the examples show no Bundle.total."""
    bundle = cerner.search("Patient", {"family": "Garcia"})
    assert "total" not in bundle and bundle["entry"]


def test_slot_search_rules(cerner):
    """§2.3: _id or service-type; start as a ge + lt pair with service-type or schedule.actor;
    service-type and schedule.actor at most once; only free slots come back, sorted by start."""
    plain_400(cerner.get("Slot", params={"start": "ge2026-04-20"}))
    plain_400(cerner.get("Slot", params={"service-type": "394814009"}))
    half = cerner.get("Slot", params={"service-type": "394814009", "start": "ge2026-04-20"})
    plain_400(half)
    window = [("start", "ge2026-04-20T00:00:00-05:00"), ("start", "lt2026-04-21T00:00:00-05:00")]
    bundle = cerner.search("Slot", [("service-type", "394814009")] + window + [("_count", "200")])
    slots = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "match"]
    assert slots and {s["status"] for s in slots} == {"free"}
    assert [s["start"] for s in slots] == sorted(s["start"] for s in slots)
    repeated = cerner.get("Slot", params=[("service-type", "394814009"), ("service-type", "394609007")] + window)
    assert repeated.status_code == 400 and "comma list" in repeated.json()["issue"][0]["diagnostics"]
    busy = cerner.search("Slot", [("service-type", "394814009"), ("status", "busy")] + window)
    assert [e for e in busy.get("entry", []) if e["search"]["mode"] == "match"] == []


def test_schedule_search_by_id_only(cerner):
    """§2.3: Schedule is searched by _id only (the CapabilityStatement says so too)."""
    schedule = cerner.search("Slot", [("service-type", "394814009"), ("start", "ge2026-04-14T13:00:00Z"),
                                      ("start", "lt2026-04-15T00:00:00Z")])["entry"][0]["resource"]["schedule"]["reference"].split("/")[1]
    assert cerner.search("Schedule", {"_id": schedule})["entry"][0]["resource"]["id"] == schedule
    # Issue 13, §2.3/§2.8: a search without _id is the plain-text 400, not every schedule.
    plain_400(cerner.get("Schedule", params={"actor": f"Practitioner/{cerner_id('Practitioner', 'pract-okafor')}"}))
    plain_400(cerner.get("Schedule"))
    statement = cerner.get("metadata").json()
    schedule = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Schedule")
    assert [p["name"] for p in schedule.get("searchParam", [])] == ["_id"]


def test_appointment_search_rules(cerner):
    """§2.3: exactly one of _id, patient, practitioner, location; with the last three a date pair
    or one prefixed date with a time."""
    plain_400(cerner.get("Appointment", params={"status": "booked"}))
    both = cerner.get("Appointment", params={"patient": cerner_patient("pat-0001"), "practitioner": cerner_id("Practitioner", "pract-okafor"), "date": "ge2026-04-01T00:00:00Z"})
    plain_400(both)
    plain_400(cerner.get("Appointment", params={"patient": cerner_patient("pat-0001")}))
    plain_400(cerner.get("Appointment", params={"patient": cerner_patient("pat-0001"), "date": "2026-04-13"}))
    assert cerner.get("Appointment", params={"patient": cerner_patient("pat-0001"), "date": "ge2026-04-01T00:00:00Z"}).status_code == 200
    pair = [("practitioner", cerner_id("Practitioner", "pract-okafor")), ("date", "ge2026-04-13T00:00:00Z"), ("date", "lt2026-04-20T00:00:00Z")]
    assert cerner.get("Appointment", params=pair).status_code == 200
    assert cerner.get("Appointment", params={"_id": cerner_id("Appointment", "appt-0001")}).status_code == 200


def test_json_only_with_an_empty_406(cerner, client):
    """§2.8: a non-JSON Accept is 406 with an empty body (generic answers JSON to text/html)."""
    refused = cerner.get("Patient/" + cerner_patient("pat-0001"), headers={"Accept": "text/html"})
    assert refused.status_code == 406 and refused.content == b""
    assert cerner.get("Patient/" + cerner_patient("pat-0001"), headers={"Accept": "application/json"}).status_code == 200
    assert client.get("Patient/pat-0001", headers={"Accept": "text/html"}).status_code == 200


def test_writes_answer_with_empty_bodies_and_need_if_match(client):
    """§2.9 (1, 2), §2.3: create is 201 with an empty body, a Location and ETag W/"0"; a patch needs
    If-Match (412 without it, 409 when stale) and answers 200 with an empty text/html body and a
    new weak ETag."""
    scopes = "system/Patient.read system/Patient.write"
    token = backend(client.origin + CERNER_AUTH + "/token", scopes).json()["access_token"]
    cerner = Client(client.origin, base=CERNER_BASE)
    cerner.session.headers["Authorization"] = f"Bearer {token}"
    created = cerner.post("Patient", {"resourceType": "Patient", "name": [{"family": "Lindqvist", "given": ["Ada"]}]})
    assert created.status_code == 201 and created.content == b""
    assert created.headers["ETag"] == 'W/"0"'
    location = created.headers["Location"]
    # Issue 13, §2.3: the Location names the resource (…/Patient/{id}), not a version; a client GETs it.
    assert "/Patient/" in location and "/_history" not in location
    assert requests.get(location, headers=dict(cerner.session.headers)).status_code == 200
    path = "Patient/" + location.split("/Patient/")[1].split("/")[0]
    assert path.split("/")[1].isdigit()  # §2.4: numeric Patient ids, new ones too
    read = cerner.get(path).json()
    assert read["meta"]["versionId"] == "0"
    operations = [{"op": "add", "path": "/active", "value": True}]
    assert cerner.patch(path, operations).status_code == 412
    patched = cerner.patch(path, operations, headers={"If-Match": 'W/"0"'})
    assert patched.status_code == 200 and patched.content == b""
    assert patched.headers["Content-Type"].startswith("text/html") and patched.headers["ETag"] == 'W/"1"'
    stale = cerner.patch(path, operations, headers={"If-Match": 'W/"0"'})
    assert stale.status_code == 409
    # Issue 13: the conflict quotes the versions the client sees (W/"0" against W/"1"), not stored ones.
    assert 'If-Match is W/"0" but' in stale.json()["issue"][0]["diagnostics"]
    assert 'is at W/"1"' in stale.json()["issue"][0]["diagnostics"]
    assert cerner.get(path).json()["meta"]["versionId"] == "1"


def test_an_interaction_cerner_does_not_offer_is_405_before_any_if_match_rule(client):
    """Issue 13, §2.3: Appointment updates are PATCH only, so a PUT is 405 (unsupported
    interaction) whether or not it carries If-Match — never 412 "If-Match is required"."""
    scopes = "system/Appointment.read system/Appointment.write"
    token = backend(client.origin + CERNER_AUTH + "/token", scopes).json()["access_token"]
    cerner = Client(client.origin, base=CERNER_BASE)
    cerner.session.headers["Authorization"] = f"Bearer {token}"
    appointment_id = cerner_id("Appointment", "appt-0001")
    current = cerner.get(f"Appointment/{appointment_id}").json()
    for headers in ({}, {"If-Match": 'W/"0"'}):
        response = cerner.put(f"Appointment/{appointment_id}", current, headers=headers)
        assert response.status_code == 405, (headers, response.text)
        assert response.json()["resourceType"] == "OperationOutcome"
    assert cerner.patch(f"Appointment/{appointment_id}", [{"op": "replace", "path": "/comment", "value": "x"}]).status_code == 412


def test_another_tenant_id_is_403_tenant_not_valid(cerner, client):
    """§2.8: an unknown tenant or an app not authorized for it gets 403 'Tenant not valid or accessible'."""
    other = requests.get(client.origin + "/cerner/r4/00000000-0000-0000-0000-000000000000/Patient/" + cerner_patient("pat-0001"),
                         headers={"Authorization": cerner.session.headers["Authorization"]})
    assert other.status_code == 403 and other.text == "Tenant not valid or accessible"
    assert cerner.get("Patient/" + cerner_patient("pat-0001")).status_code == 200


def test_mrn_with_cerner_oid_and_codeset_types(cerner):
    """§2.4: the MRN has system urn:oid:2.16.840.1.113883.6.1000 and type codings codeSet/4 code
    10 plus v2-0203 MR; identifier search works with or without the system."""
    patient = cerner.get("Patient/" + cerner_patient("pat-0002")).json()
    mrn = patient["identifier"][0]
    assert mrn["system"] == "urn:oid:2.16.840.1.113883.6.1000" and mrn["value"] == "RB100002"
    codes = {(c["system"].rsplit("/", 1)[-1], c["code"]) for c in mrn["type"]["coding"]}
    assert codes == {("4", "10"), ("v2-0203", "MR")}
    for token in ("urn:oid:2.16.840.1.113883.6.1000|RB100002", "RB100002"):
        found = cerner.search("Patient", {"identifier": token})
        assert [e["resource"]["id"] for e in found["entry"]] == [cerner_patient("pat-0002")], token


def test_phones_are_raw_digits_with_extensions_ids_ranks_and_expired_duplicates(cerner):
    """§2.4: phone values are raw digits, repeated in the iso21090-TEL-address extension; each
    telecom has an element id and a rank; duplicate entries with expired periods occur."""
    patient = cerner.get("Patient/" + cerner_patient("pat-0003")).json()
    phones = [t for t in patient["telecom"] if t["system"] == "phone"]
    assert phones and all(p["value"].isdigit() for p in phones)
    for phone in phones:
        assert phone["extension"] == [{"url": "http://hl7.org/fhir/StructureDefinition/iso21090-TEL-address", "valueUrl": phone["value"]}]
    assert all(t["id"].startswith("CI-") for t in patient["telecom"])
    assert [t["rank"] for t in patient["telecom"]] == list(range(1, len(patient["telecom"]) + 1))
    expired = [p for p in phones if "end" in p.get("period", {})]
    assert expired and expired[0]["value"] == phones[0]["value"]


def test_paging_by_page_context_links(cerner):
    """§2.7, §2.9 (8): self/next/previous links only; next URLs carry pageContext and
    direction=NEXT with the search's parameters, Slot's -pageContext and -pageDirection without
    them; following the links walks every match once; an unknown context is a 400."""
    first = cerner.search("Patient", {"family": "Garcia", "_count": "2"})
    relations = [link["relation"] for link in first["link"]]
    assert relations == ["self", "next"]
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(following).query)
    assert query["family"] == ["Garcia"] and query["direction"] == ["NEXT"] and len(query["pageContext"]) == 1
    assert not any(name.startswith("_page") for name in query)
    seen = [e["resource"]["id"] for e in first["entry"]]
    while following:
        page = cerner.get(following).json()
        assert "total" not in page
        seen += [e["resource"]["id"] for e in page["entry"]]
        assert {link["relation"] for link in page["link"]} <= {"self", "next", "previous"}
        following = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
    everyone = cerner.search("Patient", {"family": "Garcia", "_count": "200"})
    assert sorted(seen) == sorted(e["resource"]["id"] for e in everyone["entry"]) and len(seen) == len(set(seen)) > 2

    slots = cerner.search("Slot", [("service-type", "394814009"), ("start", "ge2026-04-14T13:00:00Z"),
                                   ("start", "lt2026-04-16T00:00:00Z"), ("_count", "5")])
    slot_next = next(link["url"] for link in slots["link"] if link["relation"] == "next")
    slot_query = urllib.parse.parse_qs(urllib.parse.urlsplit(slot_next).query)
    assert set(slot_query) == {"-pageContext", "-pageDirection"} and slot_query["-pageDirection"] == ["NEXT"]
    second = cerner.get(slot_next).json()
    assert len(second["entry"]) == 5 and second["entry"][0]["resource"]["start"] >= slots["entry"][-1]["resource"]["start"]
    back = next(link["url"] for link in second["link"] if link["relation"] == "previous")
    assert [e["resource"]["id"] for e in cerner.get(back).json()["entry"]] == [e["resource"]["id"] for e in slots["entry"]]
    unknown = cerner.get("Slot", params={"-pageContext": "00000000-0000-0000-0000-000000000000", "-pageDirection": "NEXT"})
    assert unknown.status_code == 400 and "-pageContext" in unknown.text


def test_composite_dashed_slot_schedule_and_coverage_ids(cerner, client):
    """§2.3, §2.5, §2.9 (5): Slot and Schedule ids are composite dashed strings
    ({serviceType}-{location}-{resource}-{n}); Coverage ids {patient}-{n}-{n}. They are reversible
    (/_admin/compare relates them to seed ids) and work in reads, _id searches and references."""
    import re
    slot = cerner.search("Slot", [("service-type", "394814009"), ("start", "ge2026-04-14T13:00:00Z"),
                                  ("start", "lt2026-04-15T00:00:00Z"), ("_include", "Slot:schedule")])
    first = slot["entry"][0]["resource"]
    assert re.fullmatch(r"\d+-\d{8}-\d{8}-\d{12}", first["id"]), first["id"]
    schedule = first["schedule"]["reference"].split("/")[1]
    assert re.fullmatch(r"\d+-\d{8}-\d{8}-0", schedule) and first["id"].startswith(schedule[:-1])
    included = [e["resource"]["id"] for e in slot["entry"] if e["search"]["mode"] == "include"]
    assert schedule in included
    assert cerner.get(f"Slot/{first['id']}").json()["start"] == first["start"]
    assert cerner.search("Slot", {"_id": first["id"]})["entry"][0]["resource"]["id"] == first["id"]
    compared = client.admin("GET", "/_admin/compare?type=Schedule&seedId=sched-okafor-main").json()
    assert re.fullmatch(r"24477854-\d{8}-\d{8}-0", compared["profiles"]["cerner"]["id"])
    coverage = client.admin("GET", "/_admin/compare?type=Coverage&seedId=cov-0001").json()["profiles"]["cerner"]
    assert coverage["id"] == "127240001-490000001-490000001" and coverage["status"] == 200


def test_a_phone_extension_is_raw_digits_plus_contactpoint_extension(client):
    """§2.4: phone values are raw digits; the extension number sits in the contactpoint-extension
    extension as a valueString ("345")."""
    token = backend(client.origin + CERNER_AUTH + "/token", "system/Patient.read system/Patient.write").json()["access_token"]
    cerner = Client(client.origin, base=CERNER_BASE)
    cerner.session.headers["Authorization"] = f"Bearer {token}"
    created = cerner.post("Patient", {"resourceType": "Patient", "name": [{"family": "Lindqvist", "given": ["Ada"]}],
                                      "telecom": [{"system": "phone", "value": "(309) 555-0100 x345", "use": "work"}]})
    assert created.status_code == 201
    path = created.headers["Location"].split(CERNER_BASE + "/")[1].split("/_history")[0]
    phone = cerner.get(path).json()["telecom"][0]
    assert phone["value"] == "3095550100"
    assert {"url": "http://hl7.org/fhir/StructureDefinition/contactpoint-extension", "valueString": "345"} in phone["extension"]
    assert {"url": "http://hl7.org/fhir/StructureDefinition/iso21090-TEL-address", "valueUrl": "3095550100"} in phone["extension"]
    # Written to the cerner tenant only: the generic profile's copy of the clinic has no such patient.
    assert client.get("Patient?family=Lindqvist").json()["total"] == 0


def test_every_id_is_numeric_and_the_composites_use_the_same_numbers(client):
    """Issue 13, §2.3/§2.4: Millennium ids are numeric in every example (Patient 12724066,
    Practitioner 593923, Location 32216049); the Practitioner and Location numbers a client reads
    are the ones inside Slot and Schedule ids, and ids the server assigns are numeric too."""
    import re
    c = Client(client.origin, base=CERNER_BASE)
    scopes = ("system/Practitioner.read system/Location.read system/Slot.read system/Schedule.read "
              "system/Appointment.read system/Appointment.write")
    c.session.headers["Authorization"] = "Bearer " + backend(client.origin + CERNER_AUTH + "/token", scopes).json()["access_token"]
    okafor = c.search("Practitioner", {"family": "Okafor"})["entry"][0]["resource"]["id"]
    main = c.search("Location", {"name": "Riverbend Main Clinic"})["entry"][0]["resource"]["id"]
    assert re.fullmatch(r"\d{8}", okafor) and re.fullmatch(r"\d{8}", main), (okafor, main)
    assert okafor == cerner_id("Practitioner", "pract-okafor") and main == cerner_id("Location", "loc-main")
    assert c.get("Practitioner/pract-okafor").status_code == 404, "the seed's names are not Cerner ids"
    schedule = c.search("Schedule", {"_id": cerner_id("Schedule", "sched-okafor-main")})["entry"][0]["resource"]
    assert schedule["id"] == f"24477854-{main}-{okafor}-0"
    assert f"Practitioner/{okafor}" in [a["reference"] for a in schedule["actor"]]
    appointment = c.search("Appointment", {"_id": cerner_id("Appointment", "appt-0001")})["entry"][0]["resource"]
    assert appointment["id"].isdigit()
    slot = c.search("Slot", [("schedule.actor", f"Practitioner/{okafor}"), ("service-type", "394814009"),
                             ("start", "ge2026-04-14T13:00:00Z"), ("start", "lt2026-04-15T00:00:00Z")])["entry"][0]["resource"]
    created = c.post("Appointment", {"resourceType": "Appointment", "status": "booked", "slot": [{"reference": f"Slot/{slot['id']}"}],
                                     "participant": [{"actor": {"reference": f"Patient/{cerner_patient('pat-0004')}"}, "status": "accepted"}]})
    assert created.status_code == 201, created.text
    new_id = created.headers["Location"].split("/Appointment/")[1].split("/")[0]
    assert new_id.isdigit(), new_id
    read = c.get(f"Appointment/{new_id}")
    assert read.status_code == 200 and read.json()["id"] == new_id


def test_slot_search_by_provider(client):
    """Issue 13, §2.3: `schedule.actor` (a comma list of Practitioner references) narrows Slot
    search, with service-type and a start pair; every slot returned is on that provider's schedule."""
    c = Client(client.origin, base=CERNER_BASE)
    scopes = "system/Slot.read system/Schedule.read"
    c.session.headers["Authorization"] = "Bearer " + backend(client.origin + CERNER_AUTH + "/token", scopes).json()["access_token"]
    okafor = cerner_id("Practitioner", "pract-okafor")
    window = [("start", "ge2026-04-14T13:00:00Z"), ("start", "lt2026-04-15T00:00:00Z")]
    response = c.get("Slot", params=[("schedule.actor", f"Practitioner/{okafor}"), ("service-type", "394814009")] + window)
    assert response.status_code == 200, response.text
    slots = [e["resource"] for e in response.json()["entry"] if e["search"]["mode"] == "match"]
    assert slots and all(f"-{okafor}-" in s["id"] for s in slots)
    everyone = c.search("Slot", [("service-type", "394814009")] + window + [("_count", "500")])
    assert len([e for e in everyone["entry"] if e["search"]["mode"] == "match"]) > len(slots)
    reyes = cerner_id("Practitioner", "pract-reyes")
    both = c.search("Slot", [("schedule.actor", f"Practitioner/{okafor},Practitioner/{reyes}"), ("service-type", "394814009")] + window
                    + [("_count", "500")])
    ids = [e["resource"]["id"] for e in both["entry"] if e["search"]["mode"] == "match"]
    assert any(f"-{reyes}-" in i for i in ids) and any(f"-{okafor}-" in i for i in ids)
    assert all(f"-{reyes}-" in i or f"-{okafor}-" in i for i in ids)


def test_every_appointment_is_shown_in_utc_with_a_numeric_id(client):
    """Issue 13, §2.3: Slot and Appointment times are UTC with a Z suffix — the seeded appointments
    too (stored with the clinic's offset) — and every appointment id is numeric, the clinic's
    generated ones included."""
    import re
    c = Client(client.origin, base=CERNER_BASE)
    c.session.headers["Authorization"] = "Bearer " + backend(client.origin + CERNER_AUTH + "/token",
                                                             "system/Appointment.read").json()["access_token"]
    okafor = cerner_id("Practitioner", "pract-okafor")
    bundle = c.search("Appointment", [("practitioner", okafor), ("date", "ge2026-04-13T00:00:00Z"), ("date", "lt2026-04-18T00:00:00Z"),
                                      ("_count", "100")])
    appointments = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "match"]
    assert len(appointments) > 3, "the seed's appointment and the generated ones"
    seeded = cerner_id("Appointment", "appt-0001")
    assert seeded in [a["id"] for a in appointments]
    for appointment in appointments:
        assert appointment["id"].isdigit(), appointment["id"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", appointment["start"]), appointment["start"]
        assert appointment["end"].endswith("Z")
        assert c.get(f"Appointment/{appointment['id']}").json()["start"] == appointment["start"]
    # §2.3: results are sorted by start ascending.
    assert [a["start"] for a in appointments] == sorted(a["start"] for a in appointments)
    first = next(a for a in appointments if a["id"] == seeded)
    assert first["start"] == "2026-04-14T14:00:00Z", "09:00 in Chicago (CDT) on the clock's next day"


def test_name_search_matches_current_names_and_merged_patients_only_by_id(cerner, client):
    """Issue 13, §2.4: name, family and given match current names only (Ngozi Robinson's maiden
    name Okonkwo does not find her, though generic does); a merged ("combined") patient is
    returned only by id (Jon Baker, pat-0018, merged into pat-0019)."""
    assert "pat-0024" in [e["resource"]["id"] for e in client.search("Patient", {"family": "Okonkwo", "_count": 100})["entry"]]
    for params in ({"family": "Okonkwo"}, {"name": "okonk"}, {"family:exact": "Okonkwo"}):
        found = [e["resource"]["id"] for e in cerner.search("Patient", {**params, "_count": 100}).get("entry", [])]
        assert cerner_patient("pat-0024") not in found, params
    robinson = cerner.search("Patient", {"family": "Robinson"})
    assert cerner_patient("pat-0024") in [e["resource"]["id"] for e in robinson["entry"]]
    bakers = [e["resource"]["id"] for e in cerner.search("Patient", {"family": "Baker"})["entry"]]
    assert cerner_patient("pat-0019") in bakers and cerner_patient("pat-0018") not in bakers
    merged = cerner.search("Patient", {"_id": cerner_patient("pat-0018")})["entry"][0]["resource"]
    assert any(link["type"] == "replaced-by" and link["other"]["reference"] == f"Patient/{cerner_patient('pat-0019')}"
               for link in merged["link"])
    assert cerner.get(f"Patient/{cerner_patient('pat-0018')}").status_code == 200


def test_a_patient_without_gender_reads_back_with_data_absent_reason(client):
    """Issue 13, §2.8: a missing US Core required element comes back as a data-absent-reason
    extension: a Patient created without gender reads back with _gender carrying it."""
    c = Client(client.origin, base=CERNER_BASE)
    c.session.headers["Authorization"] = "Bearer " + backend(client.origin + CERNER_AUTH + "/token",
                                                             "system/Patient.read system/Patient.write").json()["access_token"]
    created = c.post("Patient", {"resourceType": "Patient", "name": [{"family": "Absent", "given": ["Ada"]}]})
    assert created.status_code == 201
    patient = c.get(created.headers["Location"]).json()
    assert "gender" not in patient
    assert patient["_gender"] == {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                                                 "valueCode": "unknown"}]}
    assert "_gender" not in c.get(f"Patient/{cerner_patient('pat-0001')}").json()


def test_slot_search_by_location(cerner):
    """Issue 13, §2.3: -location (a comma list of Location references or bare ids), with
    service-type and a start pair: every slot returned is at that location."""
    main, north = cerner_id("Location", "loc-main"), cerner_id("Location", "loc-northside")
    window = [("start", "ge2026-04-14T13:00:00Z"), ("start", "lt2026-04-16T00:00:00Z"), ("_count", "500")]
    for value in (main, f"Location/{main}"):
        slots = [e["resource"] for e in cerner.search("Slot", [("-location", value), ("service-type", "394814009")] + window)["entry"]]
        assert slots and all(s["id"].split("-")[1] == main for s in slots), value
        assert all(s["extension"][0]["valueReference"]["reference"] == f"Location/{main}" for s in slots)
    both = cerner.search("Slot", [("-location", f"{main},{north}")] + window)
    assert {e["resource"]["id"].split("-")[1] for e in both["entry"]} == {main, north}
    plain_400(cerner.get("Slot", params=[("-location", main)]))  # start is required with -location


def test_include_needs_the_included_types_scope_and_comes_once(client):
    """Issue 13, §2.3: _include only once (Slot:schedule or Schedule:actor:Practitioner), and it
    needs Schedule.read (or Practitioner.read) too: without it the search is refused (403,
    insufficient_scope; ASSUMPTION: the reference gives the need, not the answer)."""
    window = [("service-type", "394814009"), ("start", "ge2026-04-14T13:00:00Z"), ("start", "lt2026-04-15T00:00:00Z")]
    slots_only = Client(client.origin, base=CERNER_BASE)
    slots_only.session.headers["Authorization"] = "Bearer " + backend(client.origin + CERNER_AUTH + "/token",
                                                                      "system/Slot.read").json()["access_token"]
    refused = slots_only.get("Slot", params=window + [("_include", "Slot:schedule")])
    assert refused.status_code == 403 and "insufficient_scope" in refused.headers["WWW-Authenticate"]
    assert slots_only.get("Slot", params=window).status_code == 200
    both = Client(client.origin, base=CERNER_BASE)
    both.session.headers["Authorization"] = "Bearer " + backend(client.origin + CERNER_AUTH + "/token",
                                                                "system/Slot.read system/Schedule.read").json()["access_token"]
    included = both.search("Slot", window + [("_include", "Slot:schedule")])
    assert any(e["search"]["mode"] == "include" and e["resource"]["resourceType"] == "Schedule" for e in included["entry"])
    twice = both.get("Slot", params=window + [("_include", "Slot:schedule"), ("_include", "Slot:schedule")])
    assert twice.status_code == 400 and "_include" in twice.json()["issue"][0]["diagnostics"]


CODESET_14249 = "https://fhir.cerner.com/ec2458f2-1e24-41c8-b71b-0e701af7583d/codeSet/14249"


def test_service_types_are_codeset_14249_codes_and_not_mixed_with_snomed(cerner):
    """Issue 13, §2.3/§2.10: Millennium service types are codeSet 14249 codes (24477854
    Established Patient): Slot.serviceType carries that coding first (userSelected) with the
    SNOMED one after; Slot and Schedule ids begin with it; service-type takes either system, but
    "standard codes and proprietary codes must not be mixed" in one search (400)."""
    window = [("start", "ge2026-04-14T13:00:00Z"), ("start", "lt2026-04-15T00:00:00Z")]
    by_codeset = cerner.search("Slot", [("service-type", f"{CODESET_14249}|24477854")] + window)
    slots = [e["resource"] for e in by_codeset["entry"]]
    assert slots and all(s["id"].startswith("24477854-") for s in slots)
    concept = slots[0]["serviceType"][0]
    assert concept["coding"][0] == {"system": CODESET_14249, "code": "24477854", "display": "Established Patient", "userSelected": True}
    assert concept["coding"][1]["system"] == "http://snomed.info/sct" and concept["coding"][1]["userSelected"] is False
    assert concept["text"] == "Established Patient"
    by_snomed = cerner.search("Slot", [("service-type", "http://snomed.info/sct|394814009")] + window)
    assert [s["resource"]["id"] for s in by_snomed["entry"]] == [s["id"] for s in slots]
    mixed = cerner.get("Slot", params=[("service-type", f"{CODESET_14249}|24477854,http://snomed.info/sct|394609007")] + window)
    assert mixed.status_code == 400 and "not both" in mixed.json()["issue"][0]["diagnostics"]
    unknown = cerner.search("Slot", [("service-type", f"{CODESET_14249}|394814009")] + window)
    assert [e for e in unknown.get("entry", []) if e["search"]["mode"] == "match"] == [], "a SNOMED code is not a 14249 code"
