"""R4 Subscriptions (rest-hook) in the generic profile, against a real webhook receiver on
loopback (webhookreceiver.py): handshake, criteria evaluated by the server's search engine,
payload modes, retries with backoff, the error state and replay on reactivation, deletions, and
polling (`_history?_since=`) agreeing with notifications. Reference: ../shared/reference/
vendor-quirks.md §6.4 and R4 Subscription."""
import time

import pytest

from webhookreceiver import Receiver

BOUND = 2.0  # seconds: a change reaches an active, healthy subscriber within this (README)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def fast(client):
    """A quick retry policy for this test (restored after it)."""
    def set_policy(**policy):
        response = client.admin("PUT", "/_admin/deliveries/policy", policy)
        assert response.status_code == 200, response.text
        return response.json()
    yield set_policy
    client.admin("PUT", "/_admin/deliveries/policy",
                 {"attempts": 5, "firstBackoffMilliseconds": 500, "timeoutMilliseconds": 2000, "queueLimit": 1000})


def subscribe(client, url, criteria, payload=None, header=None, status="requested"):
    channel = {"type": "rest-hook", "endpoint": url}
    if payload:
        channel["payload"] = payload
    if header:
        channel["header"] = header
    return client.post("Subscription", {"resourceType": "Subscription", "status": status, "reason": "booking agent",
                                        "criteria": criteria, "channel": channel})


def active(client, receiver, criteria, **kwargs):
    """A subscription past its handshake (the receiver's first call), status active."""
    created = subscribe(client, receiver.url, criteria, **kwargs)
    assert created.status_code == 201, created.text
    subscription = created.json()
    assert subscription["status"] == "requested"
    handshake = receiver.wait(1)[0]
    assert handshake["method"] == "POST" and handshake["path"] == "/hook" and handshake["body"] == b""
    return wait_status(client, subscription["id"], "active")


def wait_status(client, id_, status, timeout=5.0):
    deadline = time.time() + timeout
    while True:
        current = client.get(f"Subscription/{id_}").json()
        if current["status"] == status:
            return current
        assert time.time() < deadline, f"Subscription/{id_} is {current['status']}, not {status}: {current.get('error')}"
        time.sleep(0.05)


def cancel(client, appointment):
    response = client.admin("POST", "/_admin/actions", {"action": "cancel-appointment", "profile": "generic",
                                                        "appointment": f"Appointment/{appointment}"})
    assert response.status_code in (200, 201), response.text


def test_handshake_moves_a_subscription_to_active_or_error(client, receiver):
    """R4: created as requested; the server pings the endpoint (an empty POST) and sets active on
    2xx, error (with the reason) otherwise."""
    subscription = active(client, receiver, "Appointment?status=cancelled")
    assert "error" not in subscription
    dead = subscribe(client, "http://127.0.0.1:9/nobody-listens", "Appointment?status=cancelled")
    assert dead.status_code == 201
    failed = wait_status(client, dead.json()["id"], "error")
    assert "handshake failed" in failed["error"]
    found = client.search("Subscription", {"status": "active"})
    assert [e["resource"]["id"] for e in found["entry"]] == [subscription["id"]]


def test_a_client_may_only_write_what_the_server_can_deliver(client):
    """Status requested or off (the server sets active/error); criteria a valid search on a type
    that notifies; rest-hook over http://; payload application/fhir+json or none: else 422 naming
    the element."""
    cases = [
        ({"status": "active"}, "Subscription.status"),
        ({"criteria": "Observation?code=1234"}, "Subscription.criteria"),
        ({"criteria": "Appointment?colour=blue"}, "Subscription.criteria"),
        ({"criteria": "Appointment?date=yesterday"}, "Subscription.criteria"),
        ({"channel": {"type": "email", "endpoint": "mailto:desk@example.org"}}, "Subscription.channel.type"),
        ({"channel": {"type": "rest-hook", "endpoint": "ftp://example.org/hook"}}, "Subscription.channel.endpoint"),
        ({"channel": {"type": "rest-hook", "endpoint": "http://127.0.0.1:9/h", "payload": "text/plain"}},
         "Subscription.channel.payload"),
        ({"channel": {"type": "rest-hook", "endpoint": "http://127.0.0.1:9/h", "header": ["no colon"]}},
         "Subscription.channel.header[0]"),
    ]
    for change, expression in cases:
        body = {"resourceType": "Subscription", "status": "requested", "reason": "r", "criteria": "Appointment?status=booked",
                "channel": {"type": "rest-hook", "endpoint": "http://127.0.0.1:9/h"}}
        body.update(change)
        response = client.post("Subscription", body)
        assert response.status_code == 422, (change, response.text)
        assert response.json()["issue"][0]["expression"] == [expression], (change, response.text)


def test_a_staff_cancel_reaches_the_matching_subscriber_only(client, receiver):
    """The front desk cancels appt-0001 (Dr Okafor's): the subscriber for Okafor's cancellations
    gets an empty POST (no payload) with its channel headers within the bound; one for another
    practitioner gets nothing; an unrelated change notifies nobody."""
    other = Receiver()
    try:
        active(client, receiver, "Appointment?status=cancelled&practitioner=Practitioner/pract-okafor",
               header=["Authorization: Bearer agent-secret", "X-Tenant: riverbend"])
        active(client, other, "Appointment?status=cancelled&practitioner=Practitioner/pract-reyes")
        before = time.time()
        cancel(client, "appt-0001")
        notification = receiver.wait(2)[1]
        assert notification["at"] - before < BOUND
        assert notification["method"] == "POST" and notification["path"] == "/hook" and notification["body"] == b""
        assert notification["headers"]["Authorization"] == "Bearer agent-secret"
        assert notification["headers"]["X-Tenant"] == "riverbend"
        patient = client.get("Patient/pat-0002").json()
        patient["telecom"] = [{"system": "phone", "value": "555-0100"}]
        assert client.put("Patient/pat-0002", patient).status_code == 200
        assert len(receiver.quiet(0.5)) == 2
        assert len(other.calls) == 1, "the other practitioner's subscriber saw only its handshake"
    finally:
        other.close()


def test_with_a_payload_each_version_is_put_to_endpoint_type_id(client, receiver):
    """R4: channel.payload application/fhir+json → PUT {endpoint}/{type}/{id} carrying the
    resource at that event's version; a deletion has no payload form (an empty POST)."""
    active(client, receiver, "Patient?family=Lindqvist", payload="application/fhir+json")
    created = client.post("Patient", {"resourceType": "Patient", "name": [{"family": "Lindqvist", "given": ["Ada"]}]}).json()
    updated = dict(created, birthDate="1980-02-03")
    assert client.put(f"Patient/{created['id']}", updated).status_code == 200
    assert client.delete(f"Patient/{created['id']}").status_code in (200, 204)
    calls = receiver.wait(4)[1:]
    assert [(c["method"], c["path"]) for c in calls] == [
        ("PUT", f"/hook/Patient/{created['id']}"), ("PUT", f"/hook/Patient/{created['id']}"), ("POST", "/hook")]
    first, second = receiver.json(calls[0]), receiver.json(calls[1])
    assert calls[0]["headers"]["Content-Type"] == "application/fhir+json"
    assert (first["meta"]["versionId"], second["meta"]["versionId"]) == ("1", "2")
    assert "birthDate" not in first and second["birthDate"] == "1980-02-03"
    assert calls[2]["body"] == b""


def test_a_receiver_down_for_a_while_gets_every_event_in_order(client, receiver, fast):
    """Retries with exponential backoff: the receiver answers 503 for a while, then 200; every
    notification arrives, in commit order, and the deliveries list shows the failed tries."""
    fast(attempts=10, firstBackoffMilliseconds=50, timeoutMilliseconds=1000)
    subscription = active(client, receiver, "Patient?family=Okonkwo", payload="application/fhir+json")
    receiver.answer(503)
    ids = [client.post("Patient", {"resourceType": "Patient", "name": [{"family": "Okonkwo", "given": [g]}]}).json()["id"]
           for g in ("Ada", "Bea", "Cy")]
    receiver.wait(4)  # the handshake and at least three refused tries
    receiver.answer(200)
    delivered = [c for c in receiver.wait(4, timeout=10, accepted_only=True) if c["method"] == "PUT"]
    assert [c["path"].rsplit("/", 1)[1] for c in delivered] == ids
    log = client.admin("GET", f"/_admin/deliveries?subscription={subscription['id']}&limit=1000").json()
    outcomes = [(d["kind"], d["outcome"]) for d in reversed(log["deliveries"])]
    assert ("notification", "failed") in outcomes and outcomes[-1] == ("notification", "delivered")
    failed = next(d for d in log["deliveries"] if d["outcome"] == "failed")
    assert failed["status"] == 503 and failed["error"] == "HTTP 503" and failed["profile"] == "generic"
    assert wait_status(client, subscription["id"], "active")


def test_after_the_retries_error_then_replay_in_order_on_reactivation(client, receiver, fast):
    """Every try of a notification fails: the subscription goes to error (with the reason) and
    later events are kept; PUT with status requested handshakes again and delivers them in order."""
    fast(attempts=2, firstBackoffMilliseconds=20, timeoutMilliseconds=1000)
    subscription = active(client, receiver, "Patient?family=Haddad", payload="application/fhir+json")
    receiver.answer(500)
    first = client.post("Patient", {"resourceType": "Patient", "name": [{"family": "Haddad", "given": ["Omar"]}]}).json()
    failed = wait_status(client, subscription["id"], "error")
    assert "2 tries to deliver Patient/" in failed["error"] and "HTTP 500" in failed["error"]
    second = client.post("Patient", {"resourceType": "Patient", "name": [{"family": "Haddad", "given": ["Lina"]}]}).json()
    calls = len(receiver.quiet(0.3))
    assert calls == 3, "nothing is tried while the subscription is in error"
    queued = client.admin("GET", "/_admin/deliveries").json()["subscriptions"]
    assert [(q["subscription"], q["state"], q["queued"]) for q in queued] == [(subscription["id"], "error", 2)]
    receiver.answer(200)
    failed["status"] = "requested"
    assert client.put(f"Subscription/{subscription['id']}", failed).status_code == 200
    replay = receiver.wait(calls + 3, accepted_only=False)[calls:]
    assert [(c["method"], c["path"]) for c in replay] == [
        ("POST", "/hook"), ("PUT", f"/hook/Patient/{first['id']}"), ("PUT", f"/hook/Patient/{second['id']}")]
    back = wait_status(client, subscription["id"], "active")
    assert "error" not in back


def test_a_slow_receiver_counts_as_a_failure(client, receiver, fast):
    """A try that has not answered within the policy's timeout has failed."""
    fast(attempts=1, timeoutMilliseconds=200)
    subscription = active(client, receiver, "Patient?family=Slowe")
    receiver.answer(200, delay=1.0)
    client.post("Patient", {"resourceType": "Patient", "name": [{"family": "Slowe"}]})
    failed = wait_status(client, subscription["id"], "error")
    assert "no answer within 200 ms" in failed["error"]


def test_off_and_deleted_subscriptions_notify_nobody(client, receiver):
    """status off, or a deleted Subscription, stops notifications."""
    subscription = active(client, receiver, "Patient?family=Quiet")
    subscription["status"] = "off"
    assert client.put(f"Subscription/{subscription['id']}", subscription).status_code == 200
    client.post("Patient", {"resourceType": "Patient", "name": [{"family": "Quiet"}]})
    second = active(client, Receiver(), "Patient?family=Quiet")
    assert client.delete(f"Subscription/{second['id']}").status_code in (200, 204)
    client.post("Patient", {"resourceType": "Patient", "name": [{"family": "Quiet"}]})
    assert len(receiver.quiet(0.5)) == 1, "only the handshake"


def test_polling_history_sees_the_same_changes_as_notifications(client, receiver):
    """`_history?_since=` on the type and `_lastUpdated` search agree with the notifications."""
    active(client, receiver, "Patient?family=Polling", payload="application/fhir+json")
    since = client.get("Patient/pat-0001").json()["meta"]["lastUpdated"]
    created = [client.post("Patient", {"resourceType": "Patient", "name": [{"family": "Polling", "given": [g]}]}).json()
               for g in ("A", "B")]
    edited = dict(created[0], gender="female")
    client.put(f"Patient/{created[0]['id']}", edited)
    pushed = {(receiver.json(c)["id"], receiver.json(c)["meta"]["versionId"]) for c in receiver.wait(4)[1:]}
    history = client.search("Patient/_history", {"_since": since})
    polled = {(e["resource"]["id"], e["resource"]["meta"]["versionId"]) for e in history["entry"]
              if e["resource"]["name"][0]["family"] == "Polling"}
    assert pushed == polled == {(created[0]["id"], "1"), (created[1]["id"], "1"), (created[0]["id"], "2")}
    searched = client.search("Patient", {"family": "Polling", "_lastUpdated": f"ge{since}"})
    assert {e["resource"]["id"] for e in searched["entry"]} == {c["id"] for c in created}


def test_vendor_profiles_without_subscriptions_refuse_them(client):
    """Epic and Cerner document no R4 Subscription (vendor-quirks §1.5, §2): not served there."""
    epic = client.session.post(client.origin + "/epic/api/FHIR/R4/Subscription", json={"resourceType": "Subscription"})
    assert epic.status_code in (401, 404), epic.text
    metadata = client.session.get(client.origin + "/epic/api/FHIR/R4/metadata", headers={"Accept": "application/fhir+json"}).json()
    assert "Subscription" not in {r["type"] for r in metadata["rest"][0]["resource"]}


def test_slot_criteria_follow_the_slot_table(client, receiver):
    """A slot freed by a staff cancel notifies `status=free` watchers (PUT of the slot as it now
    reads); the booking of a free slot notifies `status=busy` watchers and not the free ones."""
    busy = Receiver()
    try:
        active(client, receiver, "Slot?schedule.actor=Practitioner/pract-okafor&status=free", payload="application/fhir+json")
        active(client, busy, "Slot?schedule.actor=Practitioner/pract-okafor&status=busy", payload="application/fhir+json")
        freed = client.get("Appointment/appt-0001").json()["slot"][0]["reference"].split("/")[1]
        cancel(client, "appt-0001")
        call = receiver.wait(2)[1]
        assert (call["method"], call["path"]) == ("PUT", f"/hook/Slot/{freed}")
        assert receiver.json(call)["status"] == "free"
        assert len(busy.quiet(0.3)) == 1, "a freed slot is not busy"
        slot = client.search("Slot", {"_id": freed})["entry"][0]["resource"]
        booked = client.post("Appointment", {"resourceType": "Appointment", "status": "booked",
                                             "slot": [{"reference": f"Slot/{freed}"}],
                                             "participant": [{"actor": {"reference": "Patient/pat-0004"}, "status": "accepted"}]})
        assert booked.status_code == 201, booked.text
        taken = busy.wait(2)[1]
        assert taken["path"] == f"/hook/Slot/{freed}" and busy.json(taken)["status"] == "busy"
        assert busy.json(taken)["start"] == slot["start"]
        assert len(receiver.quiet(0.3)) == 2, "a booked slot is not free"
    finally:
        busy.close()
