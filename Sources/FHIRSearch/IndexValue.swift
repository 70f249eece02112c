import FHIRCore
import Foundation

/// One value a resource contributes to a search parameter's index.
public enum IndexValue: Sendable, Equatable {
    /// `normalized` is case- and accent-folded for default and `:contains` matching; `exact`
    /// is the original text for `:exact`.
    case string(normalized: String, exact: String)
    /// `system` is "" when the value has none.
    case token(system: String, code: String)
    /// Half-open range of epoch milliseconds; open ends are `Int64.min` / `Int64.max`.
    case date(lo: Int64, hi: Int64)
    case reference(type: String, id: String)
    case number(Double)
    case quantity(value: Double, system: String, code: String)
    case uri(String)
}

/// An index row: parameter name and value.
public struct IndexEntry: Sendable, Equatable {
    public let parameter: String
    public let value: IndexValue

    public init(_ parameter: String, _ value: IndexValue) {
        self.parameter = parameter
        self.value = value
    }
}

/// Case and accent folding for string search: "Zoë O'Brien-Núñez" → "zoe o'brien-nunez".
public enum StringFolding {
    public static func fold(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text.lowercased() }
        var result = String.UnicodeScalarView()
        for scalar in text.decomposedStringWithCanonicalMapping.unicodeScalars {
            // Drop combining marks (accents) left behind by canonical decomposition.
            switch scalar.value {
            case 0x0300...0x036F, 0x1AB0...0x1AFF, 0x1DC0...0x1DFF, 0x20D0...0x20FF, 0xFE20...0xFE2F: continue
            default: break
            }
            switch scalar {
            case "ß": result.append(contentsOf: "ss".unicodeScalars)
            case "ø", "Ø": result.append("o")
            case "æ", "Æ": result.append(contentsOf: "ae".unicodeScalars)
            case "ł", "Ł": result.append("l")
            case "đ", "Đ": result.append("d")
            case "\u{2019}", "\u{2018}": result.append("'")
            default: result.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return String(result)
    }
}
