"""athenaOne FHIR Subscriptions (Profiles/athena.yaml `subscriptions`), the R5 Backport IG on R4:
topics, the create rules, and notifications with athena's documented deviation. Each test names
the fact it reproduces in ../shared/reference/vendor-quirks.md §3.7. R4 bodies are validated; the
R5 parts (SubscriptionTopic, SubscriptionStatus) are the declared deviation and checked by shape."""
import copy
import hashlib
import hmac
import json
import time

import pytest
import requests

from athena import FHIR, PRACTICE, Athena, open_slots, patient_id
from fhirvalidation import assert_valid
from webhookreceiver import Receiver

TOPICS = "https://api.platform.athenahealth.com/fhir/r4/SubscriptionTopic/"
BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
SECRET = "whsec-TEST-ONLY"


@pytest.fixture
def athena(client):
    return Athena(client.origin)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def subscription(topic, endpoint, **changes):
    """§3.7's create request: backport profile, requested, topic URL criteria, the ah-practice
    filter extension, rest-hook with application/fhir+json and id-only."""
    body = {"resourceType": "Subscription", "meta": {"profile": [BACKPORT + "backport-subscription"]}, "status": "requested",
            "reason": "Voice agent schedule sync", "criteria": TOPICS + topic,
            "_criteria": {"extension": [{"url": BACKPORT + "backport-filter-criteria",
                                         "valueString": f"ah-practice=Organization/a-1.Practice-{PRACTICE}"}]},
            "channel": {"type": "rest-hook", "endpoint": endpoint, "payload": "application/fhir+json",
                        "_payload": {"extension": [{"url": BACKPORT + "backport-payload-content", "valueCode": "id-only"}]}}}
    body.update(changes)
    return body


def post(athena, body, secret=SECRET):
    headers = {**athena.headers, "Content-Type": "application/fhir+json"}
    if secret:
        headers["X-Hub-Secret"] = secret
    return requests.post(athena.origin + FHIR + "/Subscription", data=json.dumps(body), headers=headers)


def subscribe(athena, topic, endpoint):
    created = post(athena, subscription(topic, endpoint))
    assert created.status_code == 201, created.text
    return created.json()


def verify(call, secret=SECRET):
    """§3.7: X-Hub-Signature: sha256=<hmac of the body with the secret>."""
    expected = "sha256=" + hmac.new(secret.encode(), call["body"], hashlib.sha256).hexdigest()
    assert call["headers"]["X-Hub-Signature"] == expected
    return json.loads(call["body"])


def check_notification(bundle, subscription_id, topic, reference, identifier):
    """§3.7: a history Bundle (backport-subscription-notification) whose entry[0] is a
    SubscriptionStatus (the R5 name: the deviation) with bundle-relative counters and an id-only
    focus carrying both the reference and athena's identifier; then one AuditEvent."""
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "history"
    assert bundle["meta"]["profile"] == [BACKPORT + "backport-subscription-notification"]
    status = bundle["entry"][0]["resource"]
    assert status["resourceType"] == "SubscriptionStatus" and status["type"] == "event-notification"
    assert (status["eventsSinceSubscriptionStart"], status["eventsInNotification"]) == ("1", 1)
    assert status["subscription"] == {"reference": f"Subscription/{subscription_id}"} and status["topic"] == TOPICS + topic
    event = status["notificationEvent"]
    assert len(event) == 1 and event[0]["eventNumber"] == "1"
    assert event[0]["focus"] == {"reference": reference, "identifier": identifier}
    assert bundle["entry"][0]["request"] == {"method": "GET", "url": f"Subscription/{subscription_id}/$status"}
    assert bundle["entry"][0]["response"] == {"status": "200"}
    audit = bundle["entry"][1]["resource"]
    assert_valid(audit)
    assert audit["type"]["system"] == "https://fhir.athena.io/CodeSystem/SubscriptionTopic" and audit["type"]["code"] == topic
    # Everything but the R5 entry is R4.
    r4_part = copy.deepcopy(bundle)
    r4_part["entry"] = r4_part["entry"][1:]
    assert_valid(r4_part)
    return audit


def test_topics_are_listed_and_read(athena):
    """§3.7: GET /SubscriptionTopic lists the Appointment and Patient topics (R5 SubscriptionTopic
    resources: the deviation); one topic reads by its code."""
    listed = requests.get(athena.origin + FHIR + "/SubscriptionTopic", headers=athena.headers)
    assert listed.status_code == 200
    bundle = listed.json()
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    codes = [e["resource"]["id"] for e in bundle["entry"]]
    assert codes == ["Appointment.schedule", "Appointment.cancel", "Appointment.reschedule", "Appointment.check-in",
                     "Appointment.check-out", "Appointment.update", "Patient.create", "Patient.update"]
    assert all(e["resource"]["resourceType"] == "SubscriptionTopic" and e["resource"]["url"] == TOPICS + e["resource"]["id"]
               for e in bundle["entry"])
    one = requests.get(athena.origin + FHIR + "/SubscriptionTopic/Patient.update", headers=athena.headers)
    assert one.status_code == 200 and one.json()["resourceTrigger"][0]["resource"] == "Patient"
    assert requests.get(athena.origin + FHIR + "/SubscriptionTopic/Slot.update", headers=athena.headers).status_code == 404


def test_a_subscription_is_created_once_per_topic_and_deleted(athena, receiver):
    """§3.7: POST /Subscription → 201; the secret goes in X-Hub-Secret (never shown back); one
    subscription per topic per practice; DELETE → 204."""
    created = post(athena, subscription("Appointment.cancel", receiver.url))
    assert created.status_code == 201, created.text
    body = created.json()
    assert_valid(body)
    assert body["status"] == "active" and "header" not in body["channel"] and SECRET not in created.text
    assert created.headers["Location"].endswith(f"/Subscription/{body['id']}")
    read = requests.get(athena.origin + FHIR + f"/Subscription/{body['id']}", headers=athena.headers)
    assert read.status_code == 200 and read.json()["id"] == body["id"] and SECRET not in read.text
    assert_valid(read.json())
    listed = requests.get(athena.origin + FHIR + "/Subscription", headers=athena.headers).json()
    assert_valid(listed)
    assert [e["resource"]["id"] for e in listed["entry"]] == [body["id"]]
    twice = post(athena, subscription("Appointment.cancel", receiver.url))
    assert twice.status_code == 409
    assert_valid(twice.json())
    assert post(athena, subscription("Appointment.schedule", receiver.url)).status_code == 201
    deleted = requests.delete(athena.origin + FHIR + f"/Subscription/{body['id']}", headers=athena.headers)
    assert deleted.status_code == 204 and deleted.content == b""
    assert requests.get(athena.origin + FHIR + f"/Subscription/{body['id']}", headers=athena.headers).status_code == 404
    assert post(athena, subscription("Appointment.cancel", receiver.url)).status_code == 201


def test_the_secret_is_redacted_in_the_journal(client, athena, receiver):
    """The request journal never shows the X-Hub-Secret a subscriber registered."""
    assert post(athena, subscription("Patient.create", receiver.url)).status_code == 201
    journal = client.admin("GET", "/_admin/requests?limit=20").json()
    entries = journal["requests"] if isinstance(journal, dict) else journal
    created = next(e for e in entries if e["method"] == "POST" and e["path"].endswith("/athena/fhir/r4/Subscription"))
    assert created["request"]["headers"]["x-hub-secret"] == "<redacted>"
    assert SECRET not in json.dumps(entries)


@pytest.mark.parametrize("change, field", [
    ({"meta": {}}, "Subscription.meta.profile"),
    ({"criteria": TOPICS + "Slot.update"}, "Subscription.criteria"),
    ({"_criteria": {"extension": [{"url": BACKPORT + "backport-filter-criteria", "valueString": "ah-practice=Organization/a-1.Practice-1"}]}},
     "Subscription._criteria"),
    ({"channel": {"type": "rest-hook", "endpoint": "http://127.0.0.1:9/hook", "payload": "application/fhir+json"}},
     "Subscription.channel.payload"),
    ({"status": "active"}, "Subscription.status"),
])
def test_a_subscription_that_breaks_the_rules_is_refused_naming_the_field(athena, change, field):
    """§3.7: the backport profile, a topic URL, the practice filter, id-only content and status
    requested are required; the answer is an OperationOutcome naming what was wrong."""
    refused = post(athena, subscription("Appointment.cancel", "http://127.0.0.1:9/hook", **change))
    assert refused.status_code in (400, 422), refused.text
    outcome = refused.json()
    assert_valid(outcome)
    assert outcome["issue"][0]["expression"] == [field]


def test_the_secret_header_is_required(athena):
    """§3.7: the shared secret travels in an X-Hub-Secret request header."""
    refused = post(athena, subscription("Appointment.cancel", "http://127.0.0.1:9/hook"), secret=None)
    assert refused.status_code in (400, 422) and "X-Hub-Secret" in refused.text


def test_notifications_are_signed_history_bundles_with_an_id_only_focus(athena, receiver):
    """§3.7: a booking and a cancellation made through the proprietary API notify the schedule
    and cancel topics, each once, signed; the focus names the appointment both ways."""
    scheduled = subscribe(athena, "Appointment.schedule", receiver.url)
    cancelled = subscribe(athena, "Appointment.cancel", receiver.url)
    slot = open_slots(athena)[0]
    number = str(slot["appointmentid"])
    assert athena.v1("PUT", f"appointments/{number}", data={"patientid": "60178"}).status_code == 200
    first = verify(receiver.wait(1)[0])
    reference = f"Appointment/a-{PRACTICE}.Appointment-{number}"
    identifier = {"system": f"urn:athenahealth:athenanet:appointment:{PRACTICE}", "value": number}
    audit = check_notification(first, scheduled["id"], "Appointment.schedule", reference, identifier)
    assert audit["extension"] == [{"url": "https://fhir.athena.io/StructureDefinition/ah-department",
                                   "valueReference": {"reference": f"Location/a-{PRACTICE}.Department-1"}}]
    assert athena.v1("PUT", f"appointments/{number}/cancel", data={"patientid": "60178"}).status_code == 200
    calls = receiver.wait(2)
    check_notification(verify(calls[1]), cancelled["id"], "Appointment.cancel", reference, identifier)
    assert len(receiver.quiet(0.5)) == 2


def test_a_patient_change_notifies_with_the_patient_identifier(client, athena, receiver):
    """§3.7: Patient.update's focus is Patient/a-195900.E-60178 with
    urn:athenahealth:athenanet:patient:195900|60178 (as captured)."""
    subscribed = subscribe(athena, "Patient.update", receiver.url)
    changed = client.admin("POST", "/_admin/actions", {"action": "update-patient", "profile": "athena",
                                                        "patient": patient_id("pat-0001"), "set": {"phone": "3095550111"}})
    assert changed.status_code == 200, changed.text
    bundle = verify(receiver.wait(1)[0])
    check_notification(bundle, subscribed["id"], "Patient.update", f"Patient/{patient_id('pat-0001')}",
                       {"system": f"urn:athenahealth:athenanet:patient:{PRACTICE}", "value": "60178"})


def test_a_receiver_slower_than_two_seconds_is_retried(client, athena, receiver):
    """§3.7: the webhook must answer within 2 seconds (the delivery policy's timeout); a slower
    answer is a failed try, retried (at-least-once delivery)."""
    assert client.admin("PUT", "/_admin/deliveries/policy", {"firstBackoffMilliseconds": 100, "attempts": 3}).status_code == 200
    subscribed = subscribe(athena, "Appointment.schedule", receiver.url)
    receiver.answer(200, delay=2.5)
    slot = open_slots(athena)[0]
    assert athena.v1("PUT", f"appointments/{slot['appointmentid']}", data={"patientid": "60178"}).status_code == 200
    time.sleep(0.5)  # the first try is in flight (it waits 2.5 s); the next is answered at once
    receiver.answer(200)
    receiver.wait(2, timeout=10)
    deliveries = client.admin("GET", f"/_admin/deliveries?subscription={subscribed['id']}").json()
    records = deliveries["deliveries"] if isinstance(deliveries, dict) else deliveries
    outcomes = [(r["attempt"], r["outcome"]) for r in sorted(records, key=lambda r: r["sequence"])]
    assert outcomes[0] == (1, "failed") and (2, "delivered") in outcomes
