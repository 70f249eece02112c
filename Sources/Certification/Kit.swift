import FHIRCore

/// A scenario kit (`Profiles/certification/<kit>.yaml`): scenarios a client is certified on, each
/// with the profiles it applies to, how the sandbox is prepared, the task handed to the client and
/// the checks run over the sandbox's final state and request journal afterwards.
public struct Kit: Sendable {
    public var name: String
    public var description: String
    public var scenarios: [Scenario]
    public var file: String

    /// The scenarios for `profile`, optionally only those named.
    public func scenarios(for profile: String, only: [String] = []) -> [Scenario] {
        scenarios.filter { ($0.profiles?.contains(profile) ?? true) && (only.isEmpty || only.contains($0.id)) }
    }
}

public struct Scenario: Sendable {
    public var id: String
    public var title: String
    /// The profiles it applies to (nil: every profile).
    public var profiles: [String]?
    public var setup: Setup
    /// What the client is asked to do, handed over as JSON (`SCENARIO_TASK`).
    public var task: JSONObject
    /// How long the client may run.
    public var timeoutSeconds: Int
    public var checks: [Check]

    /// How the scenario's sandbox is prepared before the client starts.
    public struct Setup: Sendable {
        /// The sandbox clock, frozen at this instant (nil: the sandbox's default).
        public var clock: String?
        /// Fault rules, as `POST /_admin/faults` takes them.
        public var faults: [JSON] = []
        /// Staff actions, as `POST /_admin/actions` takes them (with `at` they are scheduled).
        public var actions: [JSON] = []

        public init() {}
    }
}

/// One check: what it verifies (`kind`, with its parameters), how much it matters, and what a
/// developer reads when it fails.
public struct Check: Sendable {
    public enum Severity: String, Sendable, CaseIterable {
        case required, recommended
    }

    public var id: String
    public var kind: CheckKind
    public var severity: Severity
    public var message: String
    public var parameters: JSONObject
}

/// What a check verifies. Each kind reads the run's exchanges and the sandbox's state; none
/// knows a vendor (vendor surfaces reach it classified by the server).
public enum CheckKind: String, Sendable, CaseIterable {
    /// Exactly one appointment was booked for the caller during the run (and it is still booked).
    case bookedOnce = "booked-once"
    /// The booked appointment is of the task's kind: its provider and visit type.
    case bookedAsAsked = "booked-as-asked"
    /// No new chart duplicates the caller (same family name and birth date).
    case noDuplicatePatient = "no-duplicate-patient"
    /// A patient search with at least two identifying criteria came before any booking or read
    /// of the patient's appointments or coverage.
    case verifiedBeforePHI = "verified-before-phi"
    /// After a conflict (409) the same booking is not sent again, and conflicts stay few.
    case noRetryStorm = "no-retry-storm"
    /// After a 429 the client waited `Retry-After` (or `minBackoffMs` without one) before its next call.
    case honoursRetryAfter = "honours-retry-after"
    /// One token for the call: token requests stay within `max`, plus one after each rejected token.
    case tokenReused = "token-reused"
    /// After a 401 for an expired token the client fetched a new one before calling again.
    case renewsOn401 = "renews-on-401"
    /// No write was refused as malformed (400/422).
    case writesValid = "writes-valid-first-time"
    /// A call note about the caller was written during the run.
    case noteWritten = "note-written"
    /// During an outage (503) the client stopped and the booking was completed after it.
    case outageRecovered = "outage-recovered"
}
