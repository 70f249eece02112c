import FHIRCore
import FHIRInteractions
import FHIRSearch
import HTTPTypes
import Hummingbird
import NIOCore
import SandboxAuth
import SandboxProfiles
import SandboxSeed

/// `GET /_admin/openapi.json` and the 405s for undeclared methods: the admin API described from
/// its routes.
extension AdminController {
    /// A documented response with a JSON body.
    static func answer(_ description: JSON) -> JSON {
        .object(
            JSONObject([
                "description": description,
                "content": .object(JSONObject(["application/json": .object(JSONObject(["schema": .object(JSONObject())]))])),
            ]))
    }

    /// Methods an admin path does not declare get 405 with `Allow` (not a 404 that reads as "no
    /// such route").
    static func refuseOtherMethods(_ router: Router<BasicRequestContext>, path: String, declared: [HTTPRequest.Method]) {
        let allow = declared.map(\.rawValue).joined(separator: ", ")
        let query = HTTPRequest.Method("QUERY")!
        for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete, .options, .trace, query] where !declared.contains(method) {
            router.on(RouterPath(path), method: method) { _, _ -> Response in
                var response = Response.json(
                    .methodNotAllowed,
                    AdminError(status: .methodNotAllowed, "\(method.rawValue) is not allowed here; use \(allow)").json)
                response.headers[.allow] = allow
                return response
            }
        }
    }

    static func openAPI() -> JSON {
        var paths: [String: JSONObject] = [:]
        var order: [String] = []
        for route in routes + certificationRoutes {
            var operation = JSONObject()
            operation["summary"] = .string(route.summary)
            if let schema = route.requestSchema {
                operation["requestBody"] = .object(
                    JSONObject([
                        "required": .bool(true),
                        "content": .object(JSONObject(["application/json": .object(JSONObject(["schema": schema]))])),
                    ]))
            }
            var responses = JSONObject([
                "200": Self.answer(.string("OK (JSON)")),
                "400": Self.answer(.string("Bad input: {\"error\", \"message\", \"field\"}")),
                "401": Self.answer(.string("An admin token is set and the request lacks Authorization: Bearer <it>")),
                "403": Self.answer(.string("The Host is not one of the server's names, or the request comes from another origin")),
                "415": Self.answer(.string("A body labelled other than application/json")),
                "405": Self.answer(.string("The method is not one this path takes (Allow lists them)")),
            ])
            if route.success != .ok {
                responses[String(route.success.code)] = Self.answer(.string(route.success.reasonPhrase))
            }
            if route.path.contains("{id}") || route.path == "/_admin/actions" {
                responses["404"] = Self.answer(.string("Not found: {\"error\", \"message\", \"field\"}"))
            }
            if route.path == "/_admin/actions" {
                responses["409"] = Self.answer(.string("The action conflicts with the record's state"))
            }
            if route.path.hasPrefix("/_admin/certifications") && route.method == .post {
                responses["409"] = Self.answer(.string("The run is already finished, or its sandbox cannot be made (the sandbox limit)"))
            }
            if route.path == "/_admin/faults" && route.method == .post {
                responses["429"] = Self.answer(.string("The sandbox holds its most rules"))
            }
            operation["responses"] = .object(responses)
            if route.path.contains("{id}") {
                let schema: JSON =
                    route.idPattern.map { .object(JSONObject(["type": .string("string"), "pattern": .string($0)])) }
                    ?? .object(JSONObject(["type": .string("integer")]))
                operation["parameters"] = .array([
                    .object(JSONObject(["name": .string("id"), "in": .string("path"), "required": .bool(true), "schema": schema]))
                ])
            }
            if paths[route.path] == nil { order.append(route.path) }
            paths[route.path, default: JSONObject()][route.method.rawValue.lowercased()] = .object(operation)
        }
        // Isolated sandboxes (served at the root only; each sandbox's own admin API is the
        // routes above under /sandboxes/{id}).
        for route in SandboxesController.documented {
            var operation = JSONObject()
            operation["summary"] = .string(route.summary)
            if route.body {
                operation["requestBody"] = .object(
                    JSONObject([
                        "required": .bool(false),
                        "content": .object(
                            JSONObject(["application/json": .object(JSONObject(["schema": SandboxesController.bodySchema]))])),
                    ]))
            }
            if route.path.contains("{id}") {
                operation["parameters"] = .array([
                    .object(
                        JSONObject([
                            "name": .string("id"), "in": .string("path"), "required": .bool(true),
                            "schema": .object(JSONObject(["type": .string("string"), "pattern": .string(SandboxesController.idPattern)])),
                        ]))
                ])
            }
            var responses = JSONObject()
            switch route.method {
            case "post": responses["201"] = Self.answer(.string("Created: the sandbox and its URLs"))
            case "put":
                responses["200"] = Self.answer(.string("It exists: the sandbox and its URLs"))
                responses["201"] = Self.answer(.string("Created: the sandbox and its URLs"))
            case "delete": responses["204"] = .object(JSONObject(["description": .string("Deleted")]))
            default: responses["200"] = Self.answer(.string("OK (JSON)"))
            }
            responses["400"] = Self.answer(.string("Bad input: {\"error\", \"message\", \"field\"}"))
            if route.path.contains("{id}") { responses["404"] = Self.answer(.string("No such sandbox")) }
            if route.body {
                responses["429"] = Self.answer(.string("--max-sandboxes sandboxes exist already"))
            }
            operation["responses"] = .object(responses)
            if paths[route.path] == nil { order.append(route.path) }
            paths[route.path, default: JSONObject()][route.method] = .object(operation)
        }
        return .object(
            JSONObject([
                "openapi": .string("3.1.0"),
                "info": .object(JSONObject(["title": .string("fhir-sandbox admin API"), "version": .string(Sandbox.version)])),
                "paths": .object(JSONObject(order.map { JSONObject.Member(key: $0, value: .object(paths[$0]!)) })),
            ]))
    }
}
