import ChangeFeeds
import FHIRCore
import SandboxAuth
import SandboxSeed

/// athenaOne FHIR Subscriptions (vendor-quirks §3.7): the R5 Backport IG on R4, rest-hook and
/// id-only. A notification is a `history` Bundle whose first entry is a resource of type
/// `SubscriptionStatus` (the R5 name: the documented deviation), with an id-only focus holding
/// both the FHIR reference and athena's identifier, then one AuditEvent per event (topic code,
/// `ah-department`); counters are relative to the bundle; the body is signed
/// `X-Hub-Signature: sha256=<hmac>` with the subscriber's `X-Hub-Secret`.
struct AthenaSubscriptions: BackportService {
    static let topicBase = "https://api.platform.athenahealth.com/fhir/r4/SubscriptionTopic/"
    static let auditSystem = "https://fhir.athena.io/CodeSystem/SubscriptionTopic"
    static let departmentExtension = "https://fhir.athena.io/StructureDefinition/ah-department"

    let ids: AthenaIDs
    let practice: String
    let random: RandomSource
    let topics: [BackportTopic]

    init(seed: Seed?, profile: Profile, random: RandomSource) {
        practice = profile.auth.tenant
        ids = AthenaIDs(seed: seed, practice: practice)
        self.random = random
        topics = Self.catalog.map { code, title, trigger in
            BackportTopic(
                code: code, url: Self.topicBase + code, resourceType: String(code.prefix { $0 != "." }), title: title, trigger: trigger)
        }
    }

    // MARK: Topics

    static func status(_ resource: JSONObject?) -> String? { resource?["status"]?.stringValue }
    static func rescheduled(_ resource: JSONObject) -> Bool {
        resource["cancelationReason"]?["text"]?.stringValue?.hasPrefix("Rescheduled") ?? false
    }
    static let occupying: Set<String> = ["booked", "pending", "arrived", "checked-in"]

    /// §3.7: the Appointment and Patient topics. ASSUMPTION: what each event is, read from the
    /// status change (the IG leaves triggers to the topic); a cancellation made by a reschedule
    /// is `Appointment.reschedule`, as is a booked appointment whose start moved. Not offered:
    /// `Appointment.freeze`/`.unfreeze` (a freeze is a slot's state here, not an Appointment
    /// version, so no change feed carries it).
    static let catalog: [(String, String, @Sendable (JSONObject?, JSONObject) -> Bool)] = [
        (
            "Appointment.schedule", "An appointment was booked",
            { old, new in status(new) == "booked" && !occupying.contains(status(old) ?? "") }
        ),
        (
            "Appointment.cancel", "An appointment was cancelled",
            { old, new in status(new) == "cancelled" && status(old) != "cancelled" && !rescheduled(new) }
        ),
        (
            "Appointment.reschedule", "An appointment was rescheduled",
            { old, new in
                (status(new) == "cancelled" && status(old) != "cancelled" && rescheduled(new))
                    || (status(new) == "booked" && status(old) == "booked" && old?["start"] != new["start"])
            }
        ),
        (
            "Appointment.check-in", "A patient checked in",
            { old, new in ["arrived", "checked-in"].contains(status(new) ?? "") && !["arrived", "checked-in"].contains(status(old) ?? "") }
        ),
        ("Appointment.check-out", "A visit ended", { old, new in status(new) == "fulfilled" && status(old) != "fulfilled" }),
        (
            "Appointment.update", "An appointment changed",
            { old, new in old != nil && status(new) == status(old) && old?["start"] == new["start"] }
        ),
        ("Patient.create", "A patient was registered", { old, _ in old == nil }),
        ("Patient.update", "A patient's chart changed", { old, _ in old != nil }),
    ]

    // MARK: Notifications

    func notification(subscription: String, topic: BackportTopic, event: BackportEvent, secret: String?, now: Int64) -> (
        body: [UInt8], headers: [(name: String, value: String)]
    ) {
        let shown = ids.external(event.id, type: event.type)
        let kind = event.type == "Patient" ? "patient" : event.type.lowercased()
        let number = ids.number(event.id, type: event.type)
        let stamp = InstantFormat.iso(now, offsetSeconds: 0)
        let shownSubscription = ids.external(subscription, type: "Subscription")
        let focus = JSONObject([
            "reference": .string("\(event.type)/\(shown)"),
            "identifier": .object(
                JSONObject(["system": .string("urn:athenahealth:athenanet:\(kind):\(practice)"), "value": .string(number)])),
        ])
        // §3.7: the counters count this bundle's events.
        let status = JSONObject([
            "resourceType": .string("SubscriptionStatus"), "id": .string(random.uuid()), "status": .string("active"),
            "type": .string("event-notification"), "eventsSinceSubscriptionStart": .string("1"), "eventsInNotification": .int(1),
            "subscription": .object(JSONObject(["reference": .string("Subscription/\(shownSubscription)")])),
            "topic": .string(topic.url),
            "notificationEvent": .array([
                .object(JSONObject(["eventNumber": .string("1"), "timestamp": .string(stamp), "focus": .object(focus)]))
            ]),
        ])
        var audit = JSONObject([
            "resourceType": .string("AuditEvent"), "id": .string(random.uuid()),
            "type": .object(
                JSONObject(["system": .string(Self.auditSystem), "code": .string(topic.code), "display": .string(topic.title)])),
            "recorded": .string(stamp),
            "agent": .array([
                .object(JSONObject(["requestor": .bool(false), "who": .object(JSONObject(["display": .string("athenaOne")]))]))
            ]),
            "source": .object(JSONObject(["observer": .object(JSONObject(["display": .string("athenaOne FHIR Subscriptions")]))])),
            "entity": .array([.object(JSONObject(["what": .object(focus)]))]),
        ])
        if let department = department(of: event.resource) {
            audit["extension"] = .array([
                .object(
                    JSONObject([
                        "url": .string(Self.departmentExtension),
                        "valueReference": .object(
                            JSONObject(["reference": .string("Location/\(ids.external(department, type: "Location"))")])),
                    ]))
            ])
        }
        let bundle = JSONObject([
            "resourceType": .string("Bundle"), "id": .string(random.uuid()),
            "meta": .object(JSONObject(["profile": .array([.string(Backport.notificationProfile)])])), "type": .string("history"),
            "timestamp": .string(stamp),
            "entry": .array([
                .object(
                    JSONObject([
                        "fullUrl": .string("urn:uuid:\(status["id"]!.stringValue!)"), "resource": .object(status),
                        "request": .object(
                            JSONObject(["method": .string("GET"), "url": .string("Subscription/\(shownSubscription)/$status")])),
                        "response": .object(JSONObject(["status": .string("200")])),
                    ])),
                .object(
                    JSONObject([
                        "fullUrl": .string("urn:uuid:\(audit["id"]!.stringValue!)"), "resource": .object(audit),
                        "request": .object(JSONObject(["method": .string("POST"), "url": .string("AuditEvent")])),
                        "response": .object(JSONObject(["status": .string("201")])),
                    ])),
            ]),
        ])
        let body = JSON.object(bundle).bytes
        var headers: [(name: String, value: String)] = []
        if let secret { headers.append(("X-Hub-Signature", "sha256=" + MessageSignature.sha256Hex(secret: secret, body: body))) }
        return (body, headers)
    }

    /// The Location an appointment is at (its department).
    func department(of resource: JSONObject) -> String? {
        for participant in resource["participant"]?.arrayValue ?? [] {
            if let reference = participant["actor"]?["reference"]?.stringValue.flatMap(ReferenceSyntax.parse), reference.type == "Location"
            {
                return reference.id
            }
        }
        return nil
    }
}
