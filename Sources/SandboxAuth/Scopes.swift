import FHIRCore

/// SMART scopes: v1 (`patient/Observation.read`, `system/*.write`, `user/*.*`) and v2
/// (`patient/Observation.rs`, `system/*.cruds`), read into `Access.Grant`s, plus the
/// non-resource scopes (`launch/patient`, `offline_access`, `openid`, ...).
public enum ScopeSyntax: String, Sendable, CaseIterable {
    case v1, v2, both

    func accepts(_ version: Int) -> Bool { self == .both || (self == .v1 ? version == 1 : version == 2) }
}

public enum Scopes {
    /// Scopes that name no resource permission but are understood.
    public static let contextual: Set<String> = [
        "openid", "fhirUser", "profile", "launch", "launch/patient", "launch/encounter", "offline_access", "online_access",
    ]

    /// The grant a resource scope stands for and the SMART version whose syntax it uses, or
    /// nil when the text is not a resource scope.
    public static func grant(_ scope: String) -> (grant: Access.Grant, version: Int)? {
        let parts = scope.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let level = Access.Level(rawValue: String(parts[0])) else { return nil }
        let rest = parts[1]
        guard let dot = rest.lastIndex(of: ".") else { return nil }
        let type = String(rest[..<dot])
        let permission = String(rest[rest.index(after: dot)...])
        guard type == "*" || (type.first?.isUppercase == true && type.allSatisfy { $0.isLetter }) else { return nil }
        switch permission {
        case "read": return (Access.Grant(level: level, type: type, actions: [.read, .search]), 1)
        case "write": return (Access.Grant(level: level, type: type, actions: [.create, .update, .delete]), 1)
        case "*": return (Access.Grant(level: level, type: type, actions: Set(Access.Action.allCases)), 1)
        default:
            // v2: a non-empty subsequence of "cruds", in that order.
            let order = Access.Action.allCases.map(\.rawValue)
            var actions: [Access.Action] = []
            for character in permission {
                guard let action = Access.Action(rawValue: character) else { return nil }
                if let last = actions.last, order.firstIndex(of: last.rawValue)! >= order.firstIndex(of: character)! { return nil }
                actions.append(action)
            }
            return actions.isEmpty ? nil : (Access.Grant(level: level, type: type, actions: Set(actions)), 2)
        }
    }

    /// Whether `requested` is covered by `allowed` (same level, same or wildcard type, subset of actions).
    static func covers(_ allowed: Access.Grant, _ requested: Access.Grant) -> Bool {
        allowed.level == requested.level && (allowed.type == "*" || allowed.type == requested.type)
            && requested.actions.isSubset(of: allowed.actions)
    }

    /// The scopes of `requested` that a client registered for `allowed` is granted, in request
    /// order. Unknown, malformed, unregistered or wrong-syntax scopes are dropped and named in
    /// `dropped`, the way EHRs silently narrow a request.
    public static func narrow(
        _ requested: [String], allowed: [String], syntax: ScopeSyntax, services: Set<String> = []
    ) -> (granted: [String], dropped: [String]) {
        let allowedGrants = allowed.compactMap { grant($0)?.grant }
        var granted: [String] = []
        var dropped: [String] = []
        for scope in requested where !granted.contains(scope) {
            if let (requestedGrant, version) = grant(scope) {
                if syntax.accepts(version), allowedGrants.contains(where: { covers($0, requestedGrant) }) {
                    granted.append(scope)
                } else {
                    dropped.append(scope)
                }
            } else if contextual.contains(scope) || services.contains(scope), allowed.contains(scope) {
                granted.append(scope)
            } else {
                dropped.append(scope)
            }
        }
        return (granted, dropped)
    }

    /// The resource grants of a granted scope list.
    public static func grants(_ scopes: [String]) -> [Access.Grant] { scopes.compactMap { grant($0)?.grant } }

    public static func split(_ text: String?) -> [String] {
        (text ?? "").split(whereSeparator: { $0 == " " || $0 == "+" }).map(String.init)
    }
}
