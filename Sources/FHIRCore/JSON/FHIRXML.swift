/// FHIR JSON to FHIR XML (R4 §2.6.2), for the few places a profile answers in XML: primitives
/// become `<name value="…"/>`, objects nested elements, arrays repeated elements, `url` on an
/// extension and `id` on an element become attributes, and the resource type is the root
/// element in the FHIR namespace. Element order is the JSON order, which the builders keep in
/// StructureDefinition order.
public enum FHIRXML {
    public static func document(_ resource: JSON) -> [UInt8]? {
        guard case .object(let object) = resource, let type = object["resourceType"]?.stringValue else { return nil }
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<\(type) xmlns=\"http://hl7.org/fhir\">"
        for member in object where member.key != "resourceType" { element(member.key, member.value, into: &out) }
        out += "</\(type)>\n"
        return Array(out.utf8)
    }

    static func element(_ name: String, _ value: JSON, into out: inout String) {
        switch value {
        case .array(let items):
            for item in items { element(name, item, into: &out) }
        case .object(let object):
            if let type = object["resourceType"]?.stringValue {
                // A resource inside a resource (contained, Bundle.entry.resource).
                out += "<\(name)><\(type)>"
                for member in object where member.key != "resourceType" { element(member.key, member.value, into: &out) }
                out += "</\(type)></\(name)>"
                return
            }
            var attributes = ""
            for key in ["id", "url"] {
                if let text = object[key]?.stringValue, key == "id" || name == "extension" || name == "modifierExtension" {
                    attributes += " \(key)=\"\(escape(text))\""
                }
            }
            out += "<\(name)\(attributes)>"
            for member in object {
                if member.key == "id" || (member.key == "url" && (name == "extension" || name == "modifierExtension")) { continue }
                element(member.key, member.value, into: &out)
            }
            out += "</\(name)>"
        case .string(let text): out += "<\(name) value=\"\(escape(text))\"/>"
        case .number(let text): out += "<\(name) value=\"\(text)\"/>"
        case .bool(let flag): out += "<\(name) value=\"\(flag)\"/>"
        case .null: return
        }
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\n": out += "&#10;"
            default: out.append(character)
            }
        }
        return out
    }
}
