import FHIRSearch
import SandboxAuth

extension Profile {
    /// The resource types this profile serves on its main base (what its scopes can name).
    public var servedTypes: [String] { SearchRegistry.r4.resourceTypes.filter { !excludedTypes.contains($0) } }

    /// `scopes` as this profile accepts them: unchanged where it grants wildcards; otherwise each
    /// wildcard resource scope (`system/*.read`, `user/*.*`, `patient/*.cruds`) spelled out per
    /// served type in the profile's syntax (v1 `read`/`write`, v2 letters), and other scopes kept.
    /// What `fhir-sandbox token` asks for when no `--scope` is given.
    public func spelledOut(_ scopes: [String]) -> [String] {
        guard !auth.wildcardScopes else { return scopes }
        var result: [String] = []
        for scope in scopes {
            let parts = scope.split(separator: "/", maxSplits: 1)
            guard parts.count == 2, parts[1].hasPrefix("*."), ["system", "user", "patient"].contains(String(parts[0])) else {
                if !result.contains(scope) { result.append(scope) }
                continue
            }
            let level = String(parts[0])
            let actions = String(parts[1].dropFirst(2))
            let v1: [String] =
                switch actions {
                case "*": ["read", "write"]
                case "read", "write": [actions]
                default: []
                }
            let v2 = actions == "*" ? "cruds" : actions.allSatisfy({ "cruds".contains($0) }) ? actions : ""
            for type in servedTypes {
                let names =
                    (auth.scopeSyntax != .v2 ? v1.map { "\(level)/\(type).\($0)" } : [])
                    + (auth.scopeSyntax != .v1 && !v2.isEmpty ? ["\(level)/\(type).\(v2)"] : [])
                for name in names where !result.contains(name) { result.append(name) }
            }
        }
        return result
    }
}
