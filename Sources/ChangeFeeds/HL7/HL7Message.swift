import FHIRCore

/// An HL7 v2 message (ER7, the pipe-and-hat encoding): segments of fields; a field's repetitions
/// (`~`), components (`^`) and subcomponents (`&`) are addressed by position, 1-based as in the
/// standard (`MSH-9.2`). Values are kept unescaped; `encoded` escapes them (`\F\`, `\S\`, `\T\`,
/// `\R\`, `\E\`). Segments end in a carriage return.
public struct HL7Message: Sendable, Equatable {
    public struct Segment: Sendable, Equatable {
        public var name: String
        /// Fields 1...n (for MSH, field 1 is the field separator and field 2 the encoding characters).
        public var fields: [HL7Field]

        public init(_ name: String, _ fields: [HL7Field] = []) {
            self.name = name
            self.fields = fields
        }

        /// Field `index` (1-based); empty when absent.
        public subscript(index: Int) -> HL7Field {
            get { index >= 1 && index <= fields.count ? fields[index - 1] : HL7Field() }
            set {
                while fields.count < index { fields.append(HL7Field()) }
                fields[index - 1] = newValue
            }
        }
    }

    public var segments: [Segment]

    public init(segments: [Segment]) { self.segments = segments }

    /// The first segment with this name.
    public func segment(_ name: String) -> Segment? { segments.first { $0.name == name } }

    /// `MSH-9.1^MSH-9.2` (e.g. `SRM^S01`).
    public var type: String {
        let field = segment("MSH")?[9]
        return [field?.component(1) ?? "", field?.component(2) ?? ""].joined(separator: "^")
    }

    public var controlID: String { segment("MSH")?[10].text ?? "" }

    /// The message in ER7 with the standard encoding characters, segments ended by `\r`.
    public var encoded: String {
        segments.map { segment in
            if segment.name == "MSH" {
                let rest = segment.fields.dropFirst(2).map(\.encoded)
                return (["MSH", "^~\\&"] + rest).joined(separator: "|")
            }
            return ([segment.name] + segment.fields.map(\.encoded)).joined(separator: "|")
        }.map { $0 + "\r" }.joined()
    }
}

/// One field: repetitions of components of subcomponents, unescaped.
public struct HL7Field: Sendable, Equatable, ExpressibleByStringLiteral {
    public var repetitions: [[[String]]]

    public init() { repetitions = [[[""]]] }

    /// A field of components (each may hold `&`-free text).
    public init(_ components: [String]) { repetitions = [components.map { [$0] }] }

    public init(stringLiteral value: String) { self.init([value]) }

    public init(repetitions: [[[String]]]) { self.repetitions = repetitions.isEmpty ? [[[""]]] : repetitions }

    /// The first repetition's first component's first subcomponent.
    public var text: String { component(1) }

    public var isEmpty: Bool { repetitions.allSatisfy { $0.allSatisfy { $0.allSatisfy(\.isEmpty) } } }

    /// Component `index` (1-based) of repetition `repetition`, its first subcomponent.
    public func component(_ index: Int, repetition: Int = 1) -> String {
        guard repetition >= 1, repetition <= repetitions.count else { return "" }
        let components = repetitions[repetition - 1]
        guard index >= 1, index <= components.count else { return "" }
        return components[index - 1].first ?? ""
    }

    var encoded: String {
        repetitions.map { components in
            var parts = components.map { $0.map(HL7Field.escape).joined(separator: "&") }
            while parts.count > 1, parts.last == "" { parts.removeLast() }
            return parts.joined(separator: "^")
        }.joined(separator: "~")
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\E\\"
            case "|": out += "\\F\\"
            case "^": out += "\\S\\"
            case "&": out += "\\T\\"
            case "~": out += "\\R\\"
            case "\r", "\n": out += "\\X0D\\"
            default: out.append(character)
            }
        }
        return out
    }

    static func unescape(_ text: Substring) -> String {
        guard text.contains("\\") else { return String(text) }
        var out = ""
        var rest = text[...]
        while let start = rest.firstIndex(of: "\\") {
            out += rest[..<start]
            let after = rest[rest.index(after: start)...]
            guard let end = after.firstIndex(of: "\\") else {
                out += rest[start...]
                return out
            }
            switch after[..<end] {
            case "F": out += "|"
            case "S": out += "^"
            case "T": out += "&"
            case "R": out += "~"
            case "E": out += "\\"
            case "X0D", "X0A": out += "\r"
            default: break  // highlighting and other escapes carry no text
            }
            rest = after[after.index(after: end)...]
        }
        return out + rest
    }
}

/// Why a message could not be read: what was wrong and where (an ERR segment's location).
public struct HL7ParseError: Error, Sendable, Equatable {
    public let message: String
    public let segment: String
    public let field: Int

    public init(_ message: String, segment: String = "MSH", field: Int = 0) {
        self.message = message
        self.segment = segment
        self.field = field
    }
}

extension HL7Message {
    /// Most bytes one message may have.
    public static let maxBytes = 1 << 20

    /// Reads an ER7 message: `MSH` first, with the standard encoding characters `^~\&` and `|`
    /// separators (others are refused: the sandbox speaks the standard set); segments split on
    /// `\r` (a `\n` is taken too); segment names three upper-case letters or digits.
    public static func parse(_ text: String) throws(HL7ParseError) -> HL7Message {
        guard text.utf8.count <= maxBytes else { throw HL7ParseError("the message is larger than \(maxBytes) bytes") }
        let lines = text.split(whereSeparator: { $0 == "\r" || $0 == "\n" }).filter { !$0.allSatisfy(\.isWhitespace) }
        guard let first = lines.first, first.hasPrefix("MSH") else { throw HL7ParseError("the message does not start with MSH") }
        guard first.count >= 8, first.dropFirst(3).prefix(5) == "|^~\\&" else {
            throw HL7ParseError("MSH must declare the encoding characters |^~\\& (MSH-1, MSH-2)", field: 2)
        }
        var segments: [Segment] = []
        for (index, line) in lines.enumerated() {
            let name = String(line.prefix(3))
            guard name.count == 3, name.allSatisfy({ $0.isUppercase || $0.isNumber }), line.count == 3 || line.dropFirst(3).first == "|"
            else {
                throw HL7ParseError("segment \(index + 1) is not a segment ('\(line.prefix(12))')", segment: name)
            }
            var fields = line.dropFirst(4).split(separator: "|", omittingEmptySubsequences: false).map(field)
            if name == "MSH" {
                // MSH-1 is the separator itself and MSH-2 the encoding characters, kept as text.
                fields = [HL7Field("|"), HL7Field(repetitions: [[["^~\\&"]]])] + Array(fields.dropFirst())
            }
            if line.count == 3 { fields = [] }
            segments.append(Segment(name, fields))
        }
        return HL7Message(segments: segments)
    }

    static func field(_ text: Substring) -> HL7Field {
        HL7Field(
            repetitions: text.split(separator: "~", omittingEmptySubsequences: false).map { repetition in
                repetition.split(separator: "^", omittingEmptySubsequences: false).map { component in
                    component.split(separator: "&", omittingEmptySubsequences: false).map(HL7Field.unescape)
                }
            })
    }
}
