/// Parses and checks `Reference.reference` values.
public struct ParsedReference: Sendable, Equatable {
    public var type: String
    public var id: String
    public var version: String?
}

public enum ReferenceSyntax {
    /// Why `reference` is not a usable literal reference, or nil when it is.
    /// Accepts `Type/id`, `Type/id/_history/v`, absolute URLs, `#contained` and `urn:uuid:`/`urn:oid:`.
    public static func problem(_ reference: String) -> String? {
        if reference.hasPrefix("#") || reference.hasPrefix("urn:uuid:") || reference.hasPrefix("urn:oid:") { return nil }
        if reference.hasPrefix("http://") || reference.hasPrefix("https://") { return nil }
        if parseRelative(reference) == nil {
            return "'\(reference)' is not a valid reference (expected Type/id, an absolute URL, #id or urn:uuid:...)"
        }
        return nil
    }

    /// Parses `Type/id` or `Type/id/_history/v`, also at the end of an absolute URL.
    public static func parse(_ reference: String) -> ParsedReference? {
        if let relative = parseRelative(reference) { return relative }
        guard reference.hasPrefix("http://") || reference.hasPrefix("https://") else { return nil }
        let parts = reference.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count >= 4, parts[parts.count - 2] == "_history" {
            return parseRelative(parts.suffix(4).joined(separator: "/"))
        }
        guard parts.count >= 2 else { return nil }
        return parseRelative(parts.suffix(2).joined(separator: "/"))
    }

    static func parseRelative(_ reference: String) -> ParsedReference? {
        let parts = reference.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 || (parts.count == 4 && parts[2] == "_history") else { return nil }
        let type = String(parts[0])
        guard let first = type.unicodeScalars.first, ("A"..."Z").contains(first),
            type.unicodeScalars.allSatisfy({ $0.isASCII && $0.properties.isAlphabetic })
        else { return nil }
        let id = String(parts[1])
        guard PrimitiveCheck.isValidID(id) else { return nil }
        if parts.count == 4 {
            let version = String(parts[3])
            guard PrimitiveCheck.isValidID(version) else { return nil }
            return ParsedReference(type: type, id: id, version: version)
        }
        return ParsedReference(type: type, id: id, version: nil)
    }
}
