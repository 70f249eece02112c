import FHIRCore
import FHIRInteractions
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SandboxAuth
import SandboxFaults
import SandboxProfiles

/// Serves one profile's FHIR API under its base path: builds a `FHIRRequest` from the HTTP
/// request and hands it to the profile's pipeline.
struct FHIRController: Sendable {
    let mount: Sandbox.Mount
    let hosts: HostPolicy

    static let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]
    static let hubSecret = HTTPField.Name("X-Hub-Secret")!

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
        var note: FaultNote?
        var response: FHIRResponse
        var access: Access?
        if let refusal {
            response = refusal
        } else {
            (response, access, note) = await controlled(request, base: base, pipeline: pipeline, body: body)
        }
        mount.journal.record { id in
            RequestJournal.Entry(
                id: id, wallTime: Int64(Date().timeIntervalSince1970 * 1000), sandboxTime: mount.state.clock.now(), profile: profile.name,
                method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
                // 0: the connection was closed without an answer (`hang`, `drop`).
                status: response.header(closeConnectionMarker) == nil ? response.status : 0,
                durationMicros: Self.micros(ContinuousClock.now - started), clientID: access?.client,
                grants: access?.grants,
                request: .init(headers: .fields(request.headers), body: body),
                response: .init(headers: .list(response.headers), body: response.body), fault: note)
        }
        return Response(response)
    }

    /// What test control says about the request (faults, rate limits, latency, staff actions
    /// due), then the answer: the pipeline's, or the one control imposes.
    func controlled(_ request: Request, base: String, pipeline: FHIRPipeline, body: [UInt8]?) async -> (FHIRResponse, Access?, FaultNote?) {
        let control = mount.control
        control.fireDueActions()
        if control.isQuiet {
            let (response, access) = answer(request, base: base, pipeline: pipeline, body: body)
            return (response, access, nil)
        }
        let segments = request.segments(after: base)
        let authorization = request.headers[.authorization]
        // The client is known before faults are decided (a rule may name it); the answer then
        // uses the same verification.
        let verified = authorization.map { bearer($0, mode: mount.profile.auth.mode) }
        let access: Access? = if case .success(let access)? = verified { access } else { nil }
        let facts = Self.facts(
            profile: mount.profile.name, method: request.method.rawValue, path: request.uri.path, segments: segments, client: access?.client
        )
        switch control.gate(facts, model: mount.profile.latency) {
        case .refuse(let error, let retryAfter, let note):
            var response = pipeline.exit(.error(error))
            if let retryAfter { response.headers.append(("Retry-After", String(retryAfter))) }
            return (response, access, note)
        case .close(let milliseconds, let note):
            if milliseconds > 0 { try? await Task.sleep(for: .milliseconds(milliseconds)) }
            return (FHIRResponse(status: 444, headers: [(closeConnectionMarker, "1")]), access, note)
        case .proceed(let note, let action, let wait):
            if wait > 0 { try? await Task.sleep(for: .milliseconds(wait)) }
            if action == .tokenExpired, let header = authorization, header.count > 7 {
                mount.auth.expire(bearer: String(header.dropFirst(7).drop { $0 == " " }))
            }
            let (response, used) = answer(
                request, base: base, pipeline: pipeline, body: body, raceSlot: action == .slotTaken,
                verified: action == .tokenExpired ? nil : verified, segments: segments)
            return (response, used, note)
        }
    }

    /// What a fault rule or rate limit can know about a FHIR request.
    static func facts(profile: String, method: String, path: String, segments: [String], client: String?) -> RequestFacts {
        var type: String?
        var interaction: String?
        var operation: String?
        switch try? Route.classify(method: method, segments: segments, supports: { _ in true }) {
        case .capabilities: interaction = "capabilities"
        case .batch: interaction = "batch"
        case .systemHistory: interaction = "history-system"
        case .search(let name): (type, interaction) = (name, "search-type")
        case .create(let name): (type, interaction) = (name, "create")
        case .typeHistory(let name): (type, interaction) = (name, "history-type")
        case .read(let name, _): (type, interaction) = (name, "read")
        case .vread(let name, _, _): (type, interaction) = (name, "vread")
        case .update(let name, _): (type, interaction) = (name, "update")
        case .patch(let name, _): (type, interaction) = (name, "patch")
        case .delete(let name, _): (type, interaction) = (name, "delete")
        case .instanceHistory(let name, _): (type, interaction) = (name, "history-instance")
        case .operation(let name, let onType, _): (type, interaction, operation) = (onType, "operation", "$" + name)
        case nil: break
        }
        return RequestFacts(
            profile: profile, method: method, path: path, endpoint: .fhir, resourceType: type, interaction: interaction,
            operation: operation,
            clientID: client)
    }

    static func micros(_ duration: Duration) -> Int {
        Int(duration.components.seconds) * 1_000_000 + Int(duration.components.attoseconds / 1_000_000_000_000)
    }

    /// The FHIR response to `request` (its body already read) and the access it was made with.
    /// `verified`, `segments`: the bearer token's verification and the path's segments, when
    /// the caller already made them.
    func answer(
        _ request: Request, base: String, pipeline: FHIRPipeline, body: [UInt8]?, raceSlot: Bool = false,
        verified: Result<Access?, OAuthError>? = nil, segments: [String]? = nil
    ) -> (FHIRResponse, Access?) {
        let profile = mount.profile
        let headers = request.headers
        var fhirRequest = FHIRRequest(
            method: request.method.rawValue, segments: segments ?? request.segments(after: base),
            query: QueryString.parse(request.uri.query ?? ""),
            headers: .init(
                ifMatch: headers[.ifMatch], ifNoneMatch: headers[.ifNoneMatch], ifNoneExist: headers[.ifNoneExist],
                contentType: headers[.contentType], accept: headers[.accept],
                prefer: Prefer(header: headers[values: .prefer].joined(separator: ","))),
            body: body, baseURL: request.origin(hosts) + base)  // `base` carries the sandbox prefix
        fhirRequest.frontDeskTakesSlot = raceSlot
        fhirRequest.headers.hubSecret = headers[Self.hubSecret]
        if profile.auth.mode != .anonymous, !(fhirRequest.segments == ["metadata"] && request.method == .get) {
            switch verified ?? bearer(headers[.authorization], mode: profile.auth.mode) {
            case .success(let access): fhirRequest.access = access
            case .failure(let error) where error.status == 403:
                // A client-level authorization failure the profile answers with an empty 403.
                return (FHIRResponse(status: 403, headers: [("X-Sandbox-Error-Description", error.description)], body: []), nil)
            case .failure(let error):
                var response = pipeline.exit(.error(FHIRError(.unauthorized, error.description)))
                response.headers.append(
                    ("WWW-Authenticate", Self.challenge(error.error, error.description, realm: profile.auth.challengeRealm)))
                return (response, nil)
            }
        }
        var response = pipeline.handle(fhirRequest)
        if response.status == 403, fhirRequest.access != nil {
            response.headers.append(
                (
                    "WWW-Authenticate",
                    Self.challenge("insufficient_scope", profile.auth.forbiddenDescription, realm: profile.auth.challengeRealm)
                ))
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

    /// An RFC 6750 challenge: `Bearer [realm="...", ]error="...", error_description="..."`.
    static func challenge(_ error: String, _ description: String, realm: String?) -> String {
        "Bearer " + (realm.map { "realm=\"\($0)\", " } ?? "")
            + "error=\"\(error)\", error_description=\"\(description.replacing("\"", with: "'"))\""
    }
}
