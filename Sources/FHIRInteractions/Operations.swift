import FHIRCore
import FHIRStore

/// A FHIR operation (`$find`, `$hold`, `$book`, ...) the service routes to by name and type.
public protocol OperationHandler: Sendable {
    /// The operation's name without `$`.
    var name: String { get }
    /// The resource type it is defined on (type and/or instance level).
    var type: String { get }
    /// Canonical URL of its OperationDefinition, listed in the CapabilityStatement.
    var definition: String { get }
    /// Whether it may be invoked with GET (operations without side effects only).
    var allowsGet: Bool { get }
    /// What an access token must allow for a call: the types the operation touches and how.
    var access: [(type: String, action: Access.Action)] { get }
    /// The parameters that name a resource (canonical name → its type): a profile that shows
    /// other ids maps their values (a bare id or `Type/id`) the way it maps references.
    var references: [String: String] { get }
    func invoke(_ invocation: OperationInvocation, service: FHIRService) throws(FHIRError) -> FHIRResponse
}

extension OperationHandler {
    /// By default an operation reads its own type (GET-able) or writes it (POST only).
    public var access: [(type: String, action: Access.Action)] { allowsGet ? [(type, .read)] : [(type, .update)] }
    public var references: [String: String] { [:] }
}

/// An operation call: the instance id (instance level), its parameters and the request.
public struct OperationInvocation: Sendable {
    public let id: String?
    public let parameters: OperationParameters
    public let request: FHIRRequest

    /// The patient whose compartment confines this call's access to `type` (a patient-level
    /// token), or nil when the call is not confined. Operations obey the same compartment rules
    /// as read and search: results outside it are left out, writes outside it refused.
    public func compartment(_ type: String, _ action: Access.Action) -> String? {
        guard case .compartment(let patient)? = request.access?.decide(type, action) else { return nil }
        return patient
    }
}

/// Operation input, from the query string (GET, or POST with a form body) or a `Parameters`
/// resource. Values keep their order: repeated parameters are preferences in order.
public struct OperationParameters: Sendable {
    public enum Value: Sendable {
        case text(String)
        case resource(JSONObject)
    }

    public var values: [(name: String, value: Value)] = []
    /// How the client names parameters: canonical → the alias it sent, or the vendor's
    /// preferred alias when it sent none.
    public var spellings: [String: String] = [:]
    /// Parameters the profile does not take for this operation, dropped unread (`restrict`):
    /// how each was named and the value sent, for the note the answer carries.
    public var ignored: [(name: String, value: String)] = []

    /// A vendor's name for an operation parameter.
    public struct Alias: Sendable, Equatable {
        public var alias: String
        public var canonical: String

        public init(_ alias: String, _ canonical: String) {
            self.alias = alias
            self.canonical = canonical
        }
    }

    public init(values: [(name: String, value: Value)] = []) { self.values = values }

    /// Renames vendor aliases (`startTime` → `start`) to the operation's canonical names,
    /// remembering how the client spelled them for messages (the first alias listed names a
    /// parameter the client did not send).
    public mutating func rename(_ aliases: [Alias]) {
        guard !aliases.isEmpty else { return }
        var sent: [String: String] = [:]
        values = values.map { entry in
            guard let canonical = aliases.first(where: { $0.alias == entry.name })?.canonical else {
                sent[entry.name] = sent[entry.name] ?? entry.name
                return entry
            }
            sent[canonical] = sent[canonical] ?? entry.name
            return (canonical, entry.value)
        }
        for alias in aliases where spellings[alias.canonical] == nil {
            spellings[alias.canonical] = sent[alias.canonical] ?? alias.alias
        }
    }

    /// Keeps only the parameters a vendor documents for the operation (`listed`: its aliases,
    /// after `rename`, and canonical names it takes as they are); `_`-prefixed options stay.
    /// The rest are dropped into `ignored`, so they are never acted on.
    public mutating func restrict(to listed: Set<String>) {
        values = values.filter { entry in
            if entry.name.hasPrefix("_") || listed.contains(entry.name) { return true }
            let shown: String
            switch entry.value {
            case .text(let text): shown = text
            case .resource(let resource): shown = resource["resourceType"]?.stringValue ?? "resource"
            }
            ignored.append((spelling(of: entry.name), shown))
            return false
        }
    }

    /// The notes that say which parameters were ignored, in the profile's dialect
    /// (`optionalParameterInvalid`).
    public func ignoredNotes(_ dialect: ErrorDialect) -> [FHIRError.Issue] {
        ignored.compactMap { entry in
            dialect.note(
                .init(
                    severity: "warning", code: "not-supported",
                    message: "Optional \(entry.name) invalid: \(entry.value) (not a parameter of this operation here; ignored)",
                    expression: [entry.name]), kind: "optionalParameterInvalid")
        }
    }

    /// How the client named `canonical` (its alias, or the canonical name).
    public func spelling(of canonical: String) -> String { spellings[canonical] ?? canonical }

    public func strings(_ name: String) -> [String] {
        values.compactMap { $0.name == name ? ($0.value.text) : nil }
    }

    public func string(_ name: String) -> String? { strings(name).first }

    public func resources(_ name: String) -> [JSONObject] {
        values.compactMap { entry in
            guard entry.name == name, case .resource(let resource) = entry.value else { return nil }
            return resource
        }
    }

    /// Reads a `Parameters` resource; primitive values of any `value[x]` become text.
    public static func from(parameters resource: JSONObject) throws(FHIRError) -> OperationParameters {
        var result = OperationParameters()
        for (index, parameter) in (resource["parameter"]?.arrayValue ?? []).enumerated() {
            guard let name = parameter["name"]?.stringValue else {
                throw FHIRError(.malformedRequest, "parameter \(index) has no name", expression: ["Parameters.parameter[\(index)]"])
            }
            if let embedded = parameter["resource"]?.objectValue {
                result.values.append((name, .resource(embedded)))
                continue
            }
            guard let object = parameter.objectValue,
                let member = object.members.first(where: { $0.key.hasPrefix("value") })
            else {
                throw FHIRError(.malformedRequest, "parameter '\(name)' has no value", expression: ["Parameters.parameter[\(index)]"])
            }
            switch member.value {
            case .string(let text): result.values.append((name, .text(text)))
            case .number(let text): result.values.append((name, .text(text)))
            case .bool(let flag): result.values.append((name, .text(flag ? "true" : "false")))
            case .object(let value):
                // Reference, Coding, Identifier or CodeableConcept: the reference, or the
                // (first coding's) system|code form, or the concept's text.
                let coding = value["coding"]?.arrayValue?.first?.objectValue
                if let reference = value["reference"]?.stringValue {
                    result.values.append((name, .text(reference)))
                } else if let coding, let code = coding["code"]?.stringValue {
                    let system = coding["system"]?.stringValue
                    result.values.append((name, .text(system.map { "\($0)|\(code)" } ?? code)))
                } else if coding == nil, value["code"] == nil, value["value"] == nil, let text = value["text"]?.stringValue {
                    result.values.append((name, .text(text)))
                } else if let code = value["code"]?.stringValue ?? value["value"]?.stringValue {
                    let system = value["system"]?.stringValue
                    result.values.append((name, .text(system.map { "\($0)|\(code)" } ?? code)))
                } else {
                    throw FHIRError(
                        .malformedRequest, "parameter '\(name)' has an unsupported value", expression: ["Parameters.parameter[\(index)]"])
                }
            default:
                throw FHIRError(
                    .malformedRequest, "parameter '\(name)' has an unsupported value", expression: ["Parameters.parameter[\(index)]"])
            }
        }
        return result
    }
}

extension OperationParameters.Value {
    public var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }
}

/// Writes inside one store transaction, through the same paths (validation, hooks, versions)
/// as the REST interactions; for operations that change several resources atomically.
public struct FHIRWriter {
    let service: FHIRService
    let tx: StoreTransaction
    /// The caller's access: every write is checked against its scopes and compartment.
    let access: Access?

    /// The underlying store transaction, for reads hooks share (e.g. "is this patient new").
    public var transaction: StoreTransaction { tx }
    /// The sandbox clock's now.
    public var now: Int64 { service.clock.now() }

    /// The current live version of a resource, or nil.
    public func current(_ type: String, _ id: String) throws(FHIRError) -> (resource: JSONObject, version: Int)? {
        guard let stored = try tx.current(type, id), !stored.deleted, let body = stored.body,
            let object = (try? JSONParser.parse(body))?.objectValue
        else { return nil }
        return (object, stored.version)
    }

    /// Creates (id nil: server-assigned) or updates a resource; returns what was stored.
    @discardableResult
    public func put(_ type: String, id: String?, _ resource: JSONObject) throws(FHIRError) -> StoredResource {
        var object = resource
        object["resourceType"] = .string(type)
        try service.validate(.object(object))
        if let access {
            let exists = try id.map { id throws(FHIRError) in try tx.current(type, id).map { !$0.deleted } ?? false } ?? false
            let decision = try access.require(type, exists ? .update : .create)
            try FHIRService.checkWrite(object, type: type, id: id, decision: decision)
        }
        if let id {
            object.set("id", .string(id), after: "resourceType")
            return try service.updateCore(tx, type: type, id: id, resource: object, ifMatch: nil).stored
        }
        return try service.createCore(tx, type: type, resource: object, ifNoneExist: nil, id: nil, method: "POST").stored
    }
}

extension FHIRService {
    /// Runs `body` in one store transaction with a writer: all its writes land, or none.
    /// With `access` (the caller's), every write is checked against its scopes and patient
    /// compartment, as a REST write would be.
    public func write<T: Sendable>(as access: Access? = nil, _ body: (FHIRWriter) throws(FHIRError) -> T) throws(FHIRError) -> T {
        try store.write { tx throws(FHIRError) in try body(FHIRWriter(service: self, tx: tx, access: access)) }
    }

    /// A search inside the service's store, for operations (result keys in order).
    public func read<T: Sendable>(_ body: (StoreReader) throws(FHIRError) -> T) throws(FHIRError) -> T {
        try store.read(body)
    }

    func operation(_ request: FHIRRequest, name: String, type: String?, id: String?) throws(FHIRError) -> FHIRResponse {
        guard let type, let handler = operations["\(type)/$\(name)"] else {
            let scope = type.map { "\($0)/" } ?? ""
            throw FHIRError(.notFound, "operation \(scope)$\(name) is not supported by this server")
        }
        guard request.method == "POST" || (request.method == "GET" && handler.allowsGet) else {
            throw FHIRError(.methodNotAllowed, "$\(name) must be invoked with POST\(handler.allowsGet ? " or GET" : "")")
        }
        if let access = request.access {
            for (type, action) in handler.access { _ = try access.require(type, action) }
        }
        var parameters = OperationParameters(
            values: request.query.filter { !$0.name.hasPrefix("_format") }.map { ($0.name, .text($0.value)) })
        if request.method == "POST", let body = request.body, !body.isEmpty {
            let media = request.headers.contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: " ").lowercased() }
            if media == "application/x-www-form-urlencoded" {
                parameters.values += QueryString.parse(String(decoding: body, as: UTF8.self)).map { ($0.name, .text($0.value)) }
            } else {
                let json: JSON
                do {
                    json = try JSONParser.parse(body)
                } catch {
                    throw FHIRError(.invalidJSON, "the body is not valid JSON: \(error.description)")
                }
                try validate(json)
                guard case .object(let object) = json else { throw FHIRError(.malformedRequest, "the body must be a resource") }
                if object["resourceType"]?.stringValue == "Parameters" {
                    parameters.values += try OperationParameters.from(parameters: object).values
                } else {
                    // A bare resource stands for the operation's main resource parameter.
                    parameters.values.append(("resource", .resource(object)))
                }
            }
        }
        let aliases = settings.operationParameters["\(type)/$\(name)"] ?? []
        parameters.rename(aliases)
        if settings.onlyListedOperationParameters {
            parameters.restrict(to: Set(aliases.map(\.canonical)))
        }
        return try handler.invoke(OperationInvocation(id: id, parameters: parameters, request: request), service: self)
    }

    /// A searchset Bundle of stored or proposed resources, with an optional outcome entry.
    public func searchset(_ resources: [JSONObject], baseURL: String, outcome: [FHIRError.Issue] = []) -> [UInt8] {
        var bundle = BundleBuilder(type: "searchset", id: random.uuid(), timestamp: InstantFormat.iso(clock.now()))
        bundle.total = resources.count
        for resource in resources {
            let type = resource["resourceType"]?.stringValue ?? ""
            let id = resource["id"]?.stringValue ?? ""
            bundle.entries.append(.init(fullURL: "\(baseURL)/\(type)/\(id)", resource: JSON.object(resource).bytes, searchMode: "match"))
        }
        if !outcome.isEmpty {
            bundle.entries.append(.init(resource: OperationOutcome.make(outcome).bytes, searchMode: "outcome"))
        }
        return bundle.bytes()
    }
}

extension FHIRService {
    /// A request the server makes of its own engine (a change feed reading a slot, an interface
    /// engine's booking): answered without edge steps; the status and the JSON body.
    public func call(
        _ method: String, _ segments: [String], query: [(name: String, value: String)] = [], body: JSON? = nil
    ) -> (status: Int, body: JSON?) {
        var headers = FHIRRequest.Headers()
        if body != nil { headers.contentType = "application/fhir+json" }
        headers.prefer = Prefer(returnPreference: .representation)
        var response = handle(
            FHIRRequest(method: method, segments: segments, query: query, headers: headers, body: body?.bytes, baseURL: "urn:internal"))
        return (response.status, response.jsonBody())
    }
}
