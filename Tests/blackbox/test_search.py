"""Search: parameter types, modifiers, prefixes, chains, includes, sorting, paging, totals."""
import unicodedata

from conftest import ids


def fold(text):
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn").lower()


def all_pages(client, type_, params):
    bundle = client.search(type_, params)
    found = ids(bundle)
    while True:
        following = [link["url"] for link in bundle.get("link", []) if link["relation"] == "next"]
        if not following:
            return found, bundle
        bundle = client.get(following[0]).json()
        found += ids(bundle)


def families(bundle):
    return [n.get("family", "") for e in bundle.get("entry", []) if e["search"]["mode"] == "match"
            for n in e["resource"]["name"]]


def test_string_default_is_case_and_accent_insensitive_starts_with(client):
    bundle = client.search("Patient", {"family": "nunez", "_count": 100})
    assert "pat-0010" in ids(bundle)
    for entry in bundle["entry"]:
        assert any(fold(n.get("family", "")).startswith("nunez") for n in entry["resource"]["name"])
    assert "pat-0013" in ids(client.search("Patient", {"family": "GARCIA", "_count": 100}))  # García-López
    assert "pat-0012" in ids(client.search("Patient", {"given": "bjorn"}))  # Björn
    assert "pat-0008" in ids(client.search("Patient", {"family": "o'conn"}))


def test_string_exact_and_contains(client):
    exact = client.search("Patient", {"family:exact": "Garcia", "_count": 100})
    assert {"pat-0001", "pat-0002", "pat-0003"} <= set(ids(exact))
    assert all(any(n.get("family") == "Garcia" for n in e["resource"]["name"]) for e in exact["entry"])
    assert client.search("Patient", {"family:exact": "garcia"}).get("total") == 0
    contains = client.search("Patient", {"family:contains": "jones", "_count": 100})
    assert "pat-0006" in ids(contains)  # Smith-Jones
    assert all(any("jones" in fold(n.get("family", "")) for n in e["resource"]["name"]) for e in contains["entry"])


def test_name_matches_any_part_including_old_names(client):
    assert "pat-0024" in ids(client.search("Patient", {"name": "okonkwo"}))  # maiden name
    assert "pat-0023" in ids(client.search("Patient", {"name": "liz"}))  # nickname


def test_string_and_repeated_params_and_or(client):
    both = client.search("Patient", {"family": "garcia", "given": "maria", "_count": 100})
    assert set(ids(both)) >= {"pat-0001", "pat-0002", "pat-0003"}
    either = client.search("Patient", {"family": "nunez,lefevre", "_count": 100})
    assert {"pat-0010", "pat-0011"} <= set(ids(either))


def test_token_forms(client):
    mrn = "http://riverbend.example.org/fhir/sid/mrn"
    assert ids(client.search("Patient", {"identifier": f"{mrn}|RB100010"})) == ["pat-0010"]
    assert ids(client.search("Patient", {"identifier": "RB100010"})) == ["pat-0010"]
    assert ids(client.search("Patient", {"identifier": "|RB100010"})) == []
    assert client.search("Patient", {"identifier": f"{mrn}|", "_summary": "count"})["total"] == 320
    females = client.search("Patient", {"gender": "female", "_count": 1000})
    assert females["total"] > 100 and all(e["resource"]["gender"] == "female" for e in females["entry"])
    not_female = client.search("Patient", {"gender:not": "female", "_count": 1000})
    assert not_female["total"] == 320 - females["total"]
    assert all(e["resource"].get("gender") != "female" for e in not_female["entry"])


def test_phone_token_matches_formatted_and_digit_forms(client):
    assert ids(client.search("Patient", {"phone": "309-555-0142"})) == ["pat-0014"]
    assert "pat-0014" in ids(client.search("Patient", {"phone": "3095550142"}))
    assert "pat-0014" in ids(client.search("Patient", {"phone": "7735550143"}))
    pair = set(ids(client.search("Patient", {"phone": "8475550160"})))
    assert {"pat-0020", "pat-0021"} <= pair
    assert "pat-0016" in ids(client.search("Patient", {"email": "grace.adams16@example.com"}))


def test_boolean_token_and_missing(client):
    inactive = client.search("Patient", {"active": "false"})
    assert ids(inactive) == ["pat-0018"]
    no_phone = ids(client.search("Patient", {"phone:missing": "true", "_count": 1000}))
    assert "pat-0015" in no_phone and "pat-0014" not in no_phone
    with_phone = client.search("Patient", {"phone:missing": "false", "_summary": "count"})["total"]
    assert with_phone + len(no_phone) == 320


def test_date_precision_and_prefixes(client):
    exact = client.search("Patient", {"birthdate": "1984-03-12"})
    assert "pat-0001" in ids(exact) and all(e["resource"]["birthDate"] == "1984-03-12" for e in exact["entry"])
    year = client.search("Patient", {"birthdate": "1984", "_count": 1000})
    assert year["total"] >= 1 and all(e["resource"]["birthDate"].startswith("1984") for e in year["entry"])
    month = client.search("Patient", {"birthdate": "1984-03", "_count": 1000})
    assert all(e["resource"]["birthDate"].startswith("1984-03") for e in month["entry"])
    older = client.search("Patient", {"birthdate": "lt1940", "_count": 1000})
    assert "pat-0015" in ids(older) and all(e["resource"]["birthDate"] < "1940" for e in older["entry"])
    newer = client.search("Patient", {"birthdate": "ge2010-01-01", "_count": 1000})
    assert all(e["resource"]["birthDate"] >= "2010-01-01" for e in newer["entry"])
    between = client.search("Patient", {"birthdate": ["gt1980", "le1985-12-31"], "_count": 1000})
    assert all("1981" <= e["resource"]["birthDate"] <= "1985-12-31" for e in between["entry"])
    not_year = client.search("Patient", {"birthdate": "ne1984", "_summary": "count"})["total"]
    assert not_year + year["total"] == 320
    starts_after = client.search("Patient", {"birthdate": "sa2012-06-05", "_count": 1000})
    assert "pat-0011" in ids(starts_after) and all(e["resource"]["birthDate"] > "2012-06-05" for e in starts_after["entry"])
    ends_before = client.search("Patient", {"birthdate": "eb1939-01-16", "_count": 1000})
    assert "pat-0015" in ids(ends_before)
    approx = client.search("Patient", {"birthdate": "ap1939-01-15", "_count": 1000})
    assert "pat-0015" in ids(approx)


def test_datetime_with_and_without_time_zone(client):
    # appt-0001 is 09:00 local (Chicago, -05:00 in April) on the day after the clock's date.
    appointment = client.get("Appointment/appt-0001").json()
    assert appointment["start"] == "2026-04-14T09:00:00-05:00"
    assert "appt-0001" in ids(client.search("Appointment", {"date": "2026-04-14"}))
    assert "appt-0001" in ids(client.search("Appointment", {"date": "2026-04-14T14:00:00Z"}))
    assert "appt-0001" in ids(client.search("Appointment", {"date": "2026-04-14T09:00:00-05:00"}))
    # No zone: read in the clinic's zone.
    assert "appt-0001" in ids(client.search("Appointment", {"date": "2026-04-14T09:00"}))
    assert "appt-0001" not in ids(client.search("Appointment", {"date": "2026-04-14T09:00Z"}))
    assert "appt-0001" not in ids(client.search("Appointment", {"date": "lt2026-04-14T13:59:59Z"}))


def test_last_updated(client):
    assert client.search("Patient", {"_lastUpdated": "2026-04-13T13:00:00Z", "_summary": "count"})["total"] == 320
    client.admin("POST", "/_admin/clock/advance", {"seconds": 60})
    created = client.post("Patient", {"resourceType": "Patient", "name": [{"family": "Latecomer"}]}).json()
    assert ids(client.search("Patient", {"_lastUpdated": "gt2026-04-13T13:00:30Z"})) == [created["id"]]


def test_reference_forms_and_type_modifier(client):
    assert ids(client.search("PractitionerRole", {"practitioner": "Practitioner/pract-okafor"})) == ["role-okafor"]
    assert ids(client.search("PractitionerRole", {"practitioner": "pract-okafor"})) == ["role-okafor"]
    assert "sched-okafor-main" in ids(client.search("Schedule", {"actor": "Practitioner/pract-okafor"}))
    assert ids(client.search("Schedule", {"actor:Practitioner": "pract-okafor"})) == ["sched-okafor-main"]
    assert "appt-0001" in ids(client.search("Appointment", {"patient": "pat-0001"}))
    assert "appt-0001" in ids(client.search("Appointment", {"actor": f"{client.base}/Patient/pat-0001"}))
    assert client.search("Appointment", {"patient": "Practitioner/pract-okafor"}).get("total") == 0


def test_chained_reference(client):
    assert "role-okafor" in ids(client.search("PractitionerRole", {"practitioner.family": "okafor"}))
    chained = client.search("Appointment", {"patient.family": "garcia", "_count": 100})
    assert "appt-0001" in ids(chained)
    assert "appt-0002" not in ids(chained)
    assert "sched-okafor-main" in ids(client.search("Schedule", {"actor:Practitioner.name": "amara"}))
    ambiguous = client.get("Schedule", params={"actor.name": "amara"})
    assert ambiguous.status_code in (200, 400)
    too_deep = client.get("Appointment", params={"patient.organization.name": "x"})
    assert too_deep.status_code == 400


def test_quantity_and_uri(client):
    observation = {"resourceType": "Observation", "status": "final",
                   "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                   "subject": {"reference": "Patient/pat-0001"}, "effectiveDateTime": "2026-04-10T10:00:00-05:00",
                   "valueQuantity": {"value": 72.50, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"},
                   "meta": {"profile": ["http://example.org/StructureDefinition/weight"]}}
    created = client.post("Observation", observation)
    assert created.status_code == 201
    oid = created.json()["id"]
    assert ids(client.search("Observation", {"value-quantity": "72.5|http://unitsofmeasure.org|kg"})) == [oid]
    assert ids(client.search("Observation", {"value-quantity": "gt70"})) == [oid]
    assert ids(client.search("Observation", {"value-quantity": "lt70"})) == []
    assert ids(client.search("Observation", {"value-quantity": "72.5||lb"})) == []
    assert ids(client.search("Observation", {"_profile": "http://example.org/StructureDefinition/weight"})) == [oid]
    assert ids(client.search("Observation", {"code": "http://loinc.org|29463-7", "patient": "pat-0001"})) == [oid]
    assert ids(client.search("Observation", {"date": "2026-04"})) == [oid]


def test_id_parameter(client):
    assert ids(client.search("Patient", {"_id": "pat-0001,pat-0002"})) == ["pat-0001", "pat-0002"]


def test_sort_single_descending_and_multiple(client):
    ascending = client.search("Patient", {"family": "smith", "_sort": "birthdate", "_count": 100})
    dates = [e["resource"]["birthDate"] for e in ascending["entry"]]
    assert len(dates) >= 2 and dates == sorted(dates)
    descending = client.search("Patient", {"family": "smith", "_sort": "-birthdate", "_count": 100})
    assert [e["resource"]["birthDate"] for e in descending["entry"]] == sorted(dates, reverse=True)
    several = client.search("Patient", {"family": "garcia", "_sort": "family,-birthdate", "_count": 100})
    keys = [(fold(e["resource"]["name"][0]["family"]), e["resource"]["birthDate"]) for e in several["entry"]]
    for (f1, b1), (f2, b2) in zip(keys, keys[1:]):
        assert f1 < f2 or (f1 == f2 and b1 >= b2)
    assert client.get("Patient", params={"_sort": "shoe-size"}).status_code == 400


def test_include_and_revinclude(client):
    bundle = client.search("PractitionerRole", {"_id": "role-okafor", "_include": "PractitionerRole:practitioner"})
    assert ids(bundle) == ["role-okafor"]
    assert ids(bundle, "include") == ["pract-okafor"]
    assert bundle["total"] == 1
    rev = client.search("Patient", {"_id": "pat-0001", "_revinclude": "Appointment:patient"})
    assert ids(rev) == ["pat-0001"] and "appt-0001" in ids(rev, "include")
    typed = client.search("Schedule", {"_id": "sched-okafor-main", "_include": "Schedule:actor:Location"})
    assert ids(typed, "include") == ["loc-main"]
    assert client.get("Patient", params={"_include": "Patient:family"}).status_code == 400


def test_summary_count_and_total_modes(client):
    count = client.search("Patient", {"family": "garcia", "_summary": "count"})
    assert count["total"] >= 4 and "entry" not in count
    none = client.search("Patient", {"family": "garcia", "_total": "none"})
    assert "total" not in none and len(ids(none)) >= 4
    assert client.get("Patient", params={"_total": "some"}).status_code == 400
    assert client.get("Patient", params={"_summary": "text"}).status_code == 400


def test_paging_walks_every_result_once(client):
    found, _ = all_pages(client, "Patient", {"_count": 50})
    assert len(found) == 320 and len(set(found)) == 320
    first = client.search("Patient", {"_count": 50})
    relations = [link["relation"] for link in first["link"]]
    assert relations[:2] == ["self", "first"] and "next" in relations and "previous" not in relations
    second = client.get(next(link["url"] for link in first["link"] if link["relation"] == "next")).json()
    assert "previous" in [link["relation"] for link in second["link"]]


def test_paging_is_stable_while_others_write(client):
    first = client.search("Patient", {"family": "garcia", "_count": 2})
    total = first["total"]
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    expected = ids(client.get(next_url).json())
    # Another client deletes a result on page 2 and adds a new match.
    client.delete(f"Patient/{expected[0]}")
    client.post("Patient", {"resourceType": "Patient", "name": [{"family": "Garcia", "given": ["Aaron"]}]})
    again = client.get(next_url).json()
    assert ids(again) == expected
    assert again["total"] == total


def test_count_zero_and_large(client):
    zero = client.search("Patient", {"_count": 0})
    assert zero["total"] == 320 and "entry" not in zero
    assert len(ids(client.search("Patient", {"_count": 5000}))) == 320
    assert client.get("Patient", params={"_count": "-1"}).status_code == 400
    assert client.get("Patient", params={"_count": "ten"}).status_code == 400


def test_unknown_parameters_lenient_and_strict(client):
    bundle = client.search("Patient", {"family": "garcia", "shoe-size": "11"})
    outcomes = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert len(outcomes) == 1 and outcomes[0]["issue"][0]["severity"] == "warning"
    assert "shoe-size" in outcomes[0]["issue"][0]["diagnostics"]
    self_link = next(link["url"] for link in bundle["link"] if link["relation"] == "self")
    assert self_link == f"{client.base}/Patient?family=garcia"
    strict = client.get("Patient", params={"family": "garcia", "shoe-size": "11"}, headers={"Prefer": "handling=strict"})
    assert strict.status_code == 400 and "shoe-size" in strict.text
    lenient = client.get("Patient", params={"shoe-size": "11"}, headers={"Prefer": "handling=lenient"})
    assert lenient.status_code == 200


def test_invalid_values_for_known_parameters_are_400(client):
    assert client.get("Patient", params={"birthdate": "1984-13"}).status_code == 400
    assert client.get("Patient", params={"birthdate": "yesterday"}).status_code == 400
    assert client.get("Patient", params={"family:fuzzy": "x"}).status_code == 400
    assert client.get("Patient", params={"general-practitioner": "bad id!"}).status_code == 400
    assert client.get("Patient", params={"phone:missing": "maybe"}).status_code == 400
    assert client.get("Observation", params={"value-quantity": "heavy"}).status_code == 400


def test_post_search_equals_get(client):
    posted = client.request("POST", "Patient/_search", data="family=garcia&_count=100",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert posted.status_code == 200
    assert ids(posted.json()) == ids(client.search("Patient", {"family": "garcia", "_count": 100}))
    wrong = client.request("POST", "Patient/_search", data='{"family":"x"}', headers={"Content-Type": "application/json"})
    assert wrong.status_code == 415


def test_every_type_is_searchable(client):
    for type_, minimum in [("Organization", 6), ("Location", 3), ("Practitioner", 9), ("PractitionerRole", 9),
                           ("HealthcareService", 3), ("Schedule", 11), ("Appointment", 8), ("Coverage", 200),
                           ("Condition", 40), ("Patient", 320)]:
        assert client.search(type_, {"_summary": "count"})["total"] >= minimum, type_
    for type_ in ["Slot", "Observation", "Communication", "DocumentReference", "Encounter"]:
        assert client.search(type_, {})["resourceType"] == "Bundle"
