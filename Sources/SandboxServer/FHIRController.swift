import FHIRCore
import FHIRInteractions
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SandboxAuth
import SandboxProfiles

/// Serves one profile's FHIR API under its base path: builds a `FHIRRequest` from the HTTP
/// request and hands it to the profile's pipeline.
struct FHIRController: Sendable {
    let mount: Sandbox.Mount
    let hosts: HostPolicy

    static let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]

    func addRoutes(to router: Router<BasicRequestContext>) {
        for (base, pipeline) in mount.bases {
            let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, context in
                try await handle(request, context: context, base: base, pipeline: pipeline)
            }
            for method in Self.methods {
                router.on(RouterPath(base), method: method, use: handler)
                router.on(RouterPath(base + "/**"), method: method, use: handler)
            }
        }
        // A tenant-scoped vendor answering for tenant ids it does not know (`otherTenants`).
        if let other = mount.profile.otherTenants {
            for method in Self.methods {
                router.on(RouterPath(mount.prefix + other.pathPrefix + "/**"), method: method) { _, _ -> Response in
                    Response(
                        status: HTTPResponse.Status(code: other.status), headers: [.contentType: "text/plain; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: other.body)))
                }
            }
        }
    }

    func handle(_ request: Request, context: BasicRequestContext, base: String, pipeline: FHIRPipeline) async throws -> Response {
        let started = ContinuousClock.now
        let profile = mount.profile
        var body: [UInt8]?
        var refusal: FHIRResponse?
        if request.method == .post || request.method == .put || request.method == .patch {
            do {
                var buffer = try await request.body.collect(upTo: profile.maxBodyBytes)
                body = buffer.readBytes(length: buffer.readableBytes)
            } catch {
                refusal = pipeline.exit(
                    .error(
                        FHIRError(.payloadTooLarge, "the request body is larger than this server's limit of \(profile.maxBodyBytes) bytes"))
                )
            }
        }
        let (response, access) = refusal.map { ($0, nil) } ?? answer(request, base: base, pipeline: pipeline, body: body)
        mount.journal.record { id in
            RequestJournal.Entry(
                id: id, wallTime: Int64(Date().timeIntervalSince1970 * 1000), sandboxTime: mount.state.clock.now(), profile: profile.name,
                method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "", status: response.status,
                durationMicros: Self.micros(ContinuousClock.now - started), clientID: access?.client,
                grants: access?.grants,
                request: .init(headers: .fields(request.headers), body: body),
                response: .init(headers: .list(response.headers), body: response.body))
        }
        return Response(response)
    }

    static func micros(_ duration: Duration) -> Int {
        Int(duration.components.seconds) * 1_000_000 + Int(duration.components.attoseconds / 1_000_000_000_000)
    }

    /// The FHIR response to `request` (its body already read) and the access it was made with.
    func answer(_ request: Request, base: String, pipeline: FHIRPipeline, body: [UInt8]?) -> (FHIRResponse, Access?) {
        let profile = mount.profile
        let headers = request.headers
        var fhirRequest = FHIRRequest(
            method: request.method.rawValue, segments: request.segments(after: base),
            query: QueryString.parse(request.uri.query ?? ""),
            headers: .init(
                ifMatch: headers[.ifMatch], ifNoneMatch: headers[.ifNoneMatch], ifNoneExist: headers[.ifNoneExist],
                contentType: headers[.contentType], accept: headers[.accept],
                prefer: Prefer(header: headers[values: .prefer].joined(separator: ","))),
            body: body, baseURL: request.origin(hosts) + base)  // `base` carries the sandbox prefix
        if profile.auth.mode != .anonymous, !(fhirRequest.segments == ["metadata"] && request.method == .get) {
            switch bearer(headers[.authorization], mode: profile.auth.mode) {
            case .success(let access): fhirRequest.access = access
            case .failure(let error):
                var response = pipeline.exit(.error(FHIRError(.unauthorized, error.description)))
                response.headers.append(("WWW-Authenticate", Self.challenge(error.error, error.description)))
                return (response, nil)
            }
        }
        var response = pipeline.handle(fhirRequest)
        if response.status == 403, fhirRequest.access != nil {
            response.headers.append(("WWW-Authenticate", Self.challenge("insufficient_scope", profile.auth.forbiddenDescription)))
        }
        return (response, fhirRequest.access)
    }

    /// The request's access: nil (anonymous) when the profile allows it and no token came.
    func bearer(_ header: String?, mode: AuthSettings.Mode) -> Result<Access?, OAuthError> {
        guard let header else {
            return mode == .required
                ? .failure(OAuthError("invalid_token", "a bearer token is required (Authorization: Bearer <token>)", status: 401))
                : .success(nil)
        }
        guard header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            return .failure(OAuthError("invalid_token", "the Authorization header must be 'Bearer <token>'", status: 401))
        }
        return mount.auth.authenticate(bearer: String(header.dropFirst(7).drop { $0 == " " }), audiences: mount.audiences(hosts)).map {
            $0
        }
    }

    static func challenge(_ error: String, _ description: String) -> String {
        "Bearer realm=\"fhir-sandbox\", error=\"\(error)\", error_description=\"\(description.replacing("\"", with: "'"))\""
    }
}
