import FHIRCore
import FHIRInteractions
import HTTPTypes
import Hummingbird
import SandboxProfiles

/// Serves one profile's FHIR API under its base path: builds a `FHIRRequest` from the HTTP
/// request and hands it to the profile's pipeline.
struct FHIRController: Sendable {
    let mount: Sandbox.Mount
    let publicURL: String?

    static let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]

    func addRoutes(to router: Router<BasicRequestContext>) {
        let base = mount.profile.fhirBase
        for method in Self.methods {
            router.on(RouterPath(base), method: method, use: handle)
            router.on(RouterPath(base + "/**"), method: method, use: handle)
        }
    }

    @Sendable func handle(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let profile = mount.profile
        var body: [UInt8]?
        if request.method == .post || request.method == .put || request.method == .patch {
            do {
                var buffer = try await request.body.collect(upTo: profile.maxBodyBytes)
                body = buffer.readBytes(length: buffer.readableBytes)
            } catch {
                return Response(
                    .error(
                        FHIRError(.payloadTooLarge, "the request body is larger than this server's limit of \(profile.maxBodyBytes) bytes"))
                )
            }
        }
        let headers = request.headers
        let fhirRequest = FHIRRequest(
            method: request.method.rawValue, segments: request.segments(after: profile.fhirBase),
            query: QueryString.parse(request.uri.query ?? ""),
            headers: .init(
                ifMatch: headers[.ifMatch], ifNoneMatch: headers[.ifNoneMatch], ifNoneExist: headers[.ifNoneExist],
                contentType: headers[.contentType], accept: headers[.accept],
                prefer: Prefer(header: headers[values: .prefer].joined(separator: ","))),
            body: body, baseURL: request.origin(publicURL: publicURL) + profile.fhirBase)
        return Response(mount.pipeline.handle(fhirRequest))
    }
}
