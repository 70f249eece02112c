"""Bad input gets a 4xx OperationOutcome that says what and where: never a 500, never a crash."""
import json

from conftest import FHIR_JSON, outcome_text


def post_raw(client, path, data, content_type=FHIR_JSON):
    return client.request("POST", path, data=data, headers={"Content-Type": content_type})


def expressions(response):
    return [e for i in response.json()["issue"] for e in i.get("expression", [])]


def test_malformed_json_names_line_and_column(client):
    response = post_raw(client, "Patient", '{"resourceType": "Patient",\n "name": [}')
    assert response.status_code == 400
    assert "line 2" in outcome_text(response)


def test_non_object_empty_and_invalid_utf8_bodies(client):
    assert post_raw(client, "Patient", "[]").status_code == 400
    assert post_raw(client, "Patient", "").status_code == 400
    assert post_raw(client, "Patient", b'{"resourceType":"Patient","name":[{"family":"\xff"}]}').status_code == 400
    assert post_raw(client, "Patient", '{"resourceType":"Patient","gender":"male","gender":"female"}').status_code == 400


def test_deep_nesting_is_rejected(client):
    deep = '{"resourceType":"Patient","extension":' + "[" * 500 + "]" * 500 + "}"
    response = post_raw(client, "Patient", deep)
    assert response.status_code == 400
    assert "nesting" in outcome_text(response)


def test_wrong_json_type_points_at_element(client):
    appointment = {"resourceType": "Appointment", "status": "proposed", "minutesDuration": "30 minutes",
                   "participant": [{"actor": {"reference": "Patient/pat-0001"}, "status": "needs-action"}]}
    response = client.post("Appointment", appointment)
    assert response.status_code == 400
    assert expressions(response) == ["Appointment.minutesDuration"]
    assert "30 minutes" in outcome_text(response)


def test_unknown_element_is_rejected(client):
    response = client.post("Patient", {"resourceType": "Patient", "nickname": "Q"})
    assert response.status_code == 400
    assert expressions(response) == ["Patient.nickname"]


def test_invalid_dates_codes_and_required_elements_are_422(client):
    bad_date = client.post("Patient", {"resourceType": "Patient", "birthDate": "1984-13-45"})
    assert bad_date.status_code == 422 and expressions(bad_date) == ["Patient.birthDate"]
    no_zone = client.post("Appointment", {"resourceType": "Appointment", "status": "booked", "start": "2026-04-14T09:00:00",
                                          "end": "2026-04-14T09:20:00-05:00",
                                          "participant": [{"actor": {"reference": "Patient/pat-0001"}, "status": "accepted"}]})
    assert no_zone.status_code == 422 and expressions(no_zone) == ["Appointment.start"]
    bad_code = client.post("Patient", {"resourceType": "Patient", "gender": "robot"})
    assert bad_code.status_code == 422 and "robot" in outcome_text(bad_code)
    missing = client.post("Appointment", {"resourceType": "Appointment",
                                          "participant": [{"actor": {"reference": "Patient/pat-0001"}}]})
    assert missing.status_code == 422
    assert set(expressions(missing)) == {"Appointment.status", "Appointment.participant[0].status"}
    bad_reference = client.post("Coverage", {"resourceType": "Coverage", "status": "active",
                                             "beneficiary": {"reference": "not a reference"},
                                             "payor": [{"reference": "Organization/org-payer-prairie"}]})
    assert bad_reference.status_code == 422 and expressions(bad_reference) == ["Coverage.beneficiary.reference"]
    bad_id = client.post("Patient", {"resourceType": "Patient", "id": "has spaces"})
    assert bad_id.status_code == 422


def test_every_problem_is_reported_at_once(client):
    response = client.post("Patient", {"resourceType": "Patient", "gender": 1, "birthDate": "x", "shoe": 11})
    assert set(expressions(response)) == {"Patient.gender", "Patient.birthDate", "Patient.shoe"}


def test_numbers_keep_their_lexical_form(client):
    observation = {"resourceType": "Observation", "status": "final", "code": {"text": "Weight"},
                   "valueQuantity": {"value": 1.50, "unit": "kg"}}
    raw = json.dumps(observation).replace("1.5", "1.50")
    created = post_raw(client, "Observation", raw)
    assert created.status_code == 201
    assert b'"value":1.50' in client.get(f"Observation/{created.json()['id']}").content


def test_body_over_the_limit_is_413(client):
    big = {"resourceType": "Patient", "name": [{"family": "x" * (5 * 1024 * 1024)}]}
    response = client.post("Patient", big)
    assert response.status_code == 413
    assert "4194304" in outcome_text(response)


def test_unknown_resource_types(client):
    assert client.get("Medication").status_code == 404
    assert "not supported" in outcome_text(client.get("Medication/1"))
    assert client.post("Foo", {"resourceType": "Foo"}).status_code == 404
    assert client.post("Patient", {"resourceType": "Practitioner"}).status_code == 400
    assert client.post("Patient", {"name": []}).status_code == 400


def test_bad_ids(client):
    assert client.get("Patient/bad_id!").status_code == 400
    assert client.get("Patient/" + "x" * 65).status_code == 400
    assert client.put("Patient/bad_id!", {"resourceType": "Patient", "id": "bad_id!"}).status_code == 400


def test_unknown_paths_and_methods(client):
    assert client.get("/_nothing-here").status_code == 404
    response = client.session.get(client.origin + "/nothing", timeout=10)
    assert response.status_code == 404 and response.json()["resourceType"] == "OperationOutcome"
    assert client.delete("Patient").status_code == 405
    assert client.put("Patient/pat-0001/_history").status_code == 405
    assert client.get("Patient/pat-0001/$no-such-operation").status_code == 404
    assert client.get("").status_code == 405


def test_xml_is_not_acceptable_and_not_supported(client):
    assert client.get("Patient/pat-0001", headers={"Accept": "application/fhir+xml"}).status_code == 406
    assert client.get("metadata", params={"_format": "xml"}).status_code == 406
    assert client.get("Patient/pat-0001", params={"_format": "json"}).status_code == 200
    assert client.get("Patient/pat-0001", headers={"Accept": "application/fhir+xml, application/fhir+json;q=0.9"}).status_code == 200
    assert client.get("Patient/pat-0001", headers={"Accept": "text/html"}).status_code == 200
    xml = post_raw(client, "Patient", "<Patient xmlns='http://hl7.org/fhir'/>", "application/fhir+xml")
    assert xml.status_code == 415
    text = post_raw(client, "Patient", "hello", "text/plain")
    assert text.status_code == 415


def test_bad_if_match(client):
    body = client.get("Patient/pat-0001").json()
    assert client.put("Patient/pat-0001", body, headers={"If-Match": "banana"}).status_code == 400
    assert client.put("Patient/new-one", dict(body, id="new-one"), headers={"If-Match": 'W/"1"'}).status_code == 412
