import FHIRCore
import FHIRInteractions
import FHIRStore

/// Test control's `slot-taken`: when a request is marked `frontDeskTakesSlot`, the slots its
/// booking write is about to take are booked by the front desk for another patient just before
/// it runs, so the client gets the profile's conflict answer. The last edge step: it sees
/// stored ids. Booking writes are Appointment creates, updates and patches (their `slot`),
/// `$hold`/`$book` (the proposal or appointment they name, or the one they carry) and a Slot
/// patch (the slot itself).
public struct SlotRace: FHIRRequestStep {
    public let context: SchedulingContext
    let service: @Sendable () -> FHIRService?

    public init(context: SchedulingContext, service: @escaping @Sendable () -> FHIRService?) {
        self.context = context
        self.service = service
    }

    public func check(_ request: FHIRRequest) -> FHIRResponse? {
        guard request.frontDeskTakesSlot, let service = service() else { return nil }
        let desk = StaffDesk(service: service)
        let slots = (try? targets(of: request, service: service)) ?? []
        for slot in slots {
            guard let other = try? desk.anotherPatient(than: patient(of: request)) else { continue }
            _ = try? desk.book(slot: slot, patient: other)
        }
        return nil
    }

    /// The slot ids a booking request is about to take.
    func targets(of request: FHIRRequest, service: FHIRService) throws(FHIRError) -> [String] {
        let segments = request.segments
        let body = request.body.flatMap { try? JSONParser.parse($0) }
        if segments.count == 2, segments[0] == "Slot", request.method == "PATCH" { return [segments[1]] }
        guard segments.first == "Appointment" else { return [] }
        if let operation = segments.last, operation == "$book" || operation == "$hold" {
            var parameters = OperationParameters(values: request.query.map { ($0.name, .text($0.value)) })
            if let object = body?.objectValue {
                if object["resourceType"]?.stringValue == "Parameters" {
                    parameters.values += try OperationParameters.from(parameters: object).values
                } else {
                    parameters.values.append(("resource", .resource(object)))
                }
            }
            if segments.count == 3 { parameters.values.append(("appt-id", .text(segments[1]))) }
            var slots: [String] = []
            for (_, value) in parameters.values {
                switch value {
                case .resource(let resource): slots += Self.slotIDs(resource)
                default:
                    guard let text = value.text else { continue }
                    let id = SchedulingContext.id(fromReference: text)
                    if let proposal = context.proposals.take(id) {
                        slots += Self.slotIDs(proposal)
                    } else if let stored = try service.read({ reader throws(FHIRError) in
                        try reader.bodies(try reader.keys("Appointment", ids: [id]))
                    }).first, let appointment = (try? JSONParser.parse(stored.1))?.objectValue,
                        appointment["status"]?.stringValue == "proposed"
                    {
                        slots += Self.slotIDs(appointment)
                    }
                }
            }
            return slots
        }
        switch request.method {
        case "POST", "PUT": return body?.objectValue.map(Self.slotIDs) ?? []
        case "PATCH":
            // JSON Patch: the slot references the operations add.
            return (body?.arrayValue ?? []).flatMap { operation -> [String] in
                guard operation["path"]?.stringValue?.hasPrefix("/slot") == true, let value = operation["value"] else { return [] }
                return (value.arrayValue ?? [value]).compactMap { Self.slotID($0) }
            }
        default: return []
        }
    }

    /// The patient the request books for (the front desk books someone else).
    func patient(of request: FHIRRequest) -> String? {
        guard let body = request.body.flatMap({ try? JSONParser.parse($0) })?.objectValue else { return nil }
        // `$book`/`$hold` name the patient as a parameter (`patient-id`, or a vendor's `patient`);
        // without this the desk could pick the caller and book them twice.
        if body["resourceType"]?.stringValue == "Parameters", let parameters = try? OperationParameters.from(parameters: body) {
            for (name, value) in parameters.values where ["patient-id", "patient", "patient-reference"].contains(name) {
                if let text = value.text { return SchedulingContext.id(fromReference: text) }
            }
            return nil
        }
        return AppointmentBooking.patient(body)
    }

    static func slotIDs(_ appointment: JSONObject) -> [String] { (appointment["slot"]?.arrayValue ?? []).compactMap(slotID) }

    static func slotID(_ reference: JSON) -> String? {
        guard let text = reference["reference"]?.stringValue, let parsed = ReferenceSyntax.parse(text), parsed.type == "Slot" else {
            return nil
        }
        return parsed.id
    }
}
