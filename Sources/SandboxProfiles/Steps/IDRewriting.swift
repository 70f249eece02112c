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
    /// Per operation (`Type/$name`), the parameters that name a resource (as the client may
    /// name them: canonical names and the base's aliases) and the type each names.
    public let operationReferences: [String: [String: String]]

    public init(ids: any IDScheme, operationReferences: [String: [String: String]] = [:]) {
        self.ids = ids
        self.operationReferences = operationReferences
    }

    /// The operation parameters of a request that name resources (empty: not an operation).
    func parameterTypes(_ request: FHIRRequest) -> [String: String] {
        guard let type = request.segments.first, let name = request.segments.last, name.hasPrefix("$"),
            request.segments.count <= 3
        else { return [:] }
        return operationReferences["\(type)/\(name)"] ?? [:]
    }

    /// The stored id for a vendor id; one that is not a vendor id stays as it is (the caller
    /// decides what it means: nothing found, or no match).
    func inward(_ id: String, type: String?) -> String { ids.internal(id, type: type) ?? id }

    public func rewrite(_ request: inout FHIRRequest) {
        guard !ids.isIdentity else { return }
        // [Type, id, ...] and [Type, id, _history, vid]
        if request.segments.count >= 2, request.segments[0].first?.isUppercase == true, !request.segments[1].hasPrefix("$"),
            !request.segments[1].hasPrefix("_")
        {
            // Not one of the profile's ids: the engine finds nothing there (a stored id is not
            // reachable under its seed form), once the request's policies are checked.
            if let id = ids.internal(request.segments[1], type: request.segments[0]) {
                request.segments[1] = id
            } else {
                request.unknownID = true
            }
        }
        let type = request.segments.first
        let parameterTypes = parameterTypes(request)
        request.query = request.query.map { parameter in
            // An operation's resource parameters: the operation decides what an unknown id means.
            if let target = parameterTypes[parameter.name] {
                return (name: parameter.name, value: mapParameter(parameter.value, type: target))
            }
            let mapped = mapValue(name: parameter.name, value: parameter.value, inward: true, type: type)
            if mapped.unknown { request.unknownID = true }
            return (name: parameter.name, value: mapped.value)
        }
        if let body = request.body, !body.isEmpty, let json = try? JSONParser.parse(body) {
            var unknown: [String] = []
            request.body = walk(json, inward: true, unknown: &unknown, parameterTypes: parameterTypes).bytes
            request.unknownReferences += unknown
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
        var unknown: [String] = []
        response.setJSONBody(walk(json, inward: false, unknown: &unknown))
    }

    // MARK: mapping

    func map(_ id: String, type: String?, inward: Bool) -> String {
        inward ? self.inward(id, type: type) : ids.external(id, type: type)
    }

    /// `Type/id`, `Type/id/_history/n`, or an absolute URL ending so.
    func mapReference(_ reference: String, inward: Bool) -> String { mapReferenceNoting(reference, inward: inward).reference }

    /// Like `mapReference`; `unknown` when, inward, the id is not one of the profile's (the
    /// reference is then left as it is).
    func mapReferenceNoting(_ reference: String, inward: Bool) -> (reference: String, unknown: Bool) {
        var parts = reference.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let typeIndex = parts.lastIndex(where: { $0.first?.isUppercase == true && $0.allSatisfy(\.isLetter) }),
            typeIndex + 1 < parts.count, !parts[typeIndex + 1].isEmpty, !parts[typeIndex + 1].hasPrefix("$"),
            !parts[typeIndex + 1].hasPrefix("_"), !parts[typeIndex + 1].hasPrefix("#")
        else { return (reference, false) }
        let tail = parts[typeIndex + 1]
        let query = tail.firstIndex(of: "?").map { String(tail[$0...]) } ?? ""
        let id = query.isEmpty ? tail : String(tail[..<tail.firstIndex(of: "?")!])
        if inward {
            guard let stored = ids.internal(id, type: parts[typeIndex]) else { return (reference, true) }
            parts[typeIndex + 1] = stored + query
        } else {
            parts[typeIndex + 1] = ids.external(id, type: parts[typeIndex]) + query
        }
        return (parts.joined(separator: "/"), false)
    }

    /// Search parameter values: `_id` lists and reference values (`Patient/id`, or a bare id for
    /// parameters known to be references to one type). `unknown`: inward, no value of the list
    /// is one of the profile's ids, so the parameter can match nothing.
    func mapValue(name: String, value: String, inward: Bool, type: String?) -> (value: String, unknown: Bool) {
        let base = String(name.prefix { $0 != ":" && $0 != "." })
        var known = false
        func mapped(_ id: String, _ type: String?) -> String {
            guard inward else { return ids.external(id, type: type) }
            if let stored = ids.internal(id, type: type) {
                known = true
                return stored
            }
            return id
        }
        if base == "_id" {
            let result = value.split(separator: ",").map { mapped(String($0), type) }.joined(separator: ",")
            return (result, inward && !known)
        }
        if Self.referenceParameters.contains(base), !name.hasSuffix(":missing"), !name.hasSuffix(":identifier") {
            // A bare id names the parameter's usual target (patient → Patient), else the modifier's type.
            let target = name.split(separator: ":").dropFirst().first.map(String.init) ?? Self.usualTargets[base]
            guard target != nil || value.contains("/") else { return (value, false) }
            let result = value.split(separator: ",").map { part in
                let text = String(part)
                guard text.contains("/") else { return mapped(text, target) }
                let (reference, unknown) = mapReferenceNoting(text, inward: inward)
                if !unknown { known = true }
                return reference
            }.joined(separator: ",")
            return (result, inward && !known)
        }
        return (value, false)
    }

    /// The type a bare id names for reference parameters with one usual target.
    static let usualTargets = [
        "patient": "Patient", "beneficiary": "Patient", "subscriber": "Patient", "schedule": "Schedule", "slot": "Slot",
        "practitioner": "Practitioner", "location": "Location", "-location": "Location",
    ]

    static let referenceParameters: Set<String> = [
        "patient", "subject", "practitioner", "actor", "location", "schedule", "slot", "organization", "beneficiary", "subscriber",
        "general-practitioner", "encounter", "based-on", "performer", "requester", "participant", "link", "service-provider", "endpoint",
        "partof", "policy-holder", "payor", "asserter", "recorder", "author", "sender", "recipient", "-location",
    ]

    func mapURL(_ url: String, inward: Bool) -> String {
        guard let mark = url.firstIndex(of: "?") else { return mapReference(url, inward: inward) }
        let path = mapReference(String(url[..<mark]), inward: inward)
        let query = QueryString.parse(String(url[url.index(after: mark)...]))
            .map {
                (
                    name: $0.name,
                    value: mapValue(name: $0.name, value: $0.value, inward: inward, type: path.split(separator: "/").last.map(String.init))
                        .value
                )
            }
        return path + "?" + QueryString.encode(query)
    }

    /// An operation parameter's value naming a `type` resource, inward: a bare id, `Type/id`
    /// (or an absolute URL ending so) or an identifier token `|id`. One that is not the
    /// profile's id stays as sent.
    func mapParameter(_ value: String, type: String) -> String {
        if value.contains("/") { return mapReference(value, inward: true) }
        if let bar = value.lastIndex(of: "|") {
            let id = String(value[value.index(after: bar)...])
            return String(value[...bar]) + inward(id, type: type)
        }
        return inward(value, type: type)
    }

    /// One `Parameters.parameter` entry naming a `type` resource: its `valueString`, `valueUri`,
    /// `valueId`, `valueReference` or system-less `valueIdentifier` (a vendor $book's
    /// `appointment` and `patient`), mapped inward.
    func mapParameterEntry(_ object: JSONObject, type: String) -> JSONObject {
        var object = object
        for index in object.members.indices {
            switch (object.members[index].key, object.members[index].value) {
            case ("valueString", .string(let text)), ("valueUri", .string(let text)), ("valueId", .string(let text)):
                object.members[index].value = .string(mapParameter(text, type: type))
            case ("valueReference", .object(var reference)):
                if let text = reference["reference"]?.stringValue { reference["reference"] = .string(mapParameter(text, type: type)) }
                object.members[index].value = .object(reference)
            case ("valueIdentifier", .object(var identifier)) where identifier["system"] == nil:
                if let text = identifier["value"]?.stringValue { identifier["value"] = .string(inward(text, type: type)) }
                object.members[index].value = .object(identifier)
            default: break
            }
        }
        return object
    }

    /// Maps the ids in a body. Inward, relative references (`Type/id`) whose id is not one of
    /// the profile's are left as they are and collected in `unknown` (the request is refused);
    /// `parameterTypes` names an operation's resource parameters (their values are mapped by
    /// type, and an unknown one is left for the operation to judge).
    func walk(_ json: JSON, inward: Bool, unknown: inout [String], parameterTypes: [String: String] = [:]) -> JSON {
        func reference(_ text: String) -> String {
            let (mapped, isUnknown) = mapReferenceNoting(text, inward: inward)
            if isUnknown, !text.contains("://") { unknown.append(text) }
            return mapped
        }
        switch json {
        case .object(var object):
            if inward, let name = object["name"]?.stringValue, let type = parameterTypes[name], object["resource"] == nil {
                return .object(mapParameterEntry(object, type: type))
            }
            let isResource = object["resourceType"] != nil
            // In place, member by member (object[key] = would search the members each time).
            for index in object.members.indices {
                let member = object.members[index]
                switch member.key {
                case "id" where isResource:
                    if let id = member.value.stringValue {
                        object.members[index].value = .string(map(id, type: object["resourceType"]?.stringValue, inward: inward))
                    }
                case "reference":
                    if let text = member.value.stringValue { object.members[index].value = .string(reference(text)) }
                case "fullUrl":
                    if let text = member.value.stringValue { object.members[index].value = .string(mapReference(text, inward: inward)) }
                case "url" where object["relation"] != nil:
                    if let text = member.value.stringValue { object.members[index].value = .string(mapURL(text, inward: inward)) }
                case "url" where inward && object["method"] != nil:
                    // A batch or transaction entry's request.url (Type/id, Type?criteria).
                    if let text = member.value.stringValue { object.members[index].value = .string(mapURL(text, inward: inward)) }
                case "location" where object["status"] != nil && object["etag"] != nil:
                    if let text = member.value.stringValue { object.members[index].value = .string(mapReference(text, inward: inward)) }
                case "value" where inward && object["op"] != nil && object["path"]?.stringValue?.hasSuffix("/reference") == true:
                    // A JSON Patch operation replacing a reference (a reschedule: /slot/0/reference).
                    if let text = member.value.stringValue { object.members[index].value = .string(reference(text)) }
                case "valueString" where inward && parameterTypes.isEmpty:
                    // Outside a known operation, a parameter's `Type/id` names a resource.
                    if let text = member.value.stringValue, text.contains("/") {
                        object.members[index].value = .string(mapReference(text, inward: inward))
                    }
                default:
                    object.members[index].value = walk(member.value, inward: inward, unknown: &unknown, parameterTypes: parameterTypes)
                }
            }
            return .object(object)
        case .array(let items):
            return .array(items.map { walk($0, inward: inward, unknown: &unknown, parameterTypes: parameterTypes) })
        default:
            return json
        }
    }
}
