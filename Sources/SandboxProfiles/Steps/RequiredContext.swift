import FHIRCore
import FHIRInteractions

/// A query parameter every FHIR call of a base must carry with one value — a vendor's tenant
/// context (a practice) — reads included, `metadata` exempt. With it the parameter is taken off
/// the request (the engine never sees it); without it, or with another value, the vendor's
/// refusal: its status and body, which need not be an OperationOutcome. A pipeline step, first
/// of all (before ids are rewritten).
public struct RequiredContext: FHIRRequestStep {
    public struct Rule: Sendable, Equatable {
        public var parameter: String
        public var value: String
        public var status: Int
        /// The refusal's body, sent as `contentType`.
        public var body: String
        public var contentType: String

        public init(parameter: String, value: String, status: Int, body: String, contentType: String) {
            self.parameter = parameter
            self.value = value
            self.status = status
            self.body = body
            self.contentType = contentType
        }
    }

    public let rule: Rule

    public init(rule: Rule) { self.rule = rule }

    static func exempt(_ request: FHIRRequest) -> Bool { request.segments.first == "metadata" }

    /// Takes the parameter off when every occurrence names the context; otherwise leaves it
    /// (a missing one as an empty value) for `check` to refuse.
    public func rewrite(_ request: inout FHIRRequest) {
        guard !Self.exempt(request) else { return }
        let values = request.query.filter { $0.name == rule.parameter }.map(\.value)
        if values.isEmpty {
            request.query.append((rule.parameter, ""))
        } else if values.allSatisfy({ $0 == rule.value }) {
            request.query.removeAll { $0.name == rule.parameter }
        }
    }

    /// Page links carry the context again (the engine wrote them without it), so a client that
    /// follows `next` stays in the practice.
    public func finish(_ response: inout FHIRResponse, for request: FHIRRequest) {
        guard !Self.exempt(request), case .object(var bundle)? = response.jsonBody(), bundle["resourceType"]?.stringValue == "Bundle",
            let links = bundle["link"]?.arrayValue
        else { return }
        let pair = QueryString.encode([(rule.parameter, rule.value)])
        bundle["link"] = .array(
            links.map { link in
                guard case .object(var object) = link, let url = object["url"]?.stringValue,
                    !url.contains("\(rule.parameter)=")
                else { return link }
                object["url"] = .string(url + (url.contains("?") ? "&" : "?") + pair)
                return .object(object)
            })
        response.setJSONBody(.object(bundle))
    }

    /// The vendor's refusal when the parameter is still there: missing, or another value.
    public func check(_ request: FHIRRequest) -> FHIRResponse? {
        guard !Self.exempt(request), request.query.contains(where: { $0.name == rule.parameter }) else { return nil }
        return FHIRResponse(status: rule.status, headers: [("Content-Type", rule.contentType)], body: Array(rule.body.utf8))
    }
}
