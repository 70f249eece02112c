import FHIRCore
import FHIRSearch

/// Builds the CapabilityStatement from the registry of types, interactions and search
/// parameters — never by hand — so `/metadata` lists exactly what the server answers.
public struct CapabilityStatementBuilder: Sendable {
    /// Type-level and instance-level interactions every served type supports.
    public static let typeInteractions = [
        "read", "vread", "update", "patch", "delete", "history-instance", "history-type", "create", "search-type",
    ]
    /// Whole-system interactions.
    public static let systemInteractions = ["transaction", "batch", "history-system"]

    public let registry: SearchRegistry
    public let softwareName: String
    public let softwareVersion: String
    /// Types whose interactions differ from `typeInteractions` (provider-served types).
    public let interactionsByType: [String: [String]]
    /// The whole-system interactions listed (`systemInteractions` unless a profile says fewer).
    public var system: [String] = Self.systemInteractions
    /// Operations by type: (name, OperationDefinition canonical).
    public let operationsByType: [String: [(name: String, definition: String)]]
    /// OAuth endpoints for `rest.security` (the SMART `oauth-uris` extension), as paths on the
    /// server's origin keyed by extension name (`token`, `authorize`, ...); nil: no security.
    public var oauth: (fhirBase: String, uris: [(name: String, path: String)])?

    public init(
        registry: SearchRegistry, softwareName: String = "fhir-sandbox", softwareVersion: String,
        interactionsByType: [String: [String]] = [:], operations: [any OperationHandler] = []
    ) {
        self.operationsByType = Dictionary(grouping: operations, by: \.type).mapValues { $0.map { ($0.name, $0.definition) } }
        self.registry = registry
        self.softwareName = softwareName
        self.softwareVersion = softwareVersion
        self.interactionsByType = interactionsByType
    }

    public func statement(baseURL: String, now: Int64) -> JSON {
        var rest = JSONObject()
        rest["mode"] = .string("server")
        if let oauth, baseURL.hasSuffix(oauth.fhirBase) {
            let origin = String(baseURL.dropLast(oauth.fhirBase.count))
            let uris = oauth.uris.map { uri in
                JSON.object(JSONObject(["url": .string(uri.name), "valueUri": .string(origin + uri.path)]))
            }
            rest["security"] = .object(
                JSONObject([
                    "extension": .array([
                        .object(
                            JSONObject([
                                "url": .string("http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"),
                                "extension": .array(uris),
                            ]))
                    ]),
                    "service": .array([
                        .object(
                            JSONObject([
                                "coding": .array([
                                    .object(
                                        JSONObject([
                                            "system": .string("http://terminology.hl7.org/CodeSystem/restful-security-service"),
                                            "code": .string("SMART-on-FHIR"),
                                        ]))
                                ])
                            ]))
                    ]),
                    "description": .string("SMART on FHIR: OAuth 2.0 bearer tokens (see .well-known/smart-configuration)"),
                ]))
        }
        // After security: FHIR XML needs StructureDefinition order (mode, security, resource, interaction).
        rest["resource"] = .array(registry.resourceTypes.map { resource($0) })
        if !system.isEmpty { rest["interaction"] = .array(system.map { .object(JSONObject(["code": .string($0)])) }) }
        var statement = JSONObject()
        statement["resourceType"] = .string("CapabilityStatement")
        statement["status"] = .string("active")
        statement["date"] = .string(InstantFormat.iso(now))
        statement["publisher"] = .string("fhir-sandbox")
        statement["kind"] = .string("instance")
        statement["software"] = .object(JSONObject(["name": .string(softwareName), "version": .string(softwareVersion)]))
        statement["implementation"] = .object(
            JSONObject(["description": .string("fhir-sandbox: an offline stand-in for EHR FHIR R4 APIs"), "url": .string(baseURL)]))
        statement["fhirVersion"] = .string("4.0.1")
        statement["format"] = .array([.string("application/fhir+json"), .string("json")])
        statement["patchFormat"] = .array([.string("application/json-patch+json")])
        statement["rest"] = .array([.object(rest)])
        return .object(statement)
    }

    private func resource(_ type: String) -> JSON {
        var object = JSONObject()
        object["type"] = .string(type)
        let interactions = interactionsByType[type] ?? Self.typeInteractions
        object["interaction"] = .array(interactions.map { .object(JSONObject(["code": .string($0)])) })
        object["versioning"] = .string("versioned")
        object["readHistory"] = .bool(interactions.contains("vread"))
        object["updateCreate"] = .bool(interactions.contains("update"))
        object["conditionalCreate"] = .bool(interactions.contains("create"))
        object["conditionalRead"] = .string("not-supported")
        object["conditionalUpdate"] = .bool(false)
        object["conditionalDelete"] = .string("not-supported")
        // Search parameters and includes only where the type is searched.
        let parameters = interactions.contains("search-type") ? registry.parameters(of: type) : []
        let references = parameters.filter { $0.type == .reference }
        if !references.isEmpty {
            object["searchInclude"] = .array(references.map { .string("\(type):\($0.name)") })
        }
        let revIncludes = registry.resourceTypes.flatMap { source in
            registry.parameters(of: source).filter { $0.type == .reference && ($0.targets.isEmpty || $0.targets.contains(type)) }
                .map { JSON.string("\(source):\($0.name)") }
        }
        if !revIncludes.isEmpty { object["searchRevInclude"] = .array(revIncludes) }
        if let operations = operationsByType[type] {
            object["operation"] = .array(
                operations.map { .object(JSONObject(["name": .string($0.name), "definition": .string($0.definition)])) })
        }
        if !parameters.isEmpty { object["searchParam"] = searchParams(parameters, type: type) }
        return .object(object)
    }

    private func searchParams(_ parameters: [SearchParameter], type: String) -> JSON {
        .array(
            parameters.map { parameter in
                var param = JSONObject()
                param["name"] = .string(parameter.name)
                param["definition"] = .string(
                    "http://hl7.org/fhir/SearchParameter/\(parameter.name.hasPrefix("_") ? "Resource" : type)-\(parameter.name.trimmingCharacters(in: "_"))"
                )
                param["type"] = .string(parameter.type.rawValue)
                if !parameter.documentation.isEmpty { param["documentation"] = .string(parameter.documentation) }
                return .object(param)
            })
    }

    public func response(baseURL: String, now: Int64) -> FHIRResponse {
        .json(200, statement(baseURL: baseURL, now: now).bytes)
    }
}

extension Route {
    /// The whole-system interaction this route is (nil: not one; a POST to the base is `batch`
    /// or `transaction` by its Bundle's type, checked when the Bundle is read).
    public var systemInteractionCode: String? { self == .systemHistory ? "history-system" : nil }

    /// The CapabilityStatement interaction codes this route serves (none for metadata and
    /// operations, which are listed separately).
    public var interactionCodes: [String] {
        switch self {
        case .capabilities, .operation: return []
        case .batch: return ["batch", "transaction"]
        case .systemHistory: return ["history-system"]
        case .search: return ["search-type"]
        case .create: return ["create"]
        case .typeHistory: return ["history-type"]
        case .read: return ["read"]
        case .vread: return ["vread"]
        case .update: return ["update"]
        case .patch: return ["patch"]
        case .delete: return ["delete"]
        case .instanceHistory: return ["history-instance"]
        }
    }
}
