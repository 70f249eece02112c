import FHIRCore
import FHIRInteractions
import FHIRSearch
import FHIRStore
import SandboxSeed

/// What the three scheduling operations share: the seed, booking rules, proposals and holds.
public struct SchedulingContext: Sendable {
    public let seed: Seed
    public let rules: BookingRules
    public let proposals: ProposalCache
    public let holds: HoldRegistry
    /// How long a `$hold` lasts, in minutes of sandbox time.
    public let holdMinutes: Int
    let displays: [String: String]

    public init(seed: Seed, displays: [String: String], holdMinutes: Int) {
        self.seed = seed
        self.displays = displays
        self.holdMinutes = holdMinutes
        rules = BookingRules(seed: seed)
        proposals = ProposalCache()
        holds = HoldRegistry()
    }

    public func operations() -> [any OperationHandler] {
        [FindOperation(context: self), HoldOperation(context: self), BookOperation(context: self)]
    }

    /// Re-registers the holds of stored `pending` appointments (after a restart with a data
    /// directory): each lapses `holdMinutes` after the version that made it pending.
    public func recoverHolds(service: FHIRService) throws(FHIRError) {
        let query = try service.searchParser().parse(
            type: "Appointment", parameters: [(name: "status", value: "pending")], strict: true, now: 0)
        let pending = try service.read { reader throws(FHIRError) in try reader.bodies(try reader.search(query)) }
        for (key, body) in pending {
            guard let appointment = (try? JSONParser.parse(body))?.objectValue,
                let updated = appointment["meta"]?["lastUpdated"]?.stringValue.flatMap({ FHIRDateTime.parse($0, form: .instant) })
            else { continue }
            let slots = (appointment["slot"]?.arrayValue ?? []).compactMap { $0["reference"]?.stringValue.map(Self.id(fromReference:)) }
            holds.add(Hold(slots: slots, heldAt: updated.startMilliseconds(in: .utc), minutes: holdMinutes), appointment: key.id)
        }
    }

    /// Drops proposals and holds (after a reset).
    public func reset() {
        proposals.removeAll()
        holds.removeAll()
    }

    /// The id in `Type/id`, a bare id, or an identifier token `system|id` (a vendor's
    /// `valueIdentifier`).
    static func id(fromReference text: String) -> String {
        if let parsed = ReferenceSyntax.parse(text) { return parsed.id }
        if let bar = text.lastIndex(of: "|") { return String(text[text.index(after: bar)...]) }
        return text
    }

    /// The appointment an `appt-id` / `appointment-reference` names: a proposal or a stored one.
    func appointment(named text: String, writer: FHIRWriter) throws(FHIRError) -> (resource: JSONObject, stored: Bool) {
        let id = Self.id(fromReference: text)
        if let stored = try writer.current("Appointment", id) { return (stored.resource, true) }
        if let proposal = proposals.take(id) { return (proposal, false) }
        throw FHIRError(.notFound, "Appointment/\(id) is neither stored nor a current $find proposal", expression: ["appt-id"])
    }

    /// The appointment an operation acts on: named by the instance id, `appt-id` or
    /// `appointment-reference` (stored or proposed; `stored` says which), or given whole as
    /// `appt-resource` / `appointment-resource` / the body (id nil: a new appointment).
    func target(
        of invocation: OperationInvocation, writer: FHIRWriter, operation: String
    ) throws(FHIRError) -> (resource: JSONObject, id: String?, stored: Bool) {
        let input = invocation.parameters
        if let reference = invocation.id ?? input.string("appt-id") ?? input.string("appointment-reference") {
            let (resource, stored) = try appointment(named: reference, writer: writer)
            return (resource, Self.id(fromReference: reference), stored)
        }
        if let resource = input.resources("appt-resource").first ?? input.resources("appointment-resource").first
            ?? input.resources("resource").first
        {
            return (resource, nil, false)
        }
        let named = input.spelling(of: "appt-id")
        throw FHIRError(.invalidParameter, "$\(operation) needs \(named) or appt-resource", expression: [named])
    }

    /// Every participant's status set to `status`.
    public static func participants(_ appointment: JSONObject, status: String) -> JSONObject {
        var result = appointment
        result["participant"] = .array(
            (appointment["participant"]?.arrayValue ?? []).map { participant in
                guard case .object(var object) = participant else { return participant }
                object["status"] = .string(status)
                return .object(object)
            })
        return result
    }
}

/// `Appointment/$find` (Argonaut and IHE parameter names): proposed appointments on free,
/// contiguous slots that satisfy the booking rules, different actor types ANDed, repeats ORed
/// in preference order.
public struct FindOperation: OperationHandler {
    public let context: SchedulingContext
    public var name: String { "find" }
    public var type: String { "Appointment" }
    public var definition: String { "http://fhir.org/guides/argonaut/scheduling/OperationDefinition/appointment-find" }
    public var allowsGet: Bool { true }
    public var references: [String: String] {
        ["practitioner": "Practitioner", "location": "Location", "location-reference": "Location", "patient-reference": "Patient"]
    }
    /// Reads availability: slots and the schedules they belong to.
    public var access: [(type: String, action: Access.Action)] { [("Slot", .search), ("Schedule", .read)] }

    public func invoke(_ invocation: OperationInvocation, service: FHIRService) throws(FHIRError) -> FHIRResponse {
        let seed = context.seed
        let input = invocation.parameters
        guard invocation.id == nil else { throw FHIRError(.methodNotAllowed, "$find is a type-level operation") }
        func instant(_ name: String) throws(FHIRError) -> Int64 {
            let spelled = input.spelling(of: name)
            guard let text = input.string(name) else {
                throw FHIRError(.invalidParameter, "\(spelled) is required", expression: [spelled])
            }
            guard let value = FHIRDateTime.parse(text, form: .search) else {
                throw FHIRError(.invalidParameter, "\(spelled) '\(text)' is not a date or dateTime", expression: [spelled])
            }
            return value.startMilliseconds(in: seed.zone)
        }
        let dialect = service.settings.rules.dialect
        let start = try instant("start")
        let end = try instant("end")
        guard end > start else {
            throw FHIRError(
                .invalidParameter, "\(input.spelling(of: "end")) must be after \(input.spelling(of: "start"))",
                expression: [input.spelling(of: "end")])
        }
        var notes: [FHIRError.Issue] = []
        var count = 20
        if let text = input.string("_count") {
            guard let value = Int(text), value >= 1 else {
                throw FHIRError(.invalidParameter, "_count must be a positive integer, not '\(text)'", expression: ["_count"])
            }
            count = min(value, service.settings.maxPageSize)
        }

        notes += input.ignoredNotes(dialect)
        // Actor types AND; repeated values OR, in preference order. An actor the server does
        // not know is an invalid optional filter: noted and ignored, never "no availability".
        let practitioners = try actors(input, ["practitioner"], type: "Practitioner", service: service, notes: &notes)
        let locations = try actors(input, ["location-reference", "location"], type: "Location", service: service, notes: &notes)
        let specialties = input.strings("specialty").map { $0.split(separator: "|").last.map(String.init) ?? $0 }
        // An unknown visit type is ignored with a note (the filter is optional).
        var visitTypes: [AppointmentType] = []
        for name in ["visit-type", "service-type"] {
            for token in input.strings(name) {
                if let type = visitType(token, settings: service.settings) {
                    if !visitTypes.contains(where: { $0.code == type.code }) { visitTypes.append(type) }
                } else if let note = dialect.note(
                    .init(
                        severity: "warning", code: "code-invalid",
                        message: "Optional \(input.spelling(of: name)) invalid: \(token) (not one of the clinic's visit types; ignored)",
                        expression: [input.spelling(of: name)]), kind: "optionalParameterInvalid")
                {
                    notes.append(note)
                }
            }
        }
        for ignored in ["organization", "location-string", "reason", "coverage", "insurance-reference", "referral-identifier", "timing"]
        where !input.strings(ignored).isEmpty {
            notes.append(
                .init(
                    severity: "information", code: "informational",
                    message: "\(input.spelling(of: ignored)) does not narrow availability here", expression: [input.spelling(of: ignored)]))
        }
        let (patient, newPatient) = try self.patient(input, service: service)
        if let confined = invocation.compartment("Patient", .read), let patient, patient != confined {
            throw FHIRService.outsideCompartment("Patient", patient, confined)
        }

        var templates = seed.schedules
        if !practitioners.isEmpty { templates = templates.filter { practitioners.contains($0.practitioner) } }
        if !locations.isEmpty { templates = templates.filter { locations.contains($0.location) } }
        if !specialties.isEmpty { templates = templates.filter { specialties.contains($0.specialty ?? "") } }
        func rank(_ template: ScheduleTemplate) -> Int {
            (practitioners.firstIndex(of: template.practitioner) ?? 0) * 1000 + (locations.firstIndex(of: template.location) ?? 0)
        }
        let now = service.clock.now()
        let isNew: Bool
        if newPatient {
            isNew = true
        } else if let patient {
            isNew = try service.read { reader throws(FHIRError) in
                try AppointmentBooking(seed: seed, registry: service.registry).isNew(patient: patient, excluding: "", reader: reader)
            }
        } else {
            isNew = false
        }
        // An insured-only visit type is offered to a known patient only with the coverage: their
        // active coverages are read once (the full registry: a scheduling-only base does not
        // serve Coverage search) and checked at each option's start.
        let insured = AppointmentBooking(seed: seed, registry: .r4)
        let coverages: [[UInt8]]? =
            patient != nil && visitTypes.contains(where: { $0.coverage != nil })
            ? try service.read { reader throws(FHIRError) in try insured.coverageBodies(of: patient, reader: reader) } : nil
        // Proposals come in (actor preference, visit-type preference, start) order, so the
        // window is read a day at a time in that order and the search stops at `_count`.
        let types: [AppointmentType?] = visitTypes.isEmpty ? [nil] : visitTypes
        let longest = Int64((types.compactMap { $0?.minutes }.max() ?? 0) + (templates.map(\.slotMinutes).max() ?? 0)) * 60_000
        var proposals: [JSONObject] = []
        var firstSlots: Set<String> = []
        // Only slots that are still free can be proposed: those starting after the sandbox clock
        // and before the planning horizon. The work is bounded by the horizon, whatever the
        // requested range (a request for years 1 to 9999 reads the same ~90 days).
        let searchFrom = max(start, now)
        let searchTo = min(end, now + Int64(seed.planningHorizonDays + 2) * 86_400_000)
        search: for (_, group) in Dictionary(grouping: templates, by: rank).sorted(by: { $0.key < $1.key }) {
            for type in types {
                var day = searchFrom
                while day < searchTo {
                    guard proposals.count < count else { break search }
                    let dayEnd = min(day + 86_400_000, searchTo)
                    for run in try runs(
                        of: group, type: type, from: day, before: dayEnd, until: min(dayEnd + longest, end, searchTo + longest), now: now,
                        service)
                    where proposals.count < count && !firstSlots.contains(run.first!.id) {
                        let states = Dictionary(
                            uniqueKeysWithValues: run.map {
                                (
                                    $0.id,
                                    SlotState(
                                        spec: SlotSpec(id: $0.id, schedule: $0.schedule, start: $0.start, end: $0.end, types: $0.types),
                                        status: "free")
                                )
                            })
                        // An insured-only visit type is offered to a known patient only with the coverage.
                        let payers = type?.coverage == nil ? nil : coverages.map { insured.payers(in: $0, on: run.first!.start) }
                        let request = BookingRequest(
                            slots: run.map(\.id), visitType: type?.code, patientIsNew: isNew, patientPayers: payers)
                        guard context.rules.check(request, slots: states, now: now) == nil else { continue }
                        firstSlots.insert(run.first!.id)
                        let id = service.random.uuid()
                        let proposal = self.proposal(
                            id: id, slots: Array(run), type: type, patient: patient, window: (start, end), settings: service.settings)
                        context.proposals.store(proposal, id: id)
                        proposals.append(proposal)
                    }
                    day = dayEnd
                }
            }
        }
        if proposals.isEmpty {
            notes.insert(
                contentsOf: [
                    dialect.note(
                        .init(severity: "information", code: "informational", message: "no availability matches the request"),
                        kind: "noAvailability"),
                    service.settings.rules.emptyResult == .outcome
                        ? dialect.note(
                            .init(severity: "warning", code: "not-found", message: "no appointment options match the request"),
                            kind: "noMatches") : nil,
                ].compactMap { $0 }, at: 0)
        } else if let note = dialect.note(
            .init(severity: "information", code: "informational", message: "the appointment availability operation was successful"),
            kind: "operationSucceeded")
        {
            notes.insert(note, at: 0)
        }
        return .json(200, service.searchset(proposals, baseURL: invocation.request.baseURL, outcome: notes))
    }

    /// The clinic's visit type a `system|code` token names: the clinic's system, HL7 v2-0276 or the
    /// profile's vendor system (`visitTypeCodes`: its codes, or the clinic's codes under it); a bare
    /// code in any of them. Nil: a system or code the clinic does not know.
    func visitType(_ token: String, settings: FHIRServiceSettings) -> AppointmentType? {
        let types = context.seed.appointmentTypes
        let parts = token.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let system = parts.count == 2 ? parts[0] : nil
        let code = parts.last ?? token
        let vendor = settings.visitTypeCodes
        let byClinicCode = types.first { $0.code == code }
        let byV2 = types.first { $0.v2 == code }
        let byVendorCode = vendor?.codes[code].flatMap { clinic in types.first { $0.code == clinic } }
        switch system {
        case nil, "": return byVendorCode ?? byClinicCode ?? byV2
        case AppointmentType.system: return byClinicCode
        case AppointmentType.v2System: return byV2
        case vendor?.system: return byVendorCode ?? byClinicCode
        default: return nil
        }
    }

    /// The ids an actor filter names (`names`, in order) that are stored resources of `type`;
    /// each other value becomes an `optionalParameterInvalid` note and drops out of the filter.
    func actors(
        _ input: OperationParameters, _ names: [String], type: String, service: FHIRService, notes: inout [FHIRError.Issue]
    ) throws(FHIRError) -> [String] {
        let given = names.flatMap { name in input.strings(name).map { (name: name, value: $0) } }
        guard !given.isEmpty else { return [] }
        let ids = given.map { SchedulingContext.id(fromReference: $0.value) }
        let known = Set(try service.read { reader throws(FHIRError) in try reader.keys(type, ids: ids) }.map(\.id))
        for (entry, id) in zip(given, ids) where !known.contains(id) {
            let spelled = input.spelling(of: entry.name)
            let issue = FHIRError.Issue(
                severity: "warning", code: "not-found",
                message: "Optional \(spelled) invalid: \(entry.value) (no such \(type); the filter is ignored)", expression: [spelled])
            if let note = service.settings.rules.dialect.note(issue, kind: "optionalParameterInvalid") { notes.append(note) }
        }
        return ids.filter(known.contains)
    }

    /// The patient the options are for: `patient-reference` (a reference, or a vendor's Patient
    /// resource under `patient`), or `patient-resource`; a resource that names a stored patient
    /// by id or identifier is that patient, otherwise a new one. Nil: no patient given.
    func patient(_ input: OperationParameters, service: FHIRService) throws(FHIRError) -> (id: String?, isNew: Bool) {
        if let reference = input.string("patient-reference") { return (SchedulingContext.id(fromReference: reference), false) }
        guard let resource = (input.resources("patient-reference") + input.resources("patient-resource")).first else {
            return (nil, false)
        }
        return try service.read { reader throws(FHIRError) in
            if let id = resource["id"]?.stringValue, !(try reader.keys("Patient", ids: [id])).isEmpty { return (id, false) }
            for identifier in resource["identifier"]?.arrayValue ?? [] {
                guard let value = identifier["value"]?.stringValue else { continue }
                let token = (identifier["system"]?.stringValue.map { "\($0)|" } ?? "") + value
                // The full registry: a scheduling-only base (an STU3 base) does not serve Patient search.
                let query = try SearchQueryParser(registry: .r4, zone: service.zone, maxCount: 1).parse(
                    type: "Patient", parameters: [(name: "identifier", value: token)], strict: true, now: 0)
                if let match = try reader.search(query).first { return (match.id, false) }
            }
            return (nil, true)
        }
    }

    /// Runs of contiguous free slots of one schedule in `group`, long enough for `type`, that
    /// start in [from, before) and end by `until`; ordered by start, then schedule.
    func runs(
        of group: [ScheduleTemplate], type: AppointmentType?, from: Int64, before: Int64, until: Int64, now: Int64, _ service: FHIRService
    ) throws(FHIRError) -> [ArraySlice<SlotRow>] {
        let rows = try service.read { reader throws(FHIRError) in
            var filter = SlotFilter()
            filter.schedules = Set(group.map(\.id))
            filter.statuses = ["free"]
            filter.freeFrom = now
            filter.times = [[.range(from: from, before: until)]]
            if let type { filter.types = [type.code] }
            return try reader.slots(filter)
        }
        let bySchedule = Dictionary(grouping: rows, by: \.schedule)
        var found: [ArraySlice<SlotRow>] = []
        for template in group {
            if let type, type.minutes % template.slotMinutes != 0 { continue }
            let needed = type.map { max(1, $0.minutes / template.slotMinutes) } ?? 1
            let slots = bySchedule[template.id] ?? []
            for index in slots.indices where slots[index].start < before && index + needed <= slots.count {
                let run = slots[index..<(index + needed)]
                guard run.last!.end <= until, (index..<(index + needed - 1)).allSatisfy({ slots[$0].end == slots[$0 + 1].start }) else {
                    continue
                }
                found.append(run)
            }
        }
        return found.sorted { ($0.first!.start, $0.first!.schedule) < ($1.first!.start, $1.first!.schedule) }
    }

    func proposal(
        id: String, slots: [SlotRow], type: AppointmentType?, patient: String?, window: (Int64, Int64), settings: FHIRServiceSettings
    ) -> JSONObject {
        let seed = context.seed
        let template = seed.schedules.first { $0.id == slots[0].schedule }
        var object = JSONObject()
        object["resourceType"] = .string("Appointment")
        object["id"] = .string(id)
        object["status"] = .string("proposed")
        object["serviceType"] = seed.concept(template?.serviceType, context.displays)
        object["specialty"] = seed.concept(template?.specialty, context.displays)
        if let type {
            var concept = ClinicRenderer.appointmentType(type)
            // The vendor's coding of the visit type too, when the profile has one.
            if let vendor = settings.visitTypeCodes, let code = vendor.vendorCode(for: type.code), case .object(var object) = concept {
                object["coding"] = .array(
                    (object["coding"]?.arrayValue ?? [])
                        + [
                            .object(
                                JSONObject(["system": .string(vendor.system), "code": .string(code), "display": .string(type.display)]))
                        ])
                concept = .object(object)
            }
            object["appointmentType"] = concept
            object["description"] = .string(type.display)
        }
        object["start"] = .string(seed.format(slots[0].start))
        object["end"] = .string(seed.format(slots[slots.count - 1].end))
        object["minutesDuration"] = .int(Int((slots[slots.count - 1].end - slots[0].start) / 60_000))
        object["slot"] = .array(slots.map { .object(JSONObject(["reference": .string("Slot/\($0.id)")])) })
        object["requestedPeriod"] = .array([
            .object(JSONObject(["start": .string(seed.format(window.0)), "end": .string(seed.format(window.1))]))
        ])
        var participants: [JSON] = []
        if let patient { participants.append(participant(seed.reference("Patient", patient))) }
        if let template {
            participants.append(participant(seed.reference("Practitioner", template.practitioner)))
            participants.append(participant(seed.reference("Location", template.location)))
        }
        object["participant"] = .array(participants)
        return object
    }

    func participant(_ actor: JSON) -> JSON {
        .object(JSONObject(["actor": actor, "required": .string("required"), "status": .string("needs-action")]))
    }
}
