/// Lexical checks for FHIR primitive types (R4 datatypes page, "Primitive Types").
public enum PrimitiveCheck {
    static let primitives: Set<String> = [
        "base64Binary", "boolean", "canonical", "code", "date", "dateTime", "decimal", "id", "instant", "integer",
        "markdown", "oid", "positiveInt", "string", "time", "unsignedInt", "uri", "url", "uuid",
    ]

    public static func isPrimitive(_ type: String) -> Bool { primitives.contains(type) }

    /// Whether `value` has the JSON type `type` needs (string, number or boolean). A mismatch
    /// is a structural error (400); a right-typed value with a bad lexical form is not (422).
    public static func hasJSONType(_ value: JSON, for type: String) -> Bool {
        switch (type, value) {
        case ("boolean", .bool): return true
        case ("integer", .number), ("positiveInt", .number), ("unsignedInt", .number), ("decimal", .number): return true
        case ("boolean", _), ("integer", _), ("positiveInt", _), ("unsignedInt", _), ("decimal", _): return false
        case (_, .string): return true
        default: return false
        }
    }

    /// Why `value` is not a valid `type`, or nil when it is.
    public static func problem(_ value: JSON, type: String) -> String? {
        switch type {
        case "boolean":
            if case .bool = value { return nil }
            return "expected a boolean (true or false), not \(describe(value))"
        case "integer", "positiveInt", "unsignedInt":
            guard case .number(let text) = value else { return "expected an integer, not \(describe(value))" }
            guard let number = Int32(text) else { return "'\(text)' is not a 32-bit integer" }
            if type == "positiveInt" && number < 1 { return "expected a positive integer, got \(text)" }
            if type == "unsignedInt" && number < 0 { return "expected a non-negative integer, got \(text)" }
            return nil
        case "decimal":
            if case .number = value { return nil }
            return "expected a number, not \(describe(value))"
        default:
            guard case .string(let text) = value else { return "expected a string, not \(describe(value))" }
            return stringProblem(text, type: type)
        }
    }

    private static func describe(_ value: JSON) -> String {
        switch value {
        case .string(let text): return "the string \"\(text.prefix(40))\""
        case .number(let text): return "the number \(text)"
        case .bool(let flag): return "the boolean \(flag)"
        default: return value.typeName
        }
    }

    static func stringProblem(_ text: String, type: String) -> String? {
        if text.isEmpty { return "empty strings are not allowed" }
        switch type {
        case "string", "markdown":
            if text.utf8.count > 1_048_576 { return "string longer than 1 MB" }
            if text.trimmingSpaces.isEmpty { return "strings must contain non-whitespace content" }
            return nil
        case "code":
            let scalars = Array(text.unicodeScalars)
            if scalars.first!.properties.isWhitespace || scalars.last!.properties.isWhitespace {
                return "'\(text)' is not a valid code (leading or trailing whitespace)"
            }
            for (a, b) in zip(scalars, scalars.dropFirst()) where a.properties.isWhitespace && b.properties.isWhitespace {
                return "'\(text)' is not a valid code (repeated whitespace)"
            }
            return nil
        case "id":
            return isValidID(text) ? nil : "'\(text.prefix(80))' is not a valid id (1-64 of A-Z a-z 0-9 - .)"
        case "uri", "url", "canonical":
            return text.unicodeScalars.contains(where: { $0.properties.isWhitespace }) ? "'\(text)' is not a valid \(type)" : nil
        case "oid":
            return text.hasPrefix("urn:oid:") ? nil : "'\(text)' is not a valid oid (urn:oid:...)"
        case "uuid":
            return text.hasPrefix("urn:uuid:") ? nil : "'\(text)' is not a valid uuid (urn:uuid:...)"
        case "date":
            return FHIRDateTime.parse(text, form: .date) == nil ? "'\(text)' is not a valid date (YYYY, YYYY-MM or YYYY-MM-DD)" : nil
        case "dateTime":
            return FHIRDateTime.parse(text, form: .dateTime) == nil
                ? "'\(text)' is not a valid dateTime (a date, or YYYY-MM-DDThh:mm:ss with a time zone)" : nil
        case "instant":
            return FHIRDateTime.parse(text, form: .instant) == nil
                ? "'\(text)' is not a valid instant (YYYY-MM-DDThh:mm:ss[.sss] with a time zone)" : nil
        case "time":
            return isValidTime(text) ? nil : "'\(text)' is not a valid time (hh:mm:ss)"
        case "base64Binary":
            let valid = text.unicodeScalars.allSatisfy {
                ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "+/= \n\r".unicodeScalars.contains($0)
            }
            return valid ? nil : "not valid base64"
        default:
            return nil
        }
    }

    /// The R4 `id` rule: 1 to 64 characters from A-Z, a-z, 0-9, '-' and '.'.
    public static func isValidID(_ text: String) -> Bool {
        let bytes = text.utf8
        guard (1...64).contains(bytes.count) else { return false }
        return bytes.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x2E
        }
    }

    static func isValidTime(_ text: String) -> Bool {
        var scanner = DigitScanner(Array(text.utf8))
        guard let hour = scanner.digits(2), hour < 24, scanner.take(":"), let minute = scanner.digits(2), minute < 60,
            scanner.take(":"), let second = scanner.digits(2), second < 60
        else { return false }
        if scanner.take(".") {
            guard scanner.digits(1) != nil else { return false }
            while scanner.digits(1) != nil {}
        }
        return scanner.atEnd
    }
}

extension String {
    var trimmingSpaces: Substring {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return Substring(scalars[first...last])
    }
}
