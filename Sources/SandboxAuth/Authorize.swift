import FHIRCore
import Foundation

/// The authorization endpoint (`GET`/`POST {auth}/authorize`): checks the request, then either
/// redirects back with a code (auto-approved clients, or the person approved), redirects back
/// with an error, or renders the sign-in and patient-picker page.
extension AuthorizationServer {
    public enum AuthorizeOutcome: Sendable, Equatable {
        case redirect(String)
        /// An HTML page with its status (200 for the sign-in page, 400 for errors that must not redirect).
        case page(Int, String)
    }

    /// `decision` is nil for the first `GET`; the sign-in form posts `approve` or `deny` with the
    /// chosen `patient`.
    public func authorize(_ parameters: [(name: String, value: String)], fhirBaseURL: String, formAction: String) -> AuthorizeOutcome {
        func value(_ name: String) -> String? { parameters.last { $0.name == name }?.value }
        guard let clientID = value("client_id"), let client = clients.client(clientID), client.enabled else {
            return .page(400, Self.errorPage("Unknown or disabled client '\(value("client_id") ?? "")'."))
        }
        guard let redirect = value("redirect_uri"), client.redirectURIs.contains(redirect) else {
            return .page(
                400,
                Self.errorPage(
                    "redirect_uri '\(value("redirect_uri") ?? "")' is not registered for \(client.id) (registered: "
                        + client.redirectURIs.joined(separator: ", ") + "). The sandbox never redirects to an unregistered URI."))
        }
        let state = value("state")
        func fail(_ error: String, _ description: String) -> AuthorizeOutcome {
            // The dialect's detail (RFC 6749: error_description), as query text.
            let detail = dialect.errorDetail(OAuthError(error, description), .authorize, client.id).flatMap { name, value in
                value.stringValue.map { [(name, $0)] }
            }
            return .redirect(Self.append(to: redirect, [("error", error)] + (detail ?? []) + (state.map { [("state", $0)] } ?? [])))
        }
        guard value("response_type") == "code" else { return fail("unsupported_response_type", "response_type must be code") }
        guard client.grants.contains(.authorizationCode) else {
            return fail("unauthorized_client", "client \(client.id) may not use authorization_code")
        }
        guard let aud = value("aud") else { return fail("invalid_request", "aud is required: the FHIR base URL, \(fhirBaseURL)") }
        guard aud.trimmingSuffix("/") == fhirBaseURL else {
            return fail("invalid_request", "aud '\(aud)' is not this server's FHIR base URL, \(fhirBaseURL)")
        }
        guard let challenge = value("code_challenge"), !challenge.isEmpty else {
            return fail("invalid_request", "code_challenge is required (PKCE)")
        }
        let method = value("code_challenge_method") ?? "plain"
        guard method == "S256" || (method == "plain" && settings.pkcePlain) else {
            return fail("invalid_request", "code_challenge_method must be S256" + (settings.pkcePlain ? " or plain" : ""))
        }
        let requested = Scopes.split(value("scope"))
        let granted: [String]
        switch grant(requested, client: client) {
        case .success(let scopes): granted = scopes
        case .failure(let error): return fail(error.error, error.description)
        }
        guard !granted.isEmpty else {
            return fail("invalid_scope", "none of the requested scopes is registered for \(client.id): \(requested.joined(separator: " "))")
        }
        let wantsPatient = granted.contains("launch/patient") || granted.contains { $0.hasPrefix("patient/") }
        let decision = client.autoApprove ? "approve" : value("decision")
        switch decision {
        case "approve":
            var patient: String?
            if wantsPatient {
                patient = client.autoApprove ? (client.launchPatient ?? "pat-0001") : value("patient")
                guard let chosen = patient, !chosen.isEmpty, chosen.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." })
                else {
                    return .page(400, Self.errorPage("Choose a patient."))
                }
            }
            let code = random.token() + random.token()
            self.state.codes.issue(
                CodeGrant(
                    client: client.id, redirectURI: redirect, scopes: granted, patient: patient, challenge: challenge,
                    challengeMethod: method,
                    expires: clock.now() + Int64(settings.codeSeconds) * 1000),
                code: code, now: clock.now())
            return .redirect(Self.append(to: redirect, [("code", code)] + (state.map { [("state", $0)] } ?? [])))
        case "deny":
            return fail("access_denied", "the user denied access")
        default:
            return .page(200, signInPage(parameters, client: client, scopes: granted, wantsPatient: wantsPatient, action: formAction))
        }
    }

    static func append(to url: String, _ parameters: [(name: String, value: String)]) -> String {
        url + (url.contains("?") ? "&" : "?") + QueryString.encode(parameters)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func errorPage(_ message: String) -> String {
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>fhir-sandbox: authorization error</title></head>"
            + "<body><h1>Authorization error</h1><p>\(escape(message))</p></body></html>"
    }

    func signInPage(
        _ parameters: [(name: String, value: String)], client: OAuthClient, scopes: [String], wantsPatient: Bool, action: String
    )
        -> String
    {
        let hidden = parameters.filter { !["decision", "patient", "username"].contains($0.name) }.map {
            "<input type=\"hidden\" name=\"\(Self.escape($0.name))\" value=\"\(Self.escape($0.value))\">"
        }.joined()
        var picker = ""
        if wantsPatient {
            let options = patients().map {
                "<option value=\"\(Self.escape($0.id))\">\(Self.escape($0.name)) — \(Self.escape($0.id))</option>"
            }
            picker = "<p><label>Patient <select name=\"patient\">\(options.joined())</select></label></p>"
        }
        return """
            <!doctype html><html><head><meta charset="utf-8"><title>fhir-sandbox: sign in</title>
            <style>body{font-family:sans-serif;max-width:40em;margin:2em auto}code{background:#eee;padding:0 .2em}</style></head>
            <body><h1>fhir-sandbox sign-in (\(Self.escape(profile)))</h1>
            <p>This is a test sandbox: any user name is accepted. <code>\(Self.escape(client.id))</code> asks for:
            <code>\(Self.escape(scopes.joined(separator: " ")))</code></p>
            <form method="post" action="\(Self.escape(action))">\(hidden)
            <p><label>User name <input name="username" value="clinician"></label></p>\(picker)
            <p><button name="decision" value="approve">Allow</button> <button name="decision" value="deny">Deny</button></p>
            </form></body></html>
            """
    }

    /// `{fhirBase}/.well-known/smart-configuration`, with absolute URLs on `origin`. `types`:
    /// the resource types the base serves (a server that refuses wildcard scopes advertises each
    /// type's scopes instead).
    public func discovery(origin: String, types: [String] = [], fhirBase: String? = nil) -> JSONObject {
        var document = JSONObject()
        let base = settings.issuerIsFHIRBase ? fhirBase.map { origin + $0 } : nil
        document["issuer"] = .string(base ?? settings.issuer ?? origin + settings.path)
        document["jwks_uri"] = .string(origin + settings.jwksPath)
        document["authorization_endpoint"] = .string(origin + settings.authorizePath)
        document["token_endpoint"] = .string(origin + settings.tokenPath)
        document["introspection_endpoint"] = .string(origin + settings.introspectPath)
        document["revocation_endpoint"] = .string(origin + settings.revokePath)
        document["grant_types_supported"] = .array(OAuthClient.Grant.allCases.map { .string($0.rawValue) })
        document["token_endpoint_auth_methods_supported"] = .array(
            AuthSettings.ClientAuthMethod.allCases.filter(settings.clientAuthMethods.contains).map { .string($0.rawValue) })
        document["token_endpoint_auth_signing_alg_values_supported"] = .array(
            JWSAlgorithm.allCases.filter(settings.assertionAlgorithms.contains).map { .string($0.rawValue) })
        document["response_types_supported"] = .array([.string("code")])
        document["code_challenge_methods_supported"] = .array((settings.pkcePlain ? ["S256", "plain"] : ["S256"]).map { .string($0) })
        var scopes = ["openid", "fhirUser", "launch", "launch/patient", "offline_access", "online_access"]
        // Wildcards where they are granted; otherwise the enumerated list (what a client may
        // actually ask for), type by type.
        let named = settings.wildcardScopes || types.isEmpty ? ["*"] : types
        for level in ["patient", "user", "system"] {
            for type in named {
                if settings.scopeSyntax != .v2 { scopes += ["\(level)/\(type).read", "\(level)/\(type).write"] }
                if settings.scopeSyntax != .v1 { scopes += ["\(level)/\(type).cruds", "\(level)/\(type).rs"] }
            }
        }
        if let advertised = settings.advertisedScopes {
            scopes = advertised.flatMap { pattern in
                pattern.contains("{type}") ? types.map { pattern.replacingOccurrences(of: "{type}", with: $0) } : [pattern]
            }
        }
        document["scopes_supported"] = .array(scopes.map { .string($0) })
        var capabilities = [
            "launch-standalone", "client-public", "client-confidential-symmetric", "client-confidential-asymmetric",
            "context-standalone-patient", "permission-offline", "permission-online", "permission-patient", "permission-user",
        ]
        if settings.scopeSyntax != .v2 { capabilities.append("permission-v1") }
        if settings.scopeSyntax != .v1 { capabilities.append("permission-v2") }
        capabilities += settings.extraCapabilities.filter { !capabilities.contains($0) }
        document["capabilities"] = .array(capabilities.map { .string($0) })
        return document
    }

    public var jwks: JSONObject { JSONObject(["keys": .array([.object(signer.publicJWK)])]) }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
