import FHIRCore
import FHIRInteractions
import FHIRSearch
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SandboxAuth
import SandboxFaults
import SandboxProfiles

/// One profile's OAuth endpoints (token, authorize, introspect, revoke, JWKS) and its SMART
/// discovery document, over the framework-free `AuthorizationServer`.
struct AuthController: Sendable {
    let mount: Sandbox.Mount
    let hosts: HostPolicy

    var auth: AuthorizationServer { mount.auth }
    var settings: AuthSettings { mount.profile.auth }

    /// The token endpoint as a client assertion may name it: at the public URL, or at an
    /// allowed name of the bound address (never at a port or host taken from the request).
    var tokenURLs: [String] { hosts.audienceOrigins.map { $0 + prefix + settings.tokenPath } }

    /// `/sandboxes/{id}` for an isolated sandbox's endpoints, `""` for the default sandbox.
    var prefix: String { mount.prefix }

    func addRoutes(to router: Router<BasicRequestContext>) {
        // The types the main base serves (what the discovery document's scopes name).
        let types = mount.pipeline.service.registry.resourceTypes
        for base in [mount.profile.fhirBase] + mount.profile.otherBases.map(\.fhirBase) {
            router.get(RouterPath(prefix + base + "/.well-known/smart-configuration")) { request, _ -> Response in
                .json(.ok, .object(auth.discovery(origin: request.origin(hosts) + prefix, types: types, fhirBase: base)))
            }
        }
        guard settings.mode != .anonymous else { return }
        router.post(RouterPath(prefix + settings.tokenPath)) { request, _ -> Response in
            let started = ContinuousClock.now
            let form = try await Self.form(request)
            let (imposed, note) = await controlled(request, .token, form: form, started)
            if let imposed { return imposed }
            let origin = request.origin(hosts) + prefix
            if let failure = await auth.prepare(form: form) { return oauth(.failure(failure), form: form, request, started, fault: note) }
            return oauth(
                auth.token(
                    form: form, authorization: request.headers[.authorization], tokenURL: origin + settings.tokenPath,
                    tokenURLs: tokenURLs, fhirBaseURL: origin + mount.profile.fhirBase), form: form, request, started, fault: note)
        }
        router.post(RouterPath(prefix + settings.introspectPath)) { request, _ -> Response in
            let started = ContinuousClock.now
            let form = try await Self.form(request)
            let (imposed, note) = await controlled(request, .introspect, form: form, started)
            if let imposed { return imposed }
            if let failure = await auth.prepare(form: form) { return oauth(.failure(failure), form: form, request, started, fault: note) }
            return oauth(
                auth.introspect(
                    form: form, authorization: request.headers[.authorization], tokenURLs: tokenURLs, audiences: mount.audiences(hosts)),
                form: form, request, started, fault: note)
        }
        router.post(RouterPath(prefix + settings.revokePath)) { request, _ -> Response in
            let started = ContinuousClock.now
            let form = try await Self.form(request)
            let (imposed, note) = await controlled(request, .revoke, form: form, started)
            if let imposed { return imposed }
            if let failure = await auth.prepare(form: form) { return oauth(.failure(failure), form: form, request, started, fault: note) }
            return oauth(
                auth.revoke(
                    form: form, authorization: request.headers[.authorization], tokenURLs: tokenURLs, audiences: mount.audiences(hosts)
                ).map { JSONObject() }, form: form, request, started, fault: note)
        }
        router.get(RouterPath(prefix + settings.jwksPath)) { request, _ -> Response in
            if let imposed = await controlled(request, .jwks, form: [], ContinuousClock.now).answer { return imposed }
            return .json(.ok, .object(auth.jwks))
        }
        router.get(RouterPath(prefix + settings.authorizePath)) { request, _ -> Response in
            let parameters = QueryString.parse(request.uri.query ?? "")
            let (imposed, note) = await controlled(request, .authorize, form: parameters, ContinuousClock.now)
            if let imposed { return imposed }
            return authorize(parameters, request, fault: note)
        }
        router.post(RouterPath(prefix + settings.authorizePath)) { request, _ -> Response in
            let form = try await Self.form(request)
            let (imposed, note) = await controlled(request, .authorize, form: form, ContinuousClock.now)
            if let imposed { return imposed }
            return authorize(form, request, fault: note)
        }
    }

    func authorize(_ parameters: [(name: String, value: String)], _ request: Request, fault: FaultNote? = nil) -> Response {
        let started = ContinuousClock.now
        let origin = request.origin(hosts) + prefix
        let client = parameters.last { $0.name == "client_id" }?.value
        let body = request.method == .post ? RequestJournal.redact(form: Array(QueryString.encode(parameters).utf8)) : nil
        switch auth.authorize(parameters, fhirBaseURL: origin + mount.profile.fhirBase, formAction: origin + settings.authorizePath) {
        case .redirect(let location):
            record(
                request, status: 302, started: started, client: client, requestBody: body, responseHeaders: [("Location", location)],
                responseBody: nil, fault: fault)
            return Response(status: .found, headers: [.location: location, .cacheControl: "no-store"])
        case .page(let status, let html):
            record(
                request, status: status, started: started, client: client, requestBody: body,
                responseHeaders: [("Content-Type", "text/html; charset=utf-8")], responseBody: Array(html.utf8), fault: fault)
            return Response(
                status: HTTPResponse.Status(code: status), headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
        }
    }

    /// Test control on an OAuth endpoint: nil to go on, or the answer it imposes (an OAuth
    /// `temporarily_unavailable` error with the fault's or limit's status, or no answer at all),
    /// recorded in the journal with the rule that decided it.
    func controlled(
        _ request: Request, _ endpoint: RequestFacts.Endpoint, form: [(name: String, value: String)], _ started: ContinuousClock.Instant
    ) async -> (answer: Response?, note: FaultNote?) {
        mount.control.fireDueActions()
        let client = Self.client(form, authorization: request.headers[.authorization])
        let facts = RequestFacts(
            profile: mount.profile.name, method: request.method.rawValue, path: request.uri.path, endpoint: endpoint, clientID: client)
        let journaled = request.method == .post ? RequestJournal.redact(form: Array(QueryString.encode(form).utf8)) : nil
        switch mount.control.gate(facts, model: mount.profile.latency) {
        case .proceed(let note, _, let wait):
            if wait > 0 { try? await Task.sleep(for: .milliseconds(wait)) }
            return (nil, note)
        case .close(let milliseconds, let note):
            if milliseconds > 0 { try? await Task.sleep(for: .milliseconds(milliseconds)) }
            record(
                request, status: 0, started: started, client: client, requestBody: journaled, responseHeaders: [], responseBody: nil,
                fault: note)
            return (Response(status: .init(code: 444), headers: [HTTPField.Name(closeConnectionMarker)!: "1"]), note)
        case .refuse(let error, let retryAfter, let note):
            var headers: [(name: String, value: String)] = [
                ("Content-Type", "application/json; charset=utf-8"), ("Cache-Control", "no-store"),
            ]
            if let retryAfter { headers.append(("Retry-After", String(retryAfter))) }
            let body = JSON.object(
                JSONObject(["error": .string("temporarily_unavailable"), "error_description": .string(error.message)])
            ).bytes
            record(
                request, status: error.code.status, started: started, client: client, requestBody: journaled, responseHeaders: headers,
                responseBody: body, fault: note)
            var fields = HTTPFields()
            for header in headers {
                if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
            }
            let response = Response(
                status: HTTPResponse.Status(code: error.code.status), headers: fields,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
            return (response, note)
        }
    }

    /// The client a request names: `client_id` in the form, the user of HTTP Basic
    /// authentication (RFC 6749 §2.3.1: form-encoded), or the issuer of its client assertion.
    /// Rate limits per client count a client by it, whichever way it authenticates.
    static func client(_ form: [(name: String, value: String)], authorization: String? = nil) -> String? {
        if let id = form.last(where: { $0.name == "client_id" })?.value { return id }
        if let header = authorization, header.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        {
            let id = String(text[..<colon])
            return id.replacing("+", with: " ").removingPercentEncoding ?? id
        }
        let assertion = form.last { $0.name == "client_assertion" }.flatMap { try? CompactJWS.parse($0.value).get() }
        return assertion?.claims["iss"]?.stringValue
    }

    /// The form body (`application/x-www-form-urlencoded`), as OAuth endpoints take it.
    static func form(_ request: Request) async throws -> [(name: String, value: String)] {
        var buffer = try await request.body.collect(upTo: 65536)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        return QueryString.parse(String(decoding: bytes, as: UTF8.self))
    }

    /// An OAuth JSON response: the body, or the error in the profile's style with its status
    /// (the description always also travels in `X-Sandbox-Error-Description`, since some
    /// vendors' bodies hide it).
    func oauth(
        _ result: Result<JSONObject, OAuthError>, form: [(name: String, value: String)], _ request: Request,
        _ started: ContinuousClock.Instant, fault: FaultNote? = nil
    ) -> Response {
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/json; charset=utf-8"), ("Cache-Control", "no-store"), ("Pragma", "no-cache"),
        ]
        let client = Self.client(form, authorization: request.headers[.authorization])
        let status: Int
        var body: JSONObject
        switch result {
        case .success(let answer):
            status = 200
            body = answer
        case .failure(let refused):
            let error = auth.dialect.restate(refused)
            status = error.status
            if error.status == 401 { headers.append(("WWW-Authenticate", "Basic realm=\"fhir-sandbox\"")) }
            body = JSONObject(["error": .string(error.error)])
            if let detail = auth.dialect.errorDetail(error, .token, client ?? "unknown") { body[detail.name] = detail.value }
            headers.append(("X-Sandbox-Error-Description", error.description))
        }
        let bytes = JSON.object(body).bytes
        // The journal keeps the exchange with its secrets (tokens, assertions, codes) redacted.
        var shown = body
        for name in ["access_token", "refresh_token", "id_token"] where shown[name] != nil { shown[name] = .string("<redacted>") }
        record(
            request, status: status, started: started, client: client,
            requestBody: RequestJournal.redact(form: Array(QueryString.encode(form).utf8)),
            responseHeaders: headers, responseBody: JSON.object(shown).bytes, fault: fault)
        var fields = HTTPFields()
        for header in headers { if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) } }
        return Response(
            status: HTTPResponse.Status(code: status), headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// An OAuth exchange in the sandbox's request journal.
    func record(
        _ request: Request, status: Int, started: ContinuousClock.Instant, client: String?, requestBody: [UInt8]?,
        responseHeaders: [(name: String, value: String)], responseBody: [UInt8]?, fault: FaultNote? = nil
    ) {
        mount.journal.record { id in
            RequestJournal.Entry(
                id: id, wallTime: Int64(Date().timeIntervalSince1970 * 1000), sandboxTime: mount.state.clock.now(),
                profile: mount.profile.name,
                method: request.method.rawValue, path: request.uri.path,
                query: RequestJournal.redact(query: request.uri.query ?? ""),
                status: status, durationMicros: FHIRController.micros(ContinuousClock.now - started), clientID: client, grants: nil,
                request: .init(headers: .fields(request.headers), body: requestBody),
                response: .init(
                    headers: .list(
                        responseHeaders.map {
                            ($0.name, $0.name.lowercased() == "location" ? RequestJournal.redact(location: $0.value) : $0.value)
                        }), body: responseBody), fault: fault)
        }
    }
}
