import FHIRCore
import FHIRInteractions
import FHIRStore

/// `Appointment/$hold`: the appointment becomes `pending`, its participants `tentative` and its
/// slots `busy-tentative`, for `holdMinutes` of sandbox time (`Expires` header).
public struct HoldOperation: OperationHandler {
    public let context: SchedulingContext
    public var name: String { "hold" }
    public var type: String { "Appointment" }
    public var definition: String { "http://fhir.org/guides/argonaut/scheduling/OperationDefinition/appointment-hold" }
    public var allowsGet: Bool { false }
    public var references: [String: String] { ["appt-id": "Appointment", "appointment-reference": "Appointment"] }
    /// Writes an Appointment (a new one from a proposal or resource, or the one named).
    public var access: [(type: String, action: Access.Action)] { [("Appointment", .create), ("Appointment", .update)] }

    public func invoke(_ invocation: OperationInvocation, service: FHIRService) throws(FHIRError) -> FHIRResponse {
        let now = service.clock.now()
        let held: JSONObject = try service.write(as: invocation.request.access) { writer throws(FHIRError) in
            let target = try context.target(of: invocation, writer: writer, operation: "hold")
            var appointment = target.resource
            let id = target.id ?? service.random.uuid()
            guard ["proposed", "pending", nil].contains(appointment["status"]?.stringValue) || writerIsNew(appointment) else {
                throw FHIRError(
                    .businessRule, "only a proposed appointment can be held; this one is \(appointment["status"]?.stringValue ?? "")",
                    expression: ["Appointment.status"])
            }
            appointment["status"] = .string("pending")
            appointment = SchedulingContext.participants(appointment, status: "tentative")
            appointment["meta"] = nil
            let stored = try writer.put("Appointment", id: id, appointment)
            let slots = (appointment["slot"]?.arrayValue ?? []).compactMap {
                $0["reference"]?.stringValue.map(SchedulingContext.id(fromReference:))
            }
            context.holds.add(Hold(slots: slots, heldAt: now, minutes: context.holdMinutes), appointment: id)
            return (try? JSONParser.parse(stored.body ?? []))?.objectValue ?? appointment
        }
        let expires = now + Int64(context.holdMinutes) * 60_000
        let notes = invocation.parameters.ignoredNotes(service.settings.rules.dialect)
        return .json(
            200, service.searchset([held], baseURL: invocation.request.baseURL, outcome: notes),
            headers: [("Expires", InstantFormat.http(expires))])
    }

    func writerIsNew(_ appointment: JSONObject) -> Bool { appointment["id"] == nil }
}

/// `Appointment/$book`: the appointment (held, proposed, or given whole) becomes `booked` with
/// every participant `accepted`; `cancelled-appt-id` cancels another appointment in the same
/// transaction (reschedule in one call).
public struct BookOperation: OperationHandler {
    public let context: SchedulingContext
    public var name: String { "book" }
    public var type: String { "Appointment" }
    public var definition: String { "http://fhir.org/guides/argonaut/scheduling/OperationDefinition/appointment-book" }
    public var allowsGet: Bool { false }
    public var references: [String: String] {
        ["appt-id": "Appointment", "appointment-reference": "Appointment", "cancelled-appt-id": "Appointment", "patient-id": "Patient"]
    }
    /// Writes an Appointment (a new one from a proposal or resource, or the one named).
    public var access: [(type: String, action: Access.Action)] { [("Appointment", .create), ("Appointment", .update)] }

    public func invoke(_ invocation: OperationInvocation, service: FHIRService) throws(FHIRError) -> FHIRResponse {
        let input = invocation.parameters
        let now = service.clock.now()
        let booked: JSONObject = try service.write(as: invocation.request.access) { writer throws(FHIRError) in
            if let cancelled = input.string("cancelled-appt-id") {
                let id = SchedulingContext.id(fromReference: cancelled)
                guard var old = try writer.current("Appointment", id)?.resource else {
                    throw FHIRError(.notFound, "Appointment/\(id) to cancel does not exist", expression: ["cancelled-appt-id"])
                }
                old["status"] = .string("cancelled")
                old["meta"] = nil
                try writer.put("Appointment", id: id, SchedulingContext.participants(old, status: "declined"))
            }
            let target = try context.target(of: invocation, writer: writer, operation: "book")
            var appointment = target.resource
            let id = target.id
            let status = appointment["status"]?.stringValue ?? "proposed"
            if target.stored, !["proposed", "pending"].contains(status) {
                throw FHIRError(
                    .conflict, "Appointment/\(id ?? "") is \(status); only a proposed or held appointment can be booked",
                    expression: [input.spelling(of: "appt-id")])
            }
            if let id, target.stored, appointment["status"]?.stringValue == "pending",
                case .refuse(let reason, _)? = context.holds.event(.book(now: now), appointment: id)
            {
                throw FHIRError(.conflict, reason, expression: ["appt-id"])
            }
            var participants = appointment["participant"]?.arrayValue ?? []
            for patient in input.strings("patient-id") + input.resources("patient-resource").compactMap({ $0["id"]?.stringValue }) {
                let reference = "Patient/\(SchedulingContext.id(fromReference: patient))"
                if !participants.contains(where: { $0["actor"]?["reference"]?.stringValue == reference }) {
                    participants.insert(
                        .object(
                            JSONObject([
                                "actor": .object(JSONObject(["reference": .string(reference)])), "required": .string("required"),
                                "status": .string("accepted"),
                            ])), at: 0)
                }
            }
            appointment["participant"] = .array(participants)
            guard participants.contains(where: { $0["actor"]?["reference"]?.stringValue?.hasPrefix("Patient/") == true }) else {
                throw FHIRError(.businessRule, "a booked appointment needs a patient: pass patient-id", expression: ["patient-id"])
            }
            if let comment = input.string("comment") { appointment["comment"] = .string(comment) }
            if appointment["created"] == nil { appointment["created"] = .string(InstantFormat.iso(now)) }
            appointment["status"] = .string("booked")
            appointment["meta"] = nil
            appointment = SchedulingContext.participants(appointment, status: "accepted")
            let stored = try writer.put("Appointment", id: id, appointment)
            return (try? JSONParser.parse(stored.body ?? []))?.objectValue ?? appointment
        }
        let notes = input.ignoredNotes(service.settings.rules.dialect)
        return .json(200, service.searchset([booked], baseURL: invocation.request.baseURL, outcome: notes))
    }
}

/// Lapses holds whose time has passed in sandbox time: before each request, an expired hold's
/// appointment is cancelled (participants declined) and its slots freed, through the service.
public struct HoldSweeper: FHIRRequestStep {
    public let context: SchedulingContext
    let service: @Sendable () -> FHIRService?

    public init(context: SchedulingContext, service: @escaping @Sendable () -> FHIRService?) {
        self.context = context
        self.service = service
    }

    public func check(_ request: FHIRRequest) -> FHIRResponse? {
        guard let service = service() else { return nil }
        for id in context.holds.expired(at: service.clock.now()) {
            do {
                try service.write { writer throws(FHIRError) in
                    guard var appointment = try writer.current("Appointment", id)?.resource,
                        appointment["status"]?.stringValue == "pending"
                    else { return }
                    appointment["status"] = .string("cancelled")
                    appointment["cancelationReason"] = .object(JSONObject(["text": .string("Hold expired")]))
                    appointment["meta"] = nil
                    try writer.put("Appointment", id: id, SchedulingContext.participants(appointment, status: "declined"))
                }
            } catch {
                return .error(error)
            }
        }
        return nil
    }
}
