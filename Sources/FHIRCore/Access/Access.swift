/// What an authenticated request may do: the grants of its access token (SMART scopes as data)
/// and, for patient-level grants, the patient whose compartment they are confined to. A request
/// without `access` is anonymous and unrestricted (the profile allows anonymous use).
public struct Access: Sendable, Equatable {
    /// The SMART v2 permissions (`c r u d s`); v1 `read` is `r s`, v1 `write` is `c u d`.
    public enum Action: Character, Sendable, CaseIterable, Comparable {
        case create = "c", read = "r", update = "u", delete = "d", search = "s"

        public static func < (lhs: Action, rhs: Action) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    /// `patient/`, `user/` or `system/`.
    public enum Level: String, Sendable {
        case patient, user, system
    }

    /// One resource scope: `level/Type.actions` (`Type` may be `*`).
    public struct Grant: Sendable, Equatable {
        public let level: Level
        public let type: String
        public let actions: Set<Action>

        public init(level: Level, type: String, actions: Set<Action>) {
            self.level = level
            self.type = type
            self.actions = actions
        }

        func covers(_ type: String, _ action: Action) -> Bool {
            (self.type == "*" || self.type == type) && actions.contains(action)
        }
    }

    public var grants: [Grant]
    /// The patient in context (`launch/patient`, or the patient a patient-level token is for).
    public var patient: String?
    /// The client the token was issued to (for messages and the journal).
    public var client: String
    /// Every scope granted, as written (resource scopes and the others).
    public var scopes: [String]

    public init(grants: [Grant], patient: String?, client: String, scopes: [String] = []) {
        self.grants = grants
        self.patient = patient
        self.client = client
        self.scopes = scopes
    }

    /// How a request may touch `type` with `action`.
    public enum Decision: Sendable, Equatable {
        /// Allowed everywhere (a user- or system-level grant).
        case allowed
        /// Allowed only inside this patient's compartment.
        case compartment(String)
        case denied
    }

    public func decide(_ type: String, _ action: Action) -> Decision {
        let covering = grants.filter { $0.covers(type, action) }
        if covering.contains(where: { $0.level != .patient }) { return .allowed }
        guard !covering.isEmpty else { return .denied }
        guard let patient else { return .denied }
        return .compartment(patient)
    }

    /// Throws 403 unless some grant covers `action` on `type`.
    public func require(_ type: String, _ action: Action) throws(FHIRError) -> Decision {
        let decision = decide(type, action)
        if decision == .denied {
            throw FHIRError(
                .forbidden,
                "the access token's scopes do not allow \(Self.verb(action)) \(type == "*" ? "resources" : type) "
                    + "(needs a scope like system/\(type).\(action.rawValue) or user/\(type).\(action.rawValue))")
        }
        return decision
    }

    static func verb(_ action: Action) -> String {
        switch action {
        case .create: "creating"
        case .read: "reading"
        case .update: "updating"
        case .delete: "deleting"
        case .search: "searching"
        }
    }
}
