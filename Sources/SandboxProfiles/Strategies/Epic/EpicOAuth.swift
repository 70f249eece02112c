import FHIRCore
import SandboxAuth

/// Epic OAuth wording (vendor-quirks §1.2): token-endpoint errors carry `error_description: null`
/// (the authorize redirect keeps RFC 6749's description), and granted scopes are written as
/// Epic's API names.
enum EpicOAuth {
    static let dialect = OAuthDialect(
        errorDetail: { error, endpoint, _ in
            ("error_description", endpoint == .token ? .null : .string(error.description))
        },
        scopeText: scopeNames)

    /// Epic's way of writing a grant in token responses: API names per resource type
    /// (`system/Patient.rs` → `Patient.read Patient.search`); other scopes as they are.
    static func scopeNames(_ scopes: [String]) -> String {
        let words: [(Access.Action, String)] = [
            (.read, "read"), (.search, "search"), (.create, "create"), (.update, "update"), (.delete, "delete"),
        ]
        var names: [String] = []
        for scope in scopes {
            guard let grant = Scopes.grant(scope)?.grant else {
                names.append(scope)
                continue
            }
            for (action, word) in words where grant.actions.contains(action) && !names.contains("\(grant.type).\(word)") {
                names.append("\(grant.type).\(word)")
            }
        }
        return names.joined(separator: " ")
    }
}
