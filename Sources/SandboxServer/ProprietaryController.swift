import FHIRCore
import FHIRInteractions
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SandboxAuth
import SandboxFaults
import SandboxProfiles

/// Serves a profile's non-FHIR API (`proprietary`, athena's `/v1/{practiceid}/...`) under its
/// path: the bearer token is checked by the profile's authorization server, test control
/// (faults, rate limits, latency) applies as to FHIR calls, every exchange is journaled, and the
/// profile's strategy answers.
struct ProprietaryController: Sendable {
    let mount: Sandbox.Mount
    let hosts: HostPolicy
    let api: any ProprietaryAPI
    let path: String

    func addRoutes(to router: Router<BasicRequestContext>) {
        let base = mount.prefix + path
        for method in FHIRController.methods {
            router.on(RouterPath(base), method: method) { request, _ in try await handle(request, base: base) }
            router.on(RouterPath(base + "/**"), method: method) { request, _ in try await handle(request, base: base) }
        }
    }

    func handle(_ request: Request, base: String) async throws -> Response {
        let started = ContinuousClock.now
        let profile = mount.profile
        var body: [UInt8]?
        var answer: ProprietaryResponse
        var access: Access?
        var note: FaultNote?
        do {
            var buffer = try await request.body.collect(upTo: profile.maxBodyBytes)
            body = buffer.readBytes(length: buffer.readableBytes)
            (answer, access, note) = await controlled(request, base: base, body: body)
        } catch {
            answer = api.refusal(
                status: 413, error: "Request too large",
                detail: "The request body is larger than this server's limit of \(profile.maxBodyBytes) bytes.")
        }
        api.stamp(&answer)
        let response = answer
        mount.journal.record { id in
            RequestJournal.Entry(
                id: id, wallTime: Int64(Date().timeIntervalSince1970 * 1000), sandboxTime: mount.state.clock.now(), profile: profile.name,
                method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
                status: response.headers.contains { $0.0 == closeConnectionMarker } ? 0 : response.status,
                durationMicros: FHIRController.micros(ContinuousClock.now - started), clientID: access?.client, grants: access?.grants,
                request: .init(headers: .fields(request.headers), body: body),
                response: .init(headers: .list(response.headers), body: response.body),
                fault: note)
        }
        return Response(FHIRResponse(status: response.status, headers: response.headers, body: response.body))
    }

    /// Test control's verdict, then the token check and the strategy's answer.
    func controlled(_ request: Request, base: String, body: [UInt8]?) async -> (ProprietaryResponse, Access?, FaultNote?) {
        let control = mount.control
        control.fireDueActions()
        let authorization = request.headers[.authorization]
        let segments = request.segments(after: base)
        let verified = bearer(authorization)
        let access: Access? = if case .success(let access) = verified { access } else { nil }
        var note: FaultNote?
        var slotTaken = false
        if !control.isQuiet {
            let kind = api.classify(method: request.method.rawValue, segments: segments)
            let facts = RequestFacts(
                profile: mount.profile.name, method: request.method.rawValue, path: request.uri.path, endpoint: .proprietary,
                resourceType: kind?.type, interaction: kind?.interaction, operation: nil, clientID: access?.client)
            switch control.gate(facts, model: mount.profile.latency) {
            case .refuse(let error, let retryAfter, let refusal):
                var answer = api.refusal(status: error.code.status, error: error.message, detail: error.message)
                if let retryAfter { answer.headers.append(("Retry-After", String(retryAfter))) }
                return (answer, access, refusal)
            case .close(let milliseconds, let closing):
                if milliseconds > 0 { try? await Task.sleep(for: .milliseconds(milliseconds)) }
                return (ProprietaryResponse(status: 444, headers: [(closeConnectionMarker, "1")], body: []), access, closing)
            case .proceed(let proceeding, let action, let wait):
                note = proceeding
                slotTaken = action == .slotTaken
                if wait > 0 { try? await Task.sleep(for: .milliseconds(wait)) }
                if action == .tokenExpired, let header = authorization, header.count > 7 {
                    mount.auth.expire(bearer: String(header.dropFirst(7).drop { $0 == " " }))
                    return (api.refusal(status: 401, error: "invalid_token", detail: "The access token has expired."), access, note)
                }
            }
        }
        switch verified {
        case .failure(let error):
            var answer = api.refusal(status: 401, error: error.error, detail: error.description)
            answer.headers.append(
                ("WWW-Authenticate", FHIRController.challenge(error.error, error.description, realm: mount.profile.auth.challengeRealm)))
            return (answer, nil, note)
        case .success(let access):
            let call = ProprietaryRequest(
                method: request.method.rawValue, segments: segments, query: QueryString.parse(request.uri.query ?? ""),
                body: body, contentType: request.headers[.contentType], baseURL: request.origin(hosts) + base, access: access)
            var raced = call
            raced.frontDeskTakesSlot = slotTaken
            return (api.handle(raced), access, note)
        }
    }

    /// The caller's access: a bearer token of this profile is always required.
    func bearer(_ header: String?) -> Result<Access, OAuthError> {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            return .failure(OAuthError("invalid_token", "a bearer token is required (Authorization: Bearer <token>)", status: 401))
        }
        // A token of the profile, whatever FHIR base it names.
        return mount.auth.authenticate(bearer: String(header.dropFirst(7).drop { $0 == " " }), audiences: mount.audiences(hosts))
    }
}

extension Sandbox.Mount {
    /// Every route of the mounted profile: OAuth, FHIR and its proprietary API.
    func addRoutes(to router: Router<BasicRequestContext>, hosts: HostPolicy) {
        AuthController(mount: self, hosts: hosts).addRoutes(to: router)
        FHIRController(mount: self, hosts: hosts).addRoutes(to: router)
        if let api = runtime.proprietary, let path = profile.proprietary?.path {
            ProprietaryController(mount: self, hosts: hosts, api: api, path: path).addRoutes(to: router)
        }
    }
}
