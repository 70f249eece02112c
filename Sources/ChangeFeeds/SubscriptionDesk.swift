import FHIRCore
import FHIRInteractions
import FHIRSearch
import FHIRStore

/// What a client may write as a `Subscription` (R4 §6.4 of the reference, rest-hook only): the
/// criteria a search on a type the sandbox notifies about, parsed by the server's own search
/// parser; `channel.type` `rest-hook`; an absolute `http://` endpoint; `channel.payload` absent
/// (an empty POST per change) or `application/fhir+json` (a PUT of the resource); `status`
/// `requested` or `off` (the server alone sets `active` and `error`). A write hook.
public struct SubscriptionDesk: WriteHook {
    /// Types whose changes notify: stored resources (their versions are committed changes) and
    /// Slot (its rows' changes, matched once committed).
    public static let types: Set<String> = ["Appointment", "Patient", "Schedule", "Encounter", "Communication", "Slot"]
    public static let payloads: Set<String> = ["application/fhir+json", "application/json"]

    let parser: SearchQueryParser

    public init(parser: SearchQueryParser) { self.parser = parser }

    /// Set while the server writes a status it decided (`active`, `error`).
    @TaskLocal static var serverWrite = false

    public func willStore(
        _ resource: JSONObject, old: JSONObject?, id: String, tx: StoreTransaction, now: Int64
    ) throws(FHIRError) -> JSONObject {
        let status = resource["status"]?.stringValue ?? ""
        // A topic (backport) subscription: the vendor's service checked its topic and filter.
        if Backport.isBackport(resource) {
            guard ["requested", "active", "off"].contains(status) else {
                throw FHIRError(.businessRule, "a topic subscription is requested, active or off", expression: ["Subscription.status"])
            }
            return try Self.channel(resource)
        }
        if !Self.serverWrite {
            guard status == "requested" || status == "off" else {
                throw FHIRError(
                    .businessRule, "a client writes a Subscription as requested (or off); the server sets active and error",
                    expression: ["Subscription.status"])
            }
        }
        _ = try Self.criteria(resource, parser: parser, now: now)
        return try Self.channel(resource)
    }

    /// The rest-hook channel's rules (type, endpoint, payload, headers).
    static func channel(_ resource: JSONObject) throws(FHIRError) -> JSONObject {
        let channel = resource["channel"]
        guard channel?["type"]?.stringValue == "rest-hook" else {
            throw FHIRError(
                .businessRule, "channel.type must be rest-hook (the only channel this server delivers)",
                expression: ["Subscription.channel.type"])
        }
        let endpoint = channel?["endpoint"]?.stringValue ?? ""
        guard endpoint.hasPrefix("http://"), endpoint.count > "http://".count else {
            throw FHIRError(
                .businessRule, "channel.endpoint must be an absolute http:// URL (the sandbox delivers over plain HTTP)",
                expression: ["Subscription.channel.endpoint"])
        }
        if let payload = channel?["payload"]?.stringValue, !Self.payloads.contains(payload) {
            throw FHIRError(
                .businessRule, "channel.payload must be application/fhir+json, or absent for notifications without a body",
                expression: ["Subscription.channel.payload"])
        }
        for (index, header) in (channel?["header"]?.arrayValue ?? []).enumerated() {
            let text = header.stringValue ?? ""
            guard let colon = text.firstIndex(of: ":"), colon != text.startIndex, !text.contains("\r"), !text.contains("\n") else {
                throw FHIRError(
                    .businessRule, "channel.header entries are 'Name: value' lines", expression: ["Subscription.channel.header[\(index)]"])
            }
        }
        return resource
    }

    public func willDelete(_ old: JSONObject, id: String, tx: StoreTransaction, now: Int64) throws(FHIRError) {}

    /// The criteria's type and parameters (422 naming `Subscription.criteria` when the server
    /// cannot evaluate them).
    static func criteria(_ resource: JSONObject, parser: SearchQueryParser, now: Int64) throws(FHIRError) -> Criteria {
        let text = resource["criteria"]?.stringValue ?? ""
        let type = String(text.prefix { $0 != "?" })
        guard types.contains(type) else {
            throw FHIRError(
                .businessRule,
                "criteria must be a search on \(types.sorted().joined(separator: ", ")), like Appointment?status=cancelled; not '\(text)'",
                expression: ["Subscription.criteria"])
        }
        let query = text.count > type.count ? String(text.dropFirst(type.count + 1)) : ""
        let parameters = QueryString.parse(query)
        for parameter in parameters where parameter.name.hasPrefix("_") && parameter.name != "_id" && parameter.name != "_lastUpdated" {
            throw FHIRError(
                .businessRule, "criteria take search parameters only, not \(parameter.name)", expression: ["Subscription.criteria"])
        }
        do {
            _ = try parser.parse(type: type, parameters: parameters, strict: true, now: now)
        } catch {
            throw FHIRError(.businessRule, "criteria: \(error.message)", expression: ["Subscription.criteria"])
        }
        return Criteria(type: type, parameters: parameters)
    }
}

/// A subscription's criteria: a search on one type.
struct Criteria: Sendable {
    let type: String
    let parameters: [(name: String, value: String)]
}
