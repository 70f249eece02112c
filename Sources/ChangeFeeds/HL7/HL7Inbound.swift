import FHIRCore
import FHIRInteractions

/// Scheduling requests and patient registrations from a placer application (an interface
/// engine): SRM^S01 (book), S03 (move), S04 (cancel) answered with SRR, and ADT^A04/A08
/// answered with ACK. Every change goes through the tenant's FHIR engine (`FHIRService`), so the
/// booking rules and the one-booking-per-slot guarantee are the FHIR writes' own; a refusal is an
/// `AE` with an ERR segment naming the field and the rule.
public struct HL7Inbound: Sendable {
    /// Appointment.identifier system of the placer's appointment id (ARQ-1, SCH-1).
    public static let placerSystem = "urn:fhir-sandbox:hl7:placer-appointment-id"
    /// The clinic's visit-type system (ARQ-8 codes).
    public var visitTypeSystem: String

    let service: FHIRService
    let outbound: HL7Outbound

    public init(service: FHIRService, outbound: HL7Outbound, visitTypeSystem: String) {
        self.service = service
        self.outbound = outbound
        self.visitTypeSystem = visitTypeSystem
    }

    /// A refusal: ERR-2 location, ERR-3 code (HL7 table 0357), ERR-8 the rule.
    public struct Refusal: Error, Sendable {
        public let code: String
        public let reason: String
        public let segment: String
        public let field: Int
        public let text: String
        /// `AE` (the request was understood and refused) or `AR` (it could not be processed).
        public let acknowledgment: String

        init(_ code: String, _ reason: String, _ segment: String, _ field: Int, _ text: String, acknowledgment: String = "AE") {
            self.code = code
            self.reason = reason
            self.segment = segment
            self.field = field
            self.text = text
            self.acknowledgment = acknowledgment
        }
    }

    /// The answer to a message (`controlID`: MSH-10 of the answer).
    public func process(_ message: HL7Message, controlID: String) -> HL7Message {
        let now = service.clock.now()
        do throws(Refusal) {
            // A tenant copies its seeded clinic on first use (HTTP or HL7, whichever comes first).
            do { try service.tenant.seedIfNeeded() } catch {
                throw Refusal(
                    "207", "Application internal error", "MSH", 0, "the clinic's data is unavailable: \(error.message)",
                    acknowledgment: "AR")
            }
            switch message.type {
            case "SRM^S01", "SRM^S03", "SRM^S04":
                let trigger = String(message.type.suffix(3))
                let (appointment, id) = try schedule(message, trigger: trigger)
                return reply(
                    to: message, type: "SRR", trigger: trigger, structure: "SRR_S01", code: "AA", refusal: nil,
                    body: scheduleSegments(appointment, id: id, trigger: trigger, now: now), controlID: controlID, now: now)
            case "ADT^A04", "ADT^A08":
                try register(message, update: message.type == "ADT^A08")
                return reply(
                    to: message, type: "ACK", trigger: String(message.type.suffix(3)), structure: "ACK", code: "AA", refusal: nil, body: [],
                    controlID: controlID, now: now)
            default:
                throw Refusal("200", "Unsupported message type", "MSH", 9, "\(message.type) is not handled here", acknowledgment: "AR")
            }
        } catch {
            let isSRM = message.type.hasPrefix("SRM^")
            return reply(
                to: message, type: isSRM ? "SRR" : "ACK", trigger: String(message.type.suffix(3)), structure: isSRM ? "SRR_S01" : "ACK",
                code: error.acknowledgment, refusal: error, body: [], controlID: controlID, now: now)
        }
    }

    /// An answer to bytes that are not a readable message: `AR` with the parse error.
    public func rejection(_ error: HL7ParseError, controlID: String, theirs: String) -> HL7Message {
        let now = service.clock.now()
        let refusal = Refusal("100", "Segment sequence error", error.segment, error.field, error.message, acknowledgment: "AR")
        var msa = HL7Message.Segment("MSA", ["AR", HL7Field([theirs])])
        msa[3] = HL7Field([refusal.text])
        return HL7Message(segments: [
            outbound.header("ACK", trigger: "", structure: "ACK", controlID: controlID, now: now), msa, err(refusal),
        ])
    }

    func reply(
        to message: HL7Message, type: String, trigger: String, structure: String, code: String, refusal: Refusal?,
        body: [HL7Message.Segment], controlID: String, now: Int64
    ) -> HL7Message {
        var header = outbound.header(type, trigger: trigger, structure: structure, controlID: controlID, now: now)
        if let msh = message.segment("MSH") {
            header[5] = msh[3]
            header[6] = msh[4]
        }
        let msa = HL7Message.Segment("MSA", [HL7Field([code]), HL7Field([message.controlID])])
        return HL7Message(segments: [header, msa] + (refusal.map { [err($0)] } ?? []) + body)
    }

    func err(_ refusal: Refusal) -> HL7Message.Segment {
        var err = HL7Message.Segment("ERR")
        err[2] = HL7Field([refusal.segment, "1", refusal.field > 0 ? String(refusal.field) : ""])
        err[3] = HL7Field([refusal.code, refusal.reason, "HL70357"])
        err[4] = "E"
        err[8] = HL7Field([refusal.text])
        return err
    }

    // MARK: - FHIR calls

    func call(_ method: String, _ path: [String], query: [(name: String, value: String)] = [], body: JSON? = nil) -> (Int, JSON?) {
        service.call(method, path, query: query, body: body)
    }

    func searchOne(_ type: String, _ query: [(name: String, value: String)]) -> JSONObject? {
        let (status, bundle) = call("GET", [type], query: query)
        guard status == 200 else { return nil }
        return (bundle?["entry"]?.arrayValue ?? []).lazy.compactMap { $0["resource"]?.objectValue }.first {
            $0["resourceType"]?.stringValue == type
        }
    }

    /// The Patient named by PID-3 (any of its repetitions' ids).
    func patient(_ message: HL7Message) throws(Refusal) -> JSONObject {
        guard let pid = message.segment("PID") else { throw Refusal("100", "Segment sequence error", "PID", 0, "PID is required") }
        let values = (1...max(1, pid[3].repetitions.count)).map { pid[3].component(1, repetition: $0) }.filter { !$0.isEmpty }
        guard !values.isEmpty else { throw Refusal("101", "Required field missing", "PID", 3, "PID-3 (the patient's MRN) is required") }
        for value in values {
            if let found = searchOne("Patient", [("identifier", value)]) { return found }
        }
        throw Refusal("204", "Unknown key identifier", "PID", 3, "patient unknown: no patient has the identifier \(values[0])")
    }
}
