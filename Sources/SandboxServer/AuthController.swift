import FHIRCore
import FHIRInteractions
import HTTPTypes
import Hummingbird
import NIOCore
import SandboxAuth
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
        for base in [mount.profile.fhirBase] + mount.profile.otherBases.map(\.fhirBase) {
            router.get(RouterPath(prefix + base + "/.well-known/smart-configuration")) { request, _ -> Response in
                .json(.ok, .object(auth.discovery(origin: request.origin(hosts) + prefix)))
            }
        }
        guard settings.mode != .anonymous else { return }
        router.post(RouterPath(prefix + settings.tokenPath)) { request, _ -> Response in
            let form = try await Self.form(request)
            let origin = request.origin(hosts) + prefix
            if let failure = await auth.prepare(form: form) { return oauth(.failure(failure), form: form) }
            return oauth(
                auth.token(
                    form: form, authorization: request.headers[.authorization], tokenURL: origin + settings.tokenPath,
                    tokenURLs: tokenURLs, fhirBaseURL: origin + mount.profile.fhirBase), form: form)
        }
        router.post(RouterPath(prefix + settings.introspectPath)) { request, _ -> Response in
            let form = try await Self.form(request)
            if let failure = await auth.prepare(form: form) { return oauth(.failure(failure), form: form) }
            return oauth(
                auth.introspect(
                    form: form, authorization: request.headers[.authorization], tokenURLs: tokenURLs, audiences: mount.audiences(hosts)))
        }
        router.post(RouterPath(prefix + settings.revokePath)) { request, _ -> Response in
            let form = try await Self.form(request)
            if let failure = await auth.prepare(form: form) { return oauth(.failure(failure), form: form) }
            return oauth(
                auth.revoke(
                    form: form, authorization: request.headers[.authorization], tokenURLs: tokenURLs, audiences: mount.audiences(hosts)
                ).map { JSONObject() })
        }
        router.get(RouterPath(prefix + settings.jwksPath)) { _, _ -> Response in .json(.ok, .object(auth.jwks)) }
        router.get(RouterPath(prefix + settings.authorizePath)) { request, _ -> Response in
            authorize(QueryString.parse(request.uri.query ?? ""), request)
        }
        router.post(RouterPath(prefix + settings.authorizePath)) { request, _ -> Response in
            authorize(try await Self.form(request), request)
        }
    }

    func authorize(_ parameters: [(name: String, value: String)], _ request: Request) -> Response {
        let origin = request.origin(hosts) + prefix
        switch auth.authorize(parameters, fhirBaseURL: origin + mount.profile.fhirBase, formAction: origin + settings.authorizePath) {
        case .redirect(let location):
            return Response(status: .found, headers: [.location: location, .cacheControl: "no-store"])
        case .page(let status, let html):
            return Response(
                status: HTTPResponse.Status(code: status), headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
        }
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
    func oauth(_ result: Result<JSONObject, OAuthError>, form: [(name: String, value: String)] = []) -> Response {
        var headers: HTTPFields = [
            .contentType: "application/json; charset=utf-8", .cacheControl: "no-store", HTTPField.Name("Pragma")!: "no-cache",
        ]
        switch result {
        case .success(let body):
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: JSON.object(body).bytes)))
        case .failure(let error):
            if error.status == 401 { headers[.wwwAuthenticate] = "Basic realm=\"fhir-sandbox\"" }
            var body = JSONObject(["error": .string(error.error)])
            let assertion = form.last { $0.name == "client_assertion" }.flatMap { try? CompactJWS.parse($0.value).get() }
            let client = form.last { $0.name == "client_id" }?.value ?? assertion?.claims["iss"]?.stringValue ?? "unknown"
            if let detail = auth.dialect.errorDetail(error, .token, client) { body[detail.name] = detail.value }
            headers[HTTPField.Name("X-Sandbox-Error-Description")!] = error.description
            return Response(
                status: HTTPResponse.Status(code: error.status), headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: JSON.object(body).bytes)))
        }
    }
}
