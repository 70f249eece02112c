import FHIRCore
import FHIRSearch
import FHIRStore
import Foundation

extension FHIRService {
    /// `POST [base]` with a `batch` (entries independent) or `transaction` (all or nothing,
    /// `urn:uuid:` references resolved) Bundle.
    func batch(_ request: FHIRRequest) throws(FHIRError) -> FHIRResponse {
        let bundle = try resource(from: request.body, type: "Bundle", contentType: request.headers.contentType, validating: false)
        let count = bundle["entry"]?.arrayValue?.count ?? 0
        guard count <= settings.maxBundleEntries else {
            throw FHIRError(
                .limitExceeded, "a batch or transaction may carry at most \(settings.maxBundleEntries) entries; this one has \(count)",
                expression: ["Bundle.entry"])
        }
        if let kind = bundle["type"]?.stringValue, ["batch", "transaction"].contains(kind), let allowed = settings.rules.systemInteractions,
            !allowed.contains(kind)
        {
            throw FHIRError(
                .methodNotAllowed,
                "\(kind) is not offered on this server"
                    + (allowed.isEmpty ? "" : " (system interactions: \(allowed.joined(separator: ", ")))"))
        }
        switch bundle["type"]?.stringValue {
        case "batch":
            // Entries stand alone: check the Bundle around them here, each resource when its entry runs.
            try validate(.object(Self.withoutEntryResources(bundle)))
            return try runBatch(try BundleEntryRequest.parse(bundle), request: request)
        case "transaction":
            try validate(.object(Self.withoutEntryResources(bundle, onlyPatches: true)))
            return try runTransaction(try BundleEntryRequest.parse(bundle), request: request)
        default:
            throw FHIRError(.malformedRequest, "POST to the base takes a Bundle of type batch or transaction", expression: ["Bundle.type"])
        }
    }

    private func runBatch(_ entries: [BundleEntryRequest], request: FHIRRequest) throws(FHIRError) -> FHIRResponse {
        var bundle = BundleBuilder(type: "batch-response", id: random.uuid(), timestamp: InstantFormat.iso(clock.now()))
        var size = 0
        for entry in entries {
            // Each entry passes the profile's entry steps and policies like a request of its
            // own, and its errors are in the profile's dialect.
            var entryRequest = entry.request(baseURL: request.baseURL, prefer: request.headers.prefer, access: request.access)
            let response = request.entryEdge.pass(&entryRequest) ?? handle(entryRequest)
            let answer = Self.responseEntry(settings.rules.dialect.exit(response))
            size += (answer.resource?.count ?? 0) + (answer.outcome?.count ?? 0)
            try checkResponseSize(size)
            bundle.entries.append(answer)
        }
        return .json(200, bundle.bytes())
    }

    private func runTransaction(_ parsed: [BundleEntryRequest], request: FHIRRequest) throws(FHIRError) -> FHIRResponse {
        // Classify every entry (a malformed transaction is a 400 whatever its entries ask),
        // then hold each to the profile's entry steps and policies, before touching the store.
        var entries = parsed
        var routes: [Route] = []
        var targets = Set<String>()
        for entry in entries {
            let route: Route
            do {
                route = try Route.classify(method: entry.method, segments: entry.segments, supports: registry.supports)
            } catch {
                throw Self.entryError(error, entry)
            }
            switch route {
            case .create, .update, .patch, .delete, .read, .vread, .search: break
            default: throw Self.entryError(FHIRError(.malformedRequest, "this interaction is not allowed in a transaction"), entry)
            }
            if case .update(let type, let id) = route, !targets.insert("\(type)/\(id)").inserted {
                throw Self.entryError(FHIRError(.malformedRequest, "\(type)/\(id) is written twice in one transaction"), entry)
            }
            if case .delete(let type, let id) = route, !targets.insert("\(type)/\(id)").inserted {
                throw Self.entryError(FHIRError(.malformedRequest, "\(type)/\(id) is written twice in one transaction"), entry)
            }
            routes.append(route)
        }
        var entryRequests: [FHIRRequest] = []
        for position in entries.indices {
            var entryRequest = entries[position].request(baseURL: request.baseURL, prefer: request.headers.prefer, access: request.access)
            if let refusal = request.entryEdge.pass(&entryRequest) {
                throw Self.entryError(refusal.error ?? Self.error(from: refusal), entries[position])
            }
            entries[position].adopt(entryRequest)
            entryRequests.append(entryRequest)
            do {
                _ = try checkPolicies(routes[position], entryRequest, resource: entries[position].resource?.objectValue)
            } catch {
                throw Self.entryError(error, entries[position])
            }
        }
        // Writes in the order FHIR prescribes (DELETE, POST, PUT, PATCH), in one store transaction.
        let order: [String: Int] = ["DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 3]
        let writeIndexes = entries.indices.filter { order[entries[$0].method] != nil }
            .sorted { (order[entries[$0].method]!, $0) < (order[entries[$1].method]!, $1) }
        var reads: [Int: FHIRResponse] = [:]
        let results: [Int: WriteResult] = try store.write { tx throws(FHIRError) in
            var references: [String: String] = [:]
            var assigned: [Int: String] = [:]
            var results: [Int: WriteResult] = [:]
            // Ids for every create first, so references between entries resolve in any order.
            for index in writeIndexes {
                guard case .create(let type) = routes[index] else { continue }
                let entry = entries[index]
                if let criteria = entry.ifNoneExist {
                    let matches = try conditionalMatches(tx, type: type, criteria: criteria, header: "ifNoneExist")
                    if matches.count > 1 {
                        throw Self.entryError(
                            FHIRError(.tooManyMatches, "ifNoneExist '\(criteria)' matches \(matches.count) resources"), entry)
                    }
                    if let match = matches.first, let existing = try tx.current(type, match.id) {
                        results[index] = WriteResult(status: 200, stored: existing)
                        if let fullURL = entry.fullURL { references[fullURL] = "\(type)/\(match.id)" }
                        continue
                    }
                }
                let id = random.uuid()
                assigned[index] = id
                if let fullURL = entry.fullURL { references[fullURL] = "\(type)/\(id)" }
            }
            for index in writeIndexes where results[index] == nil {
                let entry = entries[index]
                do throws(FHIRError) {
                    switch routes[index] {
                    case .delete(let type, let id):
                        results[index] = try deleteCore(tx, type: type, id: id, ifMatch: entry.ifMatch)
                    case .create(let type):
                        var resource = try entryResource(entry, type: type, references: references)
                        if let hook = hooks[type] {
                            resource = try hook.willStore(resource, old: nil, id: assigned[index]!, tx: tx, now: clock.now())
                        }
                        results[index] = try storeVersion(
                            tx, type: type, id: assigned[index]!, resource: resource, version: 1, method: "POST", status: 201)
                    case .update(let type, let id):
                        let resource = try entryResource(entry, type: type, references: references)
                        results[index] = try updateCore(tx, type: type, id: id, resource: resource, ifMatch: entry.ifMatch)
                    case .patch(let type, let id):
                        results[index] = try patchCore(
                            tx, type: type, id: id, operations: try JSONPatch.operations(try entry.patchDocument()), ifMatch: entry.ifMatch)
                    default:
                        break
                    }
                } catch {
                    throw Self.entryError(error, entry)
                }
            }
            // Reads run after the writes, inside the same transaction: they see its writes, and
            // a read that fails fails the whole transaction (R4: all or nothing).
            for index in entries.indices where order[entries[index].method] == nil {
                let entry = entries[index]
                do throws(FHIRError) {
                    let response = try dispatch(entryRequests[index])
                    guard response.status < 400 else { throw Self.error(from: response) }
                    reads[index] = response
                } catch {
                    throw Self.entryError(error, entry)
                }
            }
            return results
        }
        var bundle = BundleBuilder(type: "transaction-response", id: random.uuid(), timestamp: InstantFormat.iso(clock.now()))
        var size = 0
        for index in entries.indices {
            if let result = results[index] {
                let stored = result.stored
                let location =
                    result.status == 201 || result.status == 200 && !stored.deleted
                    ? "\(stored.type)/\(stored.id)/_history/\(stored.version)" : nil
                bundle.entries.append(
                    .init(
                        fullURL: stored.deleted ? nil : "\(request.baseURL)/\(stored.type)/\(stored.id)",
                        resource: request.headers.prefer.returnPreference == .minimal ? nil : stored.body,
                        response: (
                            Self.statusLine(result.status), location, "W/\"\(stored.version)\"", InstantFormat.iso(stored.lastUpdated)
                        )))
            } else if let response = reads[index] {
                bundle.entries.append(Self.responseEntry(response))
            }
            size += (bundle.entries.last?.resource?.count ?? 0)
            try checkResponseSize(size)
        }
        return .json(200, bundle.bytes())
    }

    /// An entry's resource with `urn:uuid:` references rewritten; the Bundle was validated whole.
    private func entryResource(_ entry: BundleEntryRequest, type: String, references: [String: String]) throws(FHIRError) -> JSONObject {
        guard let resource = entry.resource, case .object(let object) = Self.rewrite(resource, references) else {
            throw FHIRError(.malformedRequest, "a \(entry.method) entry needs a resource")
        }
        guard object["resourceType"]?.stringValue == type else {
            throw FHIRError(.malformedRequest, "the entry's resource is not a \(type)")
        }
        return object
    }

    /// The Bundle without its entries' resources (`onlyPatches`: without PATCH entries'
    /// Binary documents only, which are read as JSON Patch, not validated as resources).
    static func withoutEntryResources(_ bundle: JSONObject, onlyPatches: Bool = false) -> JSONObject {
        var shell = bundle
        if let entries = bundle["entry"]?.arrayValue {
            shell["entry"] = .array(
                entries.map { entry in
                    guard case .object(var object) = entry else { return entry }
                    if !onlyPatches || entry["request"]?["method"]?.stringValue == "PATCH" { object["resource"] = nil }
                    return .object(object)
                })
        }
        return shell
    }

    static func rewrite(_ value: JSON, _ references: [String: String]) -> JSON {
        guard !references.isEmpty else { return value }
        switch value {
        case .object(var object):
            for index in object.members.indices {
                let member = object.members[index]
                if member.key == "reference", let text = member.value.stringValue, let resolved = references[text] {
                    object.members[index].value = .string(resolved)
                } else {
                    object.members[index].value = rewrite(member.value, references)
                }
            }
            return .object(object)
        case .array(let values):
            return .array(values.map { rewrite($0, references) })
        default:
            return value
        }
    }

    static func entryError(_ error: FHIRError, _ entry: BundleEntryRequest) -> FHIRError {
        var error = error
        error.issues = error.issues.map { issue in
            var issue = issue
            issue.message = "entry \(entry.index) (\(entry.method) \(entry.url)): \(issue.message)"
            // Element paths rooted at the entry's resource (`Condition.code`) point into the Bundle.
            let type = entry.resource?["resourceType"]?.stringValue
            issue.expression =
                issue.expression.isEmpty
                ? ["Bundle.entry[\(entry.index)]"]
                : issue.expression.map { path in
                    guard let type, path == type || path.hasPrefix(type + ".") else { return path }
                    return "Bundle.entry[\(entry.index)].resource" + path.dropFirst(type.count)
                }
            return issue
        }
        return error
    }

    static func statusLine(_ status: Int) -> String {
        switch status {
        case 200: return "200 OK"
        case 201: return "201 Created"
        case 204: return "204 No Content"
        case 304: return "304 Not Modified"
        default: return String(status)
        }
    }

    /// Fails a batch or transaction whose answer would pass `maxResponseBytes`.
    func checkResponseSize(_ size: Int) throws(FHIRError) {
        guard size > settings.maxResponseBytes else { return }
        throw FHIRError(
            .limitExceeded,
            "the response would be larger than this server's limit of \(settings.maxResponseBytes) bytes; send fewer or narrower entries",
            expression: ["Bundle.entry"])
    }

    /// The error an error response stands for (its OperationOutcome's issues when it has one).
    static func error(from response: FHIRResponse) -> FHIRError {
        let code = FHIRError.Code.forStatus(response.status)
        let outcome = entryOutcome(response)
        let issues = (outcome["issue"]?.arrayValue ?? []).map { issue in
            FHIRError.Issue(
                severity: issue["severity"]?.stringValue ?? "error", code: issue["code"]?.stringValue ?? code.issueType,
                message: issue["diagnostics"]?.stringValue ?? "HTTP \(response.status)",
                expression: issue["expression"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        }
        return FHIRError(code, issues: issues)
    }

    /// An entry's `response.outcome`: the response's OperationOutcome, or one that carries a
    /// vendor's plain-text or HTML error body in `diagnostics` (a Bundle holds resources only).
    static func entryOutcome(_ response: FHIRResponse) -> JSONObject {
        if let json = try? JSONParser.parse(response.body), let object = json.objectValue,
            object["resourceType"]?.stringValue == "OperationOutcome"
        {
            return object
        }
        let code = FHIRError.Code.forStatus(response.status).issueType
        var text = Substring(String(decoding: response.body, as: UTF8.self))
        if response.header("Content-Type")?.contains("html") == true, let title = text.firstRange(of: "<title>"),
            let end = text[title.upperBound...].firstRange(of: "</title>")
        {
            text = text[title.upperBound..<end.lowerBound]
        }
        text = text.drop { $0.isWhitespace }
        while text.last?.isWhitespace == true { text = text.dropLast() }
        if text.isEmpty { text = "HTTP \(response.status)" }
        return OperationOutcome.make([.init(code: code, message: String(text.prefix(4096)))]).objectValue ?? JSONObject()
    }

    static func responseEntry(_ response: FHIRResponse) -> BundleBuilder.Entry {
        // A resource is JSON (a vendor's empty or text body is not carried as one).
        let isResource =
            response.status < 300 && response.header("Content-Type")?.contains("json") == true
            && response.body.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 } == UInt8(ascii: "{")
        let location = response.header("Location").map { $0 }
        return BundleBuilder.Entry(
            resource: isResource ? response.body : nil,
            response: (statusLine(response.status), location, response.header("ETag"), nil),
            outcome: response.status >= 400 ? JSON.object(entryOutcome(response)).bytes : nil)
    }
}

/// One entry of a batch or transaction Bundle, read into a request.
struct BundleEntryRequest: Sendable {
    let index: Int
    let fullURL: String?
    let method: String
    let url: String
    let segments: [String]
    let query: [(name: String, value: String)]
    let resource: JSON?
    var ifMatch: String?
    var ifNoneExist: String?
    var ifNoneMatch: String?

    static func parse(_ bundle: JSONObject) throws(FHIRError) -> [BundleEntryRequest] {
        var result: [BundleEntryRequest] = []
        for (index, entry) in (bundle["entry"]?.arrayValue ?? []).enumerated() {
            guard let request = entry["request"], let method = request["method"]?.stringValue, let url = request["url"]?.stringValue else {
                throw FHIRError(
                    .malformedRequest, "entry \(index) needs request.method and request.url", expression: ["Bundle.entry[\(index)].request"]
                )
            }
            var path = url
            var query: [(name: String, value: String)] = []
            if let mark = url.firstIndex(of: "?") {
                path = String(url[..<mark])
                query = QueryString.parse(String(url[url.index(after: mark)...]))
            }
            if path.hasPrefix("http://") || path.hasPrefix("https://") {
                throw FHIRError(
                    .malformedRequest, "entry \(index): request.url must be relative to the base",
                    expression: ["Bundle.entry[\(index)].request.url"])
            }
            let segments = path.split(separator: "/").map { QueryString.decode($0) }
            result.append(
                BundleEntryRequest(
                    index: index, fullURL: entry["fullUrl"]?.stringValue, method: method, url: url, segments: segments, query: query,
                    resource: entry["resource"], ifMatch: request["ifMatch"]?.stringValue,
                    ifNoneExist: request["ifNoneExist"]?.stringValue, ifNoneMatch: request["ifNoneMatch"]?.stringValue))
        }
        return result
    }

    /// Takes what the entry steps rewrote (conditions in the profile's version numbering).
    mutating func adopt(_ request: FHIRRequest) {
        ifMatch = request.headers.ifMatch
        ifNoneExist = request.headers.ifNoneExist
        ifNoneMatch = request.headers.ifNoneMatch
    }

    /// A PATCH entry's JSON Patch document: R4 carries it as a Binary
    /// (`contentType: application/json-patch+json`, base64 `data`).
    func patchDocument() throws(FHIRError) -> JSON {
        guard let binary = resource?.objectValue, binary["resourceType"]?.stringValue == "Binary",
            binary["contentType"]?.stringValue?.contains("json-patch") == true, let data = binary["data"]?.stringValue,
            let bytes = Data(base64Encoded: data).map(Array.init)
        else {
            throw FHIRError(
                .malformedRequest,
                "a PATCH entry carries its JSON Patch as a Binary (contentType application/json-patch+json, base64 data)",
                expression: ["Bundle.entry[\(index)].resource"])
        }
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw FHIRError(
                .malformedRequest, "the PATCH entry's Binary is not JSON: \(error.message)", expression: ["Bundle.entry[\(index)].resource"]
            )
        }
    }

    func request(baseURL: String, prefer: Prefer, access: Access?) -> FHIRRequest {
        // A PATCH entry runs as a PATCH request with its document as the body (a Binary that is
        // not one is left as it is: the interaction names what is wrong).
        let body = method == "PATCH" ? ((try? patchDocument())?.bytes ?? resource?.bytes) : resource.map { $0.bytes }
        var request = FHIRRequest(
            method: method, segments: segments, query: query,
            headers: .init(
                ifMatch: ifMatch, ifNoneMatch: ifNoneMatch, ifNoneExist: ifNoneExist,
                contentType: method == "PATCH" ? "application/json-patch+json" : "application/fhir+json", prefer: prefer),
            body: body, baseURL: baseURL)
        request.access = access
        return request
    }
}
