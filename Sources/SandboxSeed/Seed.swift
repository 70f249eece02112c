import FHIRCore

/// A loaded seed: one fictional clinic. Static resources come from `resources/*.ndjson`;
/// Schedules and existing Appointments are rendered relative to the sandbox clock from the
/// YAML templates (`render(at:)`).
public struct Seed: Sendable {
    public let name: String
    public let description: String
    public let directory: String
    public let zone: TimeZoneRule
    public let planningHorizonDays: Int
    /// How long `$hold` keeps slots, in minutes of sandbox time.
    public var holdMinutes: Int = 10
    /// The clinic's short name in HL7 v2 messages (MSH-4, assigning facility of MRNs).
    public var facility = "CLINIC"
    /// The practice's code in vendor URLs that name one (`{practiceCode}` in a profile's paths).
    public var practiceCode = "CLINIC"
    /// Resources as written in the seed, in file order.
    public let resources: [JSON]
    public let appointmentTypes: [AppointmentType]
    public let schedules: [ScheduleTemplate]
    public let closures: [Closure]
    public let vacations: [Vacation]
    public let appointments: [SeedAppointment]
    /// Payer rules for eligibility checks (`payers.yaml`; empty: none).
    public var payers: [PayerRule] = []

    public func appointmentType(_ code: String) -> AppointmentType? { appointmentTypes.first { $0.code == code } }

    /// This seed without its parsed resources (templates and settings kept): what a running
    /// sandbox needs once the seeded snapshot exists, at a fraction of the memory.
    public func droppingResources() -> Seed {
        var copy = Seed(
            name: name, description: description, directory: directory, zone: zone, planningHorizonDays: planningHorizonDays,
            resources: [], appointmentTypes: appointmentTypes, schedules: schedules, closures: closures, vacations: vacations,
            appointments: appointments)
        copy.holdMinutes = holdMinutes
        copy.payers = payers
        copy.facility = facility
        copy.practiceCode = practiceCode
        return copy
    }
}

/// A visit type and its booking rules.
public struct AppointmentType: Sendable, Equatable {
    public static let system = "http://riverbend.example.org/fhir/CodeSystem/visit-type"
    public static let v2System = "http://terminology.hl7.org/CodeSystem/v2-0276"

    public let code: String
    public let display: String
    /// HL7 v2-0276 code for `appointmentType`.
    public let v2: String
    public let minutes: Int
    public let newPatientsOnly: Bool
    public let minimumLeadHours: Int
    public let maximumDaysAhead: Int
    /// Locations where the type may be booked; empty means any.
    public let locations: [String]
    /// An insurance prerequisite: the patient needs an active Coverage on the visit's date, from
    /// one of these payers (Organization ids; empty: any payer). Nil: none.
    public var coverage: CoverageRequirement?
}

/// One payer's rules for eligibility (`payers.yaml`): the practitioners outside its network and
/// the visit types it covers, with the copay (USD).
public struct PayerRule: Sendable, Equatable {
    /// The payer's Organization id.
    public let organization: String
    public let outOfNetwork: [String]
    /// Visit-type code → copay in USD; a type not listed is not covered.
    public let copays: [String: Int]

    public init(organization: String, outOfNetwork: [String], copays: [String: Int]) {
        self.organization = organization
        self.outOfNetwork = outOfNetwork
        self.copays = copays
    }
}

/// A visit type's insurance prerequisite (`requiresCoverage` in appointment-types.yaml).
public struct CoverageRequirement: Sendable, Equatable {
    /// Organization ids of the payers whose coverage counts; empty: any.
    public let payers: [String]

    public init(payers: [String]) { self.payers = payers }
}

extension AppointmentType {
    /// `appointmentType` as a CodeableConcept: the v2-0276 code and the clinic's visit-type code.
    public var concept: JSON {
        .object(
            JSONObject([
                "coding": .array([
                    .object(JSONObject(["system": .string(Self.v2System), "code": .string(v2)])),
                    .object(JSONObject(["system": .string(Self.system), "code": .string(code), "display": .string(display)])),
                ]),
                "text": .string(display),
            ]))
    }
}

/// A wall-clock time of day in minutes after midnight.
public struct TimeOfDay: Sendable, Equatable, Comparable {
    public let minutes: Int

    public init(minutes: Int) { self.minutes = minutes }

    /// Parses `HH:MM`.
    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]),
            (0...24).contains(hours), (0..<60).contains(minutes), hours * 60 + minutes <= 24 * 60
        else { return nil }
        self.minutes = hours * 60 + minutes
    }

    public var text: String {
        let hours = minutes / 60
        let rest = minutes % 60
        return (hours < 10 ? "0" : "") + String(hours) + ":" + (rest < 10 ? "0" : "") + String(rest)
    }

    public static func < (lhs: TimeOfDay, rhs: TimeOfDay) -> Bool { lhs.minutes < rhs.minutes }
}

/// A bookable window on one weekday.
public struct Window: Sendable, Equatable {
    public let start: TimeOfDay
    public let end: TimeOfDay
    /// Visit types accepted in this window; nil means the schedule's types.
    public let types: [String]?
}

/// A weekly template for one practitioner at one location; becomes a Schedule resource.
public struct ScheduleTemplate: Sendable {
    public struct Block: Sendable, Equatable {
        /// 0 = Sunday ... 6 = Saturday.
        public let weekday: Int
        public let start: TimeOfDay
        public let end: TimeOfDay
        public let reason: String
    }

    public let id: String
    public let practitioner: String
    public let location: String
    public let slotMinutes: Int
    public let specialty: String?
    public let serviceType: String?
    /// Windows per weekday (0 = Sunday ... 6 = Saturday).
    public let week: [Int: [Window]]
    public let blocks: [Block]
    public let types: [String]

    /// The visit types a window accepts.
    public func types(of window: Window) -> [String] { window.types ?? types }
}

/// A location closed on given dates.
public struct Closure: Sendable {
    public let location: String
    /// Local dates as days since 1970-01-01.
    public let days: Set<Int>
    public let reason: String
}

/// A practitioner away for some days, counted from the sandbox clock.
public struct Vacation: Sendable {
    public let practitioner: String
    public let startDaysFromClock: Int
    public let days: Int
    public let reason: String
}

/// An existing appointment, placed relative to the clock.
public struct SeedAppointment: Sendable {
    public let id: String
    public let patient: String
    public let schedule: String
    public let type: String
    public let daysFromClock: Int
    public let time: TimeOfDay
    public let status: String
    public let comment: String?
    public let cancelationReason: String?
}

/// Why a seed could not be loaded; the message names the file and line.
public struct SeedError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
