import FHIRCore

/// What a FHIR request asks for, decided from its method and path alone.
public enum Route: Sendable, Equatable {
    case capabilities
    case batch
    case systemHistory
    case search(type: String)
    case create(type: String)
    case typeHistory(type: String)
    case read(type: String, id: String)
    case vread(type: String, id: String, version: String)
    case update(type: String, id: String)
    case patch(type: String, id: String)
    case delete(type: String, id: String)
    case instanceHistory(type: String, id: String)
    case operation(name: String, type: String?, id: String?)

    /// Classifies a request; unknown types are 404, bad ids 400, wrong methods 405.
    public static func classify(method: String, segments: [String], supports: (String) -> Bool) throws(FHIRError) -> Route {
        func type(_ name: String) throws(FHIRError) -> String {
            guard supports(name) else {
                throw FHIRError(.unknownType, "resource type '\(name)' is not supported by this server", expression: [name])
            }
            return name
        }
        func id(_ value: String) throws(FHIRError) -> String {
            guard PrimitiveCheck.isValidID(value) else {
                throw FHIRError(.malformedRequest, "'\(value.prefix(80))' is not a valid resource id (1-64 of A-Z a-z 0-9 - .)")
            }
            return value
        }
        func only(_ allowed: String..., route: Route) throws(FHIRError) -> Route {
            guard allowed.contains(method) else {
                throw FHIRError(.methodNotAllowed, "\(method) is not allowed here; use \(allowed.joined(separator: " or "))")
            }
            return route
        }
        switch segments.count {
        case 0:
            return try only("POST", route: .batch)
        case 1:
            if segments[0] == "metadata" { return try only("GET", route: .capabilities) }
            if segments[0] == "_history" { return try only("GET", route: .systemHistory) }
            if segments[0].hasPrefix("$") { return .operation(name: String(segments[0].dropFirst()), type: nil, id: nil) }
            let name = try type(segments[0])
            switch method {
            case "GET": return .search(type: name)
            case "POST": return .create(type: name)
            default: throw FHIRError(.methodNotAllowed, "\(method) is not allowed on a resource type; use GET (search) or POST (create)")
            }
        case 2:
            let name = try type(segments[0])
            switch segments[1] {
            case "_search": return try only("POST", route: .search(type: name))
            case "_history": return try only("GET", route: .typeHistory(type: name))
            case let operation where operation.hasPrefix("$"):
                return .operation(name: String(operation.dropFirst()), type: name, id: nil)
            default:
                let resourceID = try id(segments[1])
                switch method {
                case "GET": return .read(type: name, id: resourceID)
                case "PUT": return .update(type: name, id: resourceID)
                case "PATCH": return .patch(type: name, id: resourceID)
                case "DELETE": return .delete(type: name, id: resourceID)
                default: throw FHIRError(.methodNotAllowed, "\(method) is not allowed on a resource; use GET, PUT, PATCH or DELETE")
                }
            }
        case 3:
            let name = try type(segments[0])
            let resourceID = try id(segments[1])
            if segments[2] == "_history" { return try only("GET", route: .instanceHistory(type: name, id: resourceID)) }
            if segments[2].hasPrefix("$") { return .operation(name: String(segments[2].dropFirst()), type: name, id: resourceID) }
        case 4 where segments[2] == "_history":
            let name = try type(segments[0])
            let resourceID = try id(segments[1])
            return try only("GET", route: .vread(type: name, id: resourceID, version: try id(segments[3])))
        default:
            break
        }
        throw FHIRError(.notFound, "no FHIR interaction at /\(segments.joined(separator: "/"))")
    }
}

extension Route {
    /// The resource type the route addresses, if any.
    public var resourceType: String? {
        switch self {
        case .capabilities, .batch, .systemHistory: return nil
        case .search(let type), .create(let type), .typeHistory(let type): return type
        case .read(let type, _), .vread(let type, _, _), .update(let type, _), .patch(let type, _), .delete(let type, _),
            .instanceHistory(let type, _):
            return type
        case .operation(_, let type, _): return type
        }
    }

    /// The resource an instance-level route addresses (read, vread, update, patch, delete,
    /// instance history, instance operation).
    public var instance: (type: String, id: String)? {
        switch self {
        case .read(let type, let id), .vread(let type, let id, _), .update(let type, let id), .patch(let type, let id),
            .delete(let type, let id), .instanceHistory(let type, let id):
            return (type, id)
        case .operation(_, let type?, let id?): return (type, id)
        default: return nil
        }
    }

    /// Whether the route writes a resource from the request body (create, update, patch, or a
    /// batch/transaction, whose entries are checked one by one).
    public var writes: Bool {
        switch self {
        case .create, .update, .patch, .batch: return true
        default: return false
        }
    }
}
