import FHIRCore

/// Records who made each write: after a write made with a client's token succeeds, a
/// `Provenance` (target: what was written, recorded: the sandbox time, agent: the client)
/// is stored, so staff can review what an integration (an AI agent) booked or changed. Bases
/// that serve Provenance run it as the last edge step (its `finish` runs first, on stored ids).
public struct ProvenanceRecorder: FHIRRequestStep {
    let service: @Sendable () -> FHIRService?

    public init(service: @escaping @Sendable () -> FHIRService?) { self.service = service }

    /// The identifier system of a client agent.
    public static let clientSystem = "urn:fhir-sandbox:oauth-client"

    public func check(_ request: FHIRRequest) -> FHIRResponse? { nil }

    public func finish(_ response: inout FHIRResponse, for request: FHIRRequest) {
        guard request.method != "GET", (200..<300).contains(response.status), let client = request.access?.client,
            let service = service()
        else { return }
        let route = try? Route.classify(method: request.method, segments: request.segments, supports: { _ in true })
        let activity: String
        switch route {
        case .create: activity = "CREATE"
        case .update, .patch: activity = "UPDATE"
        case .delete: activity = "DELETE"
        case .batch: activity = "UPDATE"
        case .operation(let name, let type, _):
            // Only operations that write (`$book`, `$hold`), not `$find` or `$match`.
            guard let handler = service.operations["\(type ?? "")/$\(name)"],
                handler.access.contains(where: { $0.action == .create || $0.action == .update })
            else { return }
            activity = "UPDATE"
        default: return
        }
        var targets = Self.targets(&response, route: route)
        if targets.isEmpty, case .delete(let type, let id)? = route { targets = ["\(type)/\(id)"] }
        guard !targets.isEmpty else { return }
        let now = service.clock.now()
        let provenance = JSONObject([
            "resourceType": .string("Provenance"),
            "target": .array(targets.map { .object(JSONObject(["reference": .string($0)])) }),
            "recorded": .string(InstantFormat.iso(now)),
            "activity": .object(
                JSONObject([
                    "coding": .array([
                        .object(
                            JSONObject([
                                "system": .string("http://terminology.hl7.org/CodeSystem/v3-DataOperation"), "code": .string(activity),
                            ]))
                    ])
                ])),
            "agent": .array([
                .object(
                    JSONObject([
                        "type": .object(
                            JSONObject([
                                "coding": .array([
                                    .object(
                                        JSONObject([
                                            "system": .string("http://terminology.hl7.org/CodeSystem/provenance-participant-type"),
                                            "code": .string("author"),
                                        ]))
                                ])
                            ])),
                        "who": .object(
                            JSONObject([
                                "identifier": .object(JSONObject(["system": .string(Self.clientSystem), "value": .string(client)])),
                                "display": .string("OAuth client \(client)"),
                            ])),
                    ]))
            ]),
        ])
        // Recorded once the write is committed; the only way it fails is a full sandbox (507),
        // which the client's next write meets too.
        _ = try? service.write { writer throws(FHIRError) in try writer.put("Provenance", id: nil, provenance) }
    }

    /// `Type/id` of what the response says was written: its `Location`, the resource it
    /// returns, a transaction's or batch's entry locations, or the resources a writing
    /// operation returns.
    static func targets(_ response: inout FHIRResponse, route: Route?) -> [String] {
        if let location = response.header("Location"), let target = reference(location) { return [target] }
        guard let body = response.jsonBody()?.objectValue else { return [] }
        let type = body["resourceType"]?.stringValue
        if type == "Bundle" {
            return (body["entry"]?.arrayValue ?? []).compactMap { entry in
                if let location = entry["response"]?["location"]?.stringValue,
                    entry["response"]?["status"]?.stringValue?.hasPrefix("2") == true
                {
                    return reference(location)
                }
                guard case .operation? = route, let resource = entry["resource"]?.objectValue,
                    let type = resource["resourceType"]?.stringValue, type != "OperationOutcome", let id = resource["id"]?.stringValue
                else { return nil }
                return "\(type)/\(id)"
            }
        }
        guard let type, type != "OperationOutcome", type != "Parameters", let id = body["id"]?.stringValue else { return [] }
        return ["\(type)/\(id)"]
    }

    /// `Type/id` from a location (`.../Type/id/_history/v` or `Type/id`).
    static func reference(_ location: String) -> String? {
        var parts = location.split(separator: "/").map(String.init)
        if parts.count >= 2, parts[parts.count - 2] == "_history" { parts.removeLast(2) }
        guard parts.count >= 2, let first = parts[parts.count - 2].first, first.isUppercase else { return nil }
        return "\(parts[parts.count - 2])/\(parts[parts.count - 1])"
    }
}
