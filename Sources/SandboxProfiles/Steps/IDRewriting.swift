import FHIRCore
import FHIRInteractions

/// How a profile shows resource ids: the tenant stores the seed's ids (`pat-0001`) and a
/// scheme maps them to the vendor's shape at the edge, reversibly, so the same patient has a
/// stable vendor id and admin tools can relate it back to the seed id. A profile names its
/// scheme (`ids: epic`); `Strategies.ids` builds it.
public protocol IDScheme: Sendable {
    /// The vendor id for a stored id of `type` (nil: the type is not known).
    func external(_ id: String, type: String?) -> String
    /// The stored id for a vendor id of `type`, or nil when it is not one of this scheme's ids.
    func `internal`(_ id: String, type: String?) -> String?
    /// Ids as stored (the edge step then does nothing).
    var isIdentity: Bool { get }
}

extension IDScheme {
    public var isIdentity: Bool { false }
}

/// Ids as stored (R4's `generic`).
public struct IdentityIDs: IDScheme {
    public init() {}
    public func external(_ id: String, type: String?) -> String { id }
    public func `internal`(_ id: String, type: String?) -> String? { id }
    public var isIdentity: Bool { true }
}

/// Applies a profile's ids at the edge: vendor ids in paths, search values and request bodies
/// become stored ids; stored ids in response bodies (resource ids, references, `fullUrl`s,
/// links) and `Location` headers become vendor ids.
public struct IDRewriting: FHIRRequestStep {
    public let ids: any IDScheme

    public init(ids: any IDScheme) { self.ids = ids }

    /// An id that is not a vendor id stays as it is (and then matches nothing).
    func inward(_ id: String, type: String?) -> String { ids.internal(id, type: type) ?? "unknown-\(id)" }

    public func rewrite(_ request: inout FHIRRequest) {
        guard !ids.isIdentity else { return }
        // [Type, id, ...] and [Type, id, _history, vid]
        if request.segments.count >= 2, request.segments[0].first?.isUppercase == true, !request.segments[1].hasPrefix("$"),
            !request.segments[1].hasPrefix("_")
        {
            request.segments[1] = inward(request.segments[1], type: request.segments[0])
        }
        let type = request.segments.first
        request.query = request.query.map { (name: $0.name, value: mapValue(name: $0.name, value: $0.value, inward: true, type: type)) }
        if let body = request.body, !body.isEmpty, let json = try? JSONParser.parse(body) {
            request.body = walk(json, inward: true).bytes
        }
    }

    public func check(_ request: FHIRRequest) -> FHIRResponse? { nil }

    public func finish(_ response: inout FHIRResponse, for request: FHIRRequest) {
        guard !ids.isIdentity else { return }
        response.headers = response.headers.map { header in
            guard ["location", "content-location"].contains(header.name.lowercased()) else { return header }
            return (header.name, mapURL(header.value, inward: false))
        }
        guard let json = response.jsonBody() else { return }
        response.setJSONBody(walk(json, inward: false))
    }

    // MARK: mapping

    func map(_ id: String, type: String?, inward: Bool) -> String {
        inward ? self.inward(id, type: type) : ids.external(id, type: type)
    }

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
        parts[typeIndex + 1] = map(id, type: parts[typeIndex], inward: inward) + query
        return parts.joined(separator: "/")
    }

    /// Search parameter values: `_id` lists and reference values (`Patient/id`, or a bare id for
    /// parameters known to be references to one type).
    func mapValue(name: String, value: String, inward: Bool, type: String?) -> String {
        let base = String(name.prefix { $0 != ":" && $0 != "." })
        if base == "_id" {
            return value.split(separator: ",").map { map(String($0), type: type, inward: inward) }.joined(separator: ",")
        }
        if Self.referenceParameters.contains(base) {
            // A bare id names the parameter's usual target (patient → Patient), else the modifier's type.
            let target = name.split(separator: ":").dropFirst().first.map(String.init) ?? Self.usualTargets[base]
            return value.split(separator: ",").map { part in
                let text = String(part)
                return text.contains("/") ? mapReference(text, inward: inward) : map(text, type: target, inward: inward)
            }.joined(separator: ",")
        }
        return value
    }

    /// The type a bare id names for reference parameters with one usual target.
    static let usualTargets = [
        "patient": "Patient", "beneficiary": "Patient", "subscriber": "Patient", "schedule": "Schedule", "slot": "Slot",
        "practitioner": "Practitioner", "location": "Location",
    ]

    static let referenceParameters: Set<String> = [
        "patient", "subject", "practitioner", "actor", "location", "schedule", "slot", "organization", "beneficiary", "subscriber",
        "general-practitioner", "encounter", "based-on", "performer", "requester", "participant", "link", "service-provider", "endpoint",
        "partof", "policy-holder", "payor", "asserter", "recorder", "author", "sender", "recipient",
    ]

    func mapURL(_ url: String, inward: Bool) -> String {
        guard let mark = url.firstIndex(of: "?") else { return mapReference(url, inward: inward) }
        let path = mapReference(String(url[..<mark]), inward: inward)
        let query = QueryString.parse(String(url[url.index(after: mark)...]))
            .map {
                (
                    name: $0.name,
                    value: mapValue(name: $0.name, value: $0.value, inward: inward, type: path.split(separator: "/").last.map(String.init))
                )
            }
        return path + "?" + QueryString.encode(query)
    }

    func walk(_ json: JSON, inward: Bool) -> JSON {
        switch json {
        case .object(var object):
            let isResource = object["resourceType"] != nil
            // In place, member by member (object[key] = would search the members each time).
            for index in object.members.indices {
                let member = object.members[index]
                switch member.key {
                case "id" where isResource:
                    if let id = member.value.stringValue {
                        object.members[index].value = .string(map(id, type: object["resourceType"]?.stringValue, inward: inward))
                    }
                case "reference", "fullUrl":
                    if let text = member.value.stringValue { object.members[index].value = .string(mapReference(text, inward: inward)) }
                case "url" where object["relation"] != nil:
                    if let text = member.value.stringValue { object.members[index].value = .string(mapURL(text, inward: inward)) }
                case "location" where object["status"] != nil && object["etag"] != nil:
                    if let text = member.value.stringValue { object.members[index].value = .string(mapReference(text, inward: inward)) }
                case "value" where inward && object["op"] != nil && object["path"]?.stringValue?.hasSuffix("/reference") == true:
                    // A JSON Patch operation replacing a reference (a reschedule: /slot/0/reference).
                    if let text = member.value.stringValue { object.members[index].value = .string(mapReference(text, inward: inward)) }
                case "valueString" where inward:
                    // Operation parameters such as appt-id and patient-id name resources.
                    if let text = member.value.stringValue, text.contains("/") {
                        object.members[index].value = .string(mapReference(text, inward: inward))
                    }
                case "valueIdentifier" where inward && object["name"] != nil:
                    // An operation parameter naming a resource by its bare id (a vendor $book's
                    // `appointment` and `patient`): an identifier without a system.
                    if case .object(var identifier) = member.value, identifier["system"] == nil,
                        let value = identifier["value"]?.stringValue, let id = ids.internal(value, type: nil)
                    {
                        identifier["value"] = .string(id)
                        object.members[index].value = .object(identifier)
                    }
                default:
                    object.members[index].value = walk(member.value, inward: inward)
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
