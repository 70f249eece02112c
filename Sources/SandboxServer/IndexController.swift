import FHIRCore
import FHIRInteractions
import Foundation
import Hummingbird
import NIOCore
import SandboxAuth
import SandboxProfiles
import SandboxSeed

/// `GET /` (what is mounted where, JSON or HTML) and `GET /_health`.
struct IndexController: Sendable {
    let sandbox: Sandbox

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/", use: index)
        router.get("/_health") { _, _ in Response.json(.ok, .object(JSONObject(["status": .string("ok")]))) }
    }

    func document(origin: String) -> JSON {
        var root = JSONObject()
        root["name"] = .string("fhir-sandbox")
        root["version"] = .string(Sandbox.version)
        root["seed"] = .string(sandbox.seed.name)
        root["clock"] = .string(InstantFormat.iso(sandbox.clock.now()))
        root["profiles"] = .array(
            sandbox.mounts.map { mount in
                var profile = JSONObject([
                    "name": .string(mount.profile.name), "description": .string(mount.profile.description),
                    "fhirBase": .string(origin + mount.profile.fhirBase),
                    "metadata": .string(origin + mount.profile.fhirBase + "/metadata"),
                    "smartConfiguration": .string(origin + mount.profile.fhirBase + "/.well-known/smart-configuration"),
                    "auth": .string(mount.profile.auth.mode.rawValue),
                ])
                if !mount.profile.otherBases.isEmpty {
                    profile["otherBases"] = .array(
                        mount.profile.otherBases.map { base in
                            .object(
                                JSONObject([
                                    "fhirBase": .string(origin + base.fhirBase), "fhirVersion": .string(base.release.version),
                                    "metadata": .string(origin + base.fhirBase + "/metadata"),
                                ]))
                        })
                }
                if let api = mount.profile.proprietary {
                    profile["proprietaryAPI"] = .object(
                        JSONObject([
                            "base": .string(origin + api.path), "scope": api.scope.map(JSON.string) ?? .null, "style": .string(api.style),
                        ]))
                }
                if mount.profile.auth.mode != .anonymous {
                    let auth = mount.profile.auth
                    profile["authorize"] = .string(origin + auth.authorizePath)
                    profile["token"] = .string(origin + auth.tokenPath)
                    profile["jwks"] = .string(origin + auth.jwksPath)
                }
                return .object(profile)
            })
        root["admin"] = .string(origin + "/_admin/openapi.json")
        return .object(root)
    }

    @Sendable func index(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let origin = request.origin(sandbox.hosts)
        let document = document(origin: origin)
        guard request.headers[.accept]?.contains("text/html") == true else { return .json(.ok, document) }
        var html = "<!doctype html><html><head><meta charset=\"utf-8\"><title>fhir-sandbox</title></head><body>"
        html += "<h1>fhir-sandbox \(Sandbox.version)</h1><p>Seed <code>\(escape(sandbox.seed.name))</code>, "
        html +=
            "clock \(escape(InstantFormat.iso(sandbox.clock.now())))</p><table><tr><th>profile</th><th>FHIR base</th><th>token</th><th>auth</th><th>description</th></tr>"
        for mount in sandbox.mounts {
            let base = origin + mount.profile.fhirBase
            html += "<tr><td>\(escape(mount.profile.name))</td><td><a href=\"\(escape(base))/metadata\">\(escape(base))</a></td>"
            html += "<td>\(mount.profile.auth.mode == .anonymous ? "" : escape(origin + mount.profile.auth.tokenPath))</td>"
            html += "<td>\(mount.profile.auth.mode.rawValue)</td>"
            html += "<td>\(escape(mount.profile.description))</td></tr>"
            if let api = mount.profile.proprietary {
                html += "<tr><td></td><td>\(escape(origin + api.path)) (vendor API)</td><td></td><td></td>"
                html += "<td>needs \(escape(api.scopeNeeded)); same data and tokens as \(escape(mount.profile.name))</td></tr>"
            }
            for other in mount.profile.otherBases {
                let url = origin + other.fhirBase
                html += "<tr><td></td><td><a href=\"\(escape(url))/metadata\">\(escape(url))</a> (\(other.release.rawValue))</td>"
                html += "<td></td><td></td><td>same data and tokens as \(escape(mount.profile.name))</td></tr>"
            }
        }
        html += "</table><p>Admin API: <a href=\"/_admin/openapi.json\">/_admin/openapi.json</a></p></body></html>"
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
