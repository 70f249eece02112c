import FHIRCore
import Foundation

/// How a profile shows resource ids: the tenant stores the seed's ids (`pat-0001`), and a
/// scheme maps them to the vendor's shape at the edge, reversibly, so the same patient has a
/// stable vendor id and admin tools can relate it back to the seed id.
public enum IDScheme: String, Sendable, CaseIterable {
    /// Ids as stored.
    case identity
    /// Epic-style opaque ids: `e` + base64url of the stored id (`_` written as `.`) + `3`,
    /// e.g. `pat-0001` → `ecGF0LTAwMDE3`. Like Epic's, they may contain `.` and `-`.
    case epic

    /// The vendor id for a stored id.
    public func external(_ id: String) -> String {
        switch self {
        case .identity: return id
        case .epic:
            let encoded = Data(id.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: ".").replacingOccurrences(of: "=", with: "")
            let external = "e" + encoded + "3"
            return external.count <= 64 ? external : id
        }
    }

    /// The stored id for a vendor id, or nil when it is not one of this scheme's ids.
    public func `internal`(_ id: String) -> String? {
        switch self {
        case .identity: return id
        case .epic:
            guard id.count > 2, id.hasPrefix("e"), id.hasSuffix("3") else { return nil }
            var base64 = String(id.dropFirst().dropLast()).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: ".", with: "/")
            while base64.count % 4 != 0 { base64 += "=" }
            guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8),
                !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") })
            else { return nil }
            return external(text) == id ? text : nil
        }
    }
}

/// Applies an `IDScheme` at the edge: vendor ids in paths, search values and request bodies
/// become stored ids; stored ids in response bodies (resource ids, references, `fullUrl`s,
/// links) and `Location` headers become vendor ids.
public struct IDRewriting: FHIRRequestStep {
    public let scheme: IDScheme

    public init(scheme: IDScheme) { self.scheme = scheme }

    /// An id that is not a vendor id stays as it is (and then matches nothing).
    func inward(_ id: String) -> String { scheme.internal(id) ?? "unknown-\(id)" }

    public func rewrite(_ request: inout FHIRRequest) {
        guard scheme != .identity else { return }
        // [Type, id, ...] and [Type, id, _history, vid]
        if request.segments.count >= 2, request.segments[0].first?.isUppercase == true, !request.segments[1].hasPrefix("$"),
            !request.segments[1].hasPrefix("_")
        {
            request.segments[1] = inward(request.segments[1])
        }
        request.query = request.query.map { (name: $0.name, value: mapValue(name: $0.name, value: $0.value, inward: true)) }
        if let body = request.body, !body.isEmpty, let json = try? JSONParser.parse(body) {
            request.body = walk(json, inward: true, topLevel: true).bytes
        }
    }

    public func check(_ request: FHIRRequest) -> FHIRResponse? { nil }

    public func finish(_ response: inout FHIRResponse, for request: FHIRRequest) {
        guard scheme != .identity else { return }
        response.headers = response.headers.map { header in
            guard ["location", "content-location"].contains(header.name.lowercased()) else { return header }
            return (header.name, mapURL(header.value, inward: false))
        }
        guard response.header("Content-Type")?.contains("json") == true, !response.body.isEmpty,
            let json = try? JSONParser.parse(response.body)
        else { return }
        response.body = walk(json, inward: false, topLevel: true).bytes
    }

    // MARK: mapping

    func map(_ id: String, inward: Bool) -> String { inward ? self.inward(id) : scheme.external(id) }

    /// `Type/id`, `Type/id/_history/n`, or an absolute URL ending so.
    func mapReference(_ reference: String, inward: Bool) -> String {
        var parts = reference.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let typeIndex = parts.lastIndex(where: { $0.first?.isUppercase == true && $0.allSatisfy(\.isLetter) }),
            typeIndex + 1 < parts.count, !parts[typeIndex + 1].isEmpty, !parts[typeIndex + 1].hasPrefix("$"),
            !parts[typeIndex + 1].hasPrefix("_"), !parts[typeIndex + 1].hasPrefix("#")
        else { return reference }
        let tail = parts[typeIndex + 1]
        let query = tail.firstIndex(of: "?").map { String(tail[$0...]) } ?? ""
        let id = query.isEmpty ? tail : String(tail[..<tail.firstIndex(of: "?")!])
        parts[typeIndex + 1] = map(id, inward: inward) + query
        return parts.joined(separator: "/")
    }

    /// Search parameter values: `_id` lists and reference values (`Patient/id`, or a bare id for
    /// parameters known to be references to one type).
    func mapValue(name: String, value: String, inward: Bool) -> String {
        let base = String(name.prefix { $0 != ":" && $0 != "." })
        if base == "_id" { return value.split(separator: ",").map { map(String($0), inward: inward) }.joined(separator: ",") }
        if Self.referenceParameters.contains(base) {
            return value.split(separator: ",").map { part in
                let text = String(part)
                return text.contains("/") ? mapReference(text, inward: inward) : map(text, inward: inward)
            }.joined(separator: ",")
        }
        return value
    }

    static let referenceParameters: Set<String> = [
        "patient", "subject", "practitioner", "actor", "location", "schedule", "slot", "organization", "beneficiary", "subscriber",
        "general-practitioner", "encounter", "based-on", "performer", "requester", "participant", "link", "service-provider", "endpoint",
        "partof", "policy-holder", "payor", "asserter", "recorder", "author", "sender", "recipient",
    ]

    func mapURL(_ url: String, inward: Bool) -> String {
        guard let mark = url.firstIndex(of: "?") else { return mapReference(url, inward: inward) }
        let path = mapReference(String(url[..<mark]), inward: inward)
        let query = QueryString.parse(String(url[url.index(after: mark)...]))
            .map { (name: $0.name, value: mapValue(name: $0.name, value: $0.value, inward: inward)) }
        return path + "?" + QueryString.encode(query)
    }

    func walk(_ json: JSON, inward: Bool, topLevel: Bool = false) -> JSON {
        switch json {
        case .object(var object):
            let isResource = object["resourceType"] != nil
            for member in object {
                switch member.key {
                case "id" where isResource:
                    if let id = member.value.stringValue { object[member.key] = .string(map(id, inward: inward)) }
                case "reference", "fullUrl":
                    if let text = member.value.stringValue { object[member.key] = .string(mapReference(text, inward: inward)) }
                case "url" where object["relation"] != nil:
                    if let text = member.value.stringValue { object[member.key] = .string(mapURL(text, inward: inward)) }
                case "location" where object["status"] != nil && object["etag"] != nil:
                    if let text = member.value.stringValue { object[member.key] = .string(mapReference(text, inward: inward)) }
                case "valueString" where inward:
                    // Operation parameters such as appt-id and patient-id name resources.
                    if let text = member.value.stringValue, text.contains("/") {
                        object[member.key] = .string(mapReference(text, inward: inward))
                    }
                default:
                    object[member.key] = walk(member.value, inward: inward)
                }
            }
            return .object(object)
        case .array(let items):
            return .array(items.map { walk($0, inward: inward) })
        default:
            return json
        }
    }
}
