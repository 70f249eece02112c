"""Epic's FHIR rules that the epic profile states as data (Profiles/epic.yaml). Each test names
the fact it reproduces in ../shared/reference/vendor-quirks.md."""
import pytest
import requests

from conftest import Client
from fhirvalidation import assert_valid
from test_vendor_auth import EPIC_BASE, EPIC_TOKEN, backend, epic_id

EPIC_SYSTEM = "urn:oid:1.2.840.114350.1.13.0.1.7.2.657369"


@pytest.fixture
def epic(client):
    token = backend(client.origin + EPIC_TOKEN, "system/Patient.read system/Appointment.read").json()["access_token"]
    c = Client(client.origin, base=EPIC_BASE)
    c.session.headers["Authorization"] = f"Bearer {token}"
    return c


def epic_codes(body):
    return [(i["severity"], i["details"]["coding"][0]["code"], i["details"]["coding"][0]["system"]) for i in body["issue"] if "details" in i]


def test_patient_search_needs_a_minimum_data_set(epic):
    """§1.4: one of _id, identifier, given+family+birthdate, given+family+gender+(phone|email);
    otherwise 400 with OperationOutcome code 59159 in Epic's OID system (§1.8)."""
    for params in ({"family": "Garcia"}, {"given": "Maria", "family": "Garcia"}, {"birthdate": "1991-07-30"}, {}):
        response = epic.get("Patient", params=params)
        assert response.status_code == 400, (params, response.text)
        assert epic_codes(response.json()) == [("fatal", "59159", EPIC_SYSTEM)]
        assert response.json()["issue"][0]["details"]["text"] == "This resource requires demographics or _id parameter for searching."
    for params in ({"_id": epic_id("pat-0001")}, {"given": "Maria", "family": "Garcia", "birthdate": "1991-07-30"},
                   {"given": "Maria", "family": "Garcia", "gender": "female", "phone": "555"}):
        response = epic.get("Patient", params=params)
        assert response.status_code == 200, (params, response.text)


def test_more_than_100_patient_matches_is_4127(epic):
    """§1.4: more than 100 matches gives error 4127; the caller must narrow the search."""
    ids = ",".join(epic_id(f"pat-{n:04d}") for n in range(1, 102))
    response = epic.get("Patient", params={"_id": ids})
    assert response.status_code == 400
    assert epic_codes(response.json()) == [("fatal", "4127", EPIC_SYSTEM)]
    hundred = ",".join(epic_id(f"pat-{n:04d}") for n in range(1, 101))
    assert epic.get("Patient", params={"_id": hundred}).status_code == 200


def test_unknown_parameters_are_ignored_with_59100(epic):
    """§1.8: unknown query parameters are ignored with an information-level 59100 issue, not a 400."""
    response = epic.get("Patient", params={"_id": epic_id("pat-0001"), "shoe-size": "9"})
    assert response.status_code == 200
    outcome = next(e["resource"] for e in response.json()["entry"] if e["search"]["mode"] == "outcome")
    assert epic_codes(outcome) == [("information", "59100", EPIC_SYSTEM)]
    assert "shoe-size" in outcome["issue"][0]["diagnostics"]


def test_empty_search_is_one_4101_warning_entry(epic):
    """§1.7: no matches is 200 with an OperationOutcome entry (search.mode outcome, 4101, warning)."""
    response = epic.get("Patient", params={"_id": "does-not-exist"})
    assert response.status_code == 200
    bundle = response.json()
    assert_valid(bundle)
    assert [e["search"]["mode"] for e in bundle["entry"]] == ["outcome"]
    assert epic_codes(bundle["entry"][0]["resource"]) == [("warning", "4101", EPIC_SYSTEM)]


def test_total_is_the_page_size_when_count_is_given(epic):
    """§1.7: Bundle.total equals the page size when _count is set, not the number of matches."""
    ids = ",".join(epic_id(f"pat-{n:04d}") for n in range(1, 31))
    paged = epic.get("Patient", params={"_id": ids, "_count": 10}).json()
    assert paged["total"] == 10 and any(link["relation"] == "next" for link in paged["link"])
    whole = epic.get("Patient", params={"_id": ids}).json()
    assert whole["total"] == 30


def test_read_of_a_missing_id_is_4102(epic):
    """§1.8: read of a missing id gives 404 with an OperationOutcome 4102 (inferred from the table)."""
    response = epic.get("Patient/not-there")
    assert response.status_code == 404
    assert epic_codes(response.json()) == [("fatal", "4102", EPIC_SYSTEM)]
    assert_valid(response.json())


def test_generic_keeps_r4_behaviour(client):
    """The same requests on the generic profile: no minimums, accurate totals, R4 issue codes only."""
    assert client.get("Patient", params={"family": "Garcia"}).status_code == 200
    empty = client.get("Patient", params={"_id": "does-not-exist"}).json()
    assert empty.get("entry", []) == [] and empty["total"] == 0
    missing = client.get("Patient/not-there").json()
    assert "details" not in missing["issue"][0]


def test_r4_appointment_is_read_and_search_only_and_there_is_no_r4_slot(epic):
    """§1.3: R4 Appointment is read and search only; no R4 Slot or Schedule; $find lives on STU3."""
    assert epic.get("Appointment/" + epic_id("appt-0001")).status_code == 200
    created = epic.post("Appointment", {"resourceType": "Appointment", "status": "proposed",
                                        "participant": [{"actor": {"reference": "Patient/" + epic_id("pat-0001")}, "status": "needs-action"}]})
    assert created.status_code == 405
    assert epic_codes(created.json()) == [("fatal", "4100", EPIC_SYSTEM)]
    statement = epic.get("metadata").json()
    types = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert "Slot" not in types and "Schedule" not in types
    assert [i["code"] for i in types["Appointment"]["interaction"]] == ["read", "search-type"]
    assert "operation" not in types["Appointment"]
    assert [o["name"] for o in types["Patient"]["operation"]] == ["match"]
    assert epic.get("Appointment/$find", params={"start": "2026-04-20", "end": "2026-04-21"}).status_code == 404


def test_unknown_resource_type_is_an_html_404(epic):
    """§1.8: an unknown resource type gives an IIS HTML 404, not an OperationOutcome."""
    for path in ("Slot/slot-okafor-main-20260420-0800", "Shoe/1"):
        response = epic.get(path)
        assert response.status_code == 404
        assert response.headers["Content-Type"].startswith("text/html")
        assert "404 - File or directory not found." in response.text


def test_epic_ids_are_opaque_stable_and_map_back_to_the_seed(epic, client):
    """§1.4: R4 ids are opaque, begin with "e" and end with "3"; references use them too. The
    mapping is reversible: /_admin/compare relates the vendor id to the seed id."""
    patient = epic.get("Patient/" + epic_id("pat-0001")).json()
    assert patient["id"] == epic_id("pat-0001") and patient["id"].startswith("e") and patient["id"].endswith("3")
    assert epic.get("Patient/pat-0001").status_code == 404  # seed ids are not Epic ids
    bundle = epic.search("Appointment", {"patient": epic_id("pat-0001")})
    appointments = [e for e in bundle["entry"] if e["search"]["mode"] == "match"]
    assert appointments
    for entry in appointments:
        assert entry["fullUrl"].endswith("/Appointment/" + entry["resource"]["id"]) and entry["resource"]["id"].endswith("3")
        actors = [p["actor"]["reference"] for p in entry["resource"]["participant"]]
        assert "Patient/" + epic_id("pat-0001") in actors and all(a.split("/")[1].startswith("e") for a in actors)
    compared = client.admin("GET", "/_admin/compare?type=Patient&seedId=pat-0001").json()
    assert compared["profiles"]["epic"]["id"] == epic_id("pat-0001")
    assert compared["profiles"]["generic"]["id"] == "pat-0001"
    # The same person in each vendor's shape (Epic adds a usual copy of the official name).
    assert compared["profiles"]["epic"]["resource"]["name"][0] == compared["profiles"]["generic"]["resource"]["name"][0]
    assert compared["profiles"]["epic"]["resource"]["identifier"] != compared["profiles"]["generic"]["resource"]["identifier"]
    assert {p["status"] for p in compared["profiles"].values()} == {200}


def test_patient_launch_names_the_epic_patient_id(client):
    """A standalone patient launch on Epic: the token response's patient is the Epic id, and the
    patient-scoped token reads that patient and no other."""
    import base64 as b64
    import hashlib
    import secrets
    import urllib.parse
    from test_auth import REDIRECT
    verifier = secrets.token_urlsafe(48)
    challenge = b64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    authorize = requests.get(client.origin + "/epic/oauth2/authorize", allow_redirects=False, params={
        "response_type": "code", "client_id": "sandbox-public-auto", "redirect_uri": REDIRECT, "state": "s",
        "scope": "launch/patient patient/Patient.read", "aud": client.origin + EPIC_BASE,
        "code_challenge": challenge, "code_challenge_method": "S256"})
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(authorize.headers["Location"]).query))["code"]
    token = requests.post(client.origin + EPIC_TOKEN, data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                                                           "client_id": "sandbox-public-auto", "code_verifier": verifier}).json()
    assert token["patient"] == epic_id("pat-0001") and token["token_type"] == "bearer"
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert requests.get(client.origin + EPIC_BASE + "/Patient/" + token["patient"], headers=headers).status_code == 200
    assert requests.get(client.origin + EPIC_BASE + "/Patient/" + epic_id("pat-0002"), headers=headers).status_code == 403


def test_metadata_is_xml_without_an_accept_header(client):
    """§1.8 (obs): /metadata answers in XML when no Accept header is sent; JSON with
    Accept: application/fhir+json or _format=json."""
    import xml.etree.ElementTree as ET
    session = requests.Session()
    session.headers.pop("Accept", None)  # requests sends Accept: */* unless told otherwise
    url = client.origin + EPIC_BASE + "/metadata"
    xml = session.get(url, headers={"Accept": None})
    assert xml.status_code == 200 and xml.headers["Content-Type"].startswith("application/fhir+xml")
    root = ET.fromstring(xml.content)
    fhir = "{http://hl7.org/fhir}"
    assert root.tag == fhir + "CapabilityStatement"
    assert root.find(fhir + "fhirVersion").get("value") == "4.0.1"
    rest = root.find(fhir + "rest")
    assert [child.tag.replace(fhir, "") for child in rest][:3] == ["mode", "security", "resource"]
    oauth = rest.find(fhir + "security").find(fhir + "extension")
    assert oauth.get("url") == "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
    token = [e for e in oauth.findall(fhir + "extension") if e.get("url") == "token"][0]
    assert token.find(fhir + "valueUri").get("value") == client.origin + EPIC_TOKEN
    types = [r.find(fhir + "type").get("value") for r in rest.findall(fhir + "resource")]
    assert "Patient" in types and "Slot" not in types
    assert session.get(url, headers={"Accept": "application/fhir+json"}).json()["resourceType"] == "CapabilityStatement"
    assert session.get(url, params={"_format": "json"}, headers={"Accept": None}).json()["resourceType"] == "CapabilityStatement"
    generic = session.get(client.base + "/metadata", headers={"Accept": None})
    assert generic.headers["Content-Type"].startswith("application/fhir+json")


EPIC_EXTENSION = "http://open.epic.com/FHIR/StructureDefinition/extension/"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"


def test_patient_identifiers_with_epic_oids_and_type_labels(epic):
    """§1.4 [EP-SAMPLE]: identifiers carry use, a type.text label and an Epic OID system: EPI
    (the MRN), EPIC, EXTERNAL and INTERNAL — whose value has leading spaces (§1.9 (4))."""
    patient = epic.get(f"Patient/{epic_id('pat-0002')}").json()
    by_label = {i["type"]["text"]: i for i in patient["identifier"]}
    assert set(by_label) == {"EPI", "EPIC", "EXTERNAL", "INTERNAL"}
    assert all(i["use"] == "usual" and i["system"].startswith("urn:oid:1.2.840.114350.") for i in patient["identifier"])
    assert by_label["EPI"] == {"use": "usual", "type": {"text": "EPI"}, "system": "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.14",
                               "value": "RB100002"}
    assert by_label["INTERNAL"]["value"] == "     " + by_label["EXTERNAL"]["value"]
    assert by_label["INTERNAL"]["value"] != by_label["INTERNAL"]["value"].strip()


def test_identifier_search_by_id_type_or_oid(epic):
    """§1.4: identifier={IDType}|{ID} (MRN|203713) or the OID system|value is a minimum data set."""
    for token in ("MRN|RB100002", "EPI|RB100002", "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.14|RB100002"):
        bundle = epic.search("Patient", {"identifier": token})
        assert [e["resource"]["id"] for e in bundle["entry"] if e["search"]["mode"] == "match"] == [epic_id("pat-0002")], token
        assert "riverbend" not in bundle["link"][0]["url"]


def test_patient_extensions_and_duplicate_names(epic):
    """§1.4: Epic's legal-sex, sex-for-clinical-use and pronoun extensions, US Core race,
    ethnicity, birth sex and sex; name[] has an official and a usual entry (§1.9 (4))."""
    patient = epic.get(f"Patient/{epic_id('pat-0002')}").json()
    urls = {e["url"]: e for e in patient["extension"]}
    assert urls[EPIC_EXTENSION + "legal-sex"]["valueCodeableConcept"]["coding"][0]["code"] == "female"
    assert EPIC_EXTENSION + "sex-for-clinical-use" in urls and EPIC_EXTENSION + "calculated-pronouns-to-use-for-text" in urls
    assert urls[US_CORE + "us-core-birthsex"]["valueCode"] == "F"
    assert urls[US_CORE + "us-core-sex"]["valueCoding"]["code"] == "248152002"
    assert {e["url"] for e in urls[US_CORE + "us-core-race"]["extension"]} == {"ombCategory", "text"}
    assert US_CORE + "us-core-ethnicity" in urls
    assert [n["use"] for n in patient["name"]] == ["official", "usual"]
    assert patient["name"][0]["family"] == patient["name"][1]["family"]


def test_an_expired_paging_session_is_4113(epic, client):
    """§1.7: a paging session can expire, which gives error 4113 (the generic profile reruns the search)."""
    ids = ",".join(epic_id(f"pat-{n:04d}") for n in range(1, 31))
    page = epic.search("Patient", {"_id": ids, "_count": 10})
    following = next(link["url"] for link in page["link"] if link["relation"] == "next")
    assert epic.get(following).status_code == 200
    client.admin("POST", "/_admin/reset")  # drops every paging session
    expired = epic.get(following)
    assert expired.status_code == 400
    assert epic_codes(expired.json()) == [("fatal", "4113", EPIC_SYSTEM)]


def test_an_mrn_search_without_its_id_type_finds_nobody(epic):
    """Issue 13, §1.4: identifier must be {IDType}|{ID}; "an MRN search that lacks an ID-type
    prefix can return NO-PATIENT-FOUND/4101": 200 with only the 4101 outcome."""
    bundle = epic.search("Patient", {"identifier": "RB100001"})
    assert [e["search"]["mode"] for e in bundle["entry"]] == ["outcome"]
    assert ("warning", "4101", EPIC_SYSTEM) in epic_codes(bundle["entry"][0]["resource"])
    assert [e["resource"]["id"] for e in epic.search("Patient", {"identifier": "MRN|RB100001"})["entry"]
            if e["search"]["mode"] == "match"] == [epic_id("pat-0001")]


def test_reading_a_merged_patient_redirects_to_the_survivor_with_4107(epic):
    """Issue 13, §1.8: 4107 "The read resource request has been merged", documented as an HTTP
    redirect to the surviving record (the seed's pat-0018, merged into pat-0019): 301 with a
    Location a client can follow, and an OperationOutcome carrying 4107."""
    response = epic.get(f"Patient/{epic_id('pat-0018')}", allow_redirects=False)
    assert response.status_code == 301
    assert response.headers["Location"] == f"{epic.base}/Patient/{epic_id('pat-0019')}"
    assert epic_codes(response.json()) == [("fatal", "4107", EPIC_SYSTEM)]
    followed = epic.get(f"Patient/{epic_id('pat-0018')}")
    assert followed.status_code == 200 and followed.json()["id"] == epic_id("pat-0019")
    assert epic.get(f"Patient/{epic_id('pat-0019')}").status_code == 200


def test_epic_patient_parameters_legal_sex_and_own_name(epic):
    """Issue 13, §1.4: legal-sex (preferred over gender since Aug 2021) counts as gender in the
    minimum data sets; own-name searches the patient's own names."""
    with_legal_sex = epic.search("Patient", {"given": "Maria", "family": "Garcia", "legal-sex": "female", "phone": "3095550162"})
    assert [e["resource"]["id"] for e in with_legal_sex["entry"] if e["search"]["mode"] == "match"] == [epic_id("pat-0001")]
    male = epic.search("Patient", {"given": "Maria", "family": "Garcia", "legal-sex": "male", "phone": "3095550162"})
    assert [e for e in male["entry"] if e["search"]["mode"] == "match"] == []
    own = epic.search("Patient", {"own-name": "Garcia", "given": "Maria", "birthdate": "1984-03-12", "family": "Garcia"})
    assert [e["resource"]["id"] for e in own["entry"] if e["search"]["mode"] == "match"] == [epic_id("pat-0001")]
    assert not any(e["search"]["mode"] == "outcome" and "own-name" in e["resource"]["issue"][0].get("diagnostics", "")
                   for e in own["entry"]), "own-name is not ignored as unknown"


def test_demographic_search_is_a_weighted_match_not_an_exact_and(epic, client):
    """Issue 13, §1.4: "demographic search behaves like a weighted match (close to $match), not an
    exact AND filter". A caller the agent misheard ("Mariah" for Maria Garcia, born 1984-03-12)
    still finds her, best match first — where an exact AND (generic) finds nobody; a wrong birth
    date with the right name does not reach the threshold (4101)."""
    assert client.search("Patient", {"given": "Mariah", "family": "Garcia", "birthdate": "1984-03-12"}).get("total", 0) == 0
    misheard = epic.search("Patient", {"given": "Mariah", "family": "Garcia", "birthdate": "1984-03-12"})
    matches = [e["resource"]["id"] for e in misheard["entry"] if e["search"]["mode"] == "match"]
    assert matches and matches[0] == epic_id("pat-0001")
    exact = epic.search("Patient", {"given": "Maria", "family": "Garcia", "birthdate": "1984-03-12"})
    assert [e["resource"]["id"] for e in exact["entry"] if e["search"]["mode"] == "match"][0] == epic_id("pat-0001")
    wrong_date = epic.search("Patient", {"given": "Maria", "family": "Garcia", "birthdate": "1984-03-13"})
    assert [e["search"]["mode"] for e in wrong_date["entry"]] == ["outcome"]
    assert ("warning", "4101", EPIC_SYSTEM) in epic_codes(wrong_date["entry"][0]["resource"])
