import FHIRCore
import FHIRInteractions
import Foundation

/// How a profile answers writes, as data: e.g. a create with `201`, no body, a `Location` and
/// `ETag: W/"0"`, a patch with `200`, no body and `Content-Type: text/html`, `If-Match` required
/// on updates, versions counted from 0. A pipeline step.
public struct WriteShaping: FHIRRequestStep {
    public struct Settings: Sendable, Equatable {
        /// `empty`: a successful create has no body (R4 `Prefer` is ignored).
        public var emptyCreate = false
        /// A successful update or patch has no body and this Content-Type (nil: R4 behaviour).
        public var emptyUpdateContentType: String?
        /// Interactions (`update`, `patch`) refused with 412 without `If-Match`.
        public var requireIfMatch: Set<String> = []
        /// How stored version numbers show in ETags, `Location`s and `meta.versionId` (an offset:
        /// -1, so a new resource is `W/"0"`; a suffix on some types: `W/"10-1"`). The engine reads
        /// `If-Match` through the same labels (`FHIRServiceSettings.versions`).
        public var versions = VersionLabels()
        /// Whether a create's `Location` names the version (`…/Type/id/_history/n`, R4) or
        /// only the resource (`…/Type/id`, as Cerner documents it).
        public var versionInLocation = true
        /// The Appointment write rules: `r4`, or a name in `Strategies.appointments`.
        public var appointments = "r4"

        public init() {}

        public var isDefault: Bool {
            var plain = self
            plain.appointments = "r4"
            return plain == Settings()
        }
    }

    public let settings: Settings
    /// Per type, the interactions the base serves (`resources.interactions`; a type not listed
    /// serves all): an interaction it does not serve answers 405 first, before any `If-Match` rule.
    public let interactions: [String: [String]]

    public init(settings: Settings, interactions: [String: [String]] = [:]) {
        self.settings = settings
        self.interactions = interactions
    }

    /// An entry's `ifMatch` is in the profile's version numbering, and its requirement holds.
    public var appliesToEntries: Bool { true }

    static func interaction(_ request: FHIRRequest) -> String? {
        switch (request.method, request.segments.count) {
        case ("POST", 1): return request.segments[0].first?.isUppercase == true ? "create" : nil
        case ("PUT", 2): return "update"
        case ("PATCH", 2): return "patch"
        default: return nil
        }
    }

    public func check(_ request: FHIRRequest) -> FHIRResponse? {
        guard let interaction = Self.interaction(request), settings.requireIfMatch.contains(interaction), request.headers.ifMatch == nil,
            interactions[request.segments[0]].map({ $0.contains(interaction) }) ?? true
        else { return nil }
        return .error(FHIRError(.ifMatchRequired, "If-Match is required: \(request.method) needs the version being changed (an ETag)"))
    }

    public func finish(_ response: inout FHIRResponse, for request: FHIRRequest) {
        guard !settings.isDefault, let interaction = Self.interaction(request) else {
            if !settings.versions.isIdentity { shift(&response, for: request) }
            return
        }
        shift(&response, for: request)
        guard (200...299).contains(response.status) else { return }
        if interaction == "create", !settings.versionInLocation {
            response.headers = response.headers.map { header in
                guard header.name.lowercased() == "location", let range = header.value.range(of: "/_history/") else { return header }
                return (header.name, String(header.value[..<range.lowerBound]))
            }
        }
        if interaction == "create" && settings.emptyCreate && response.status == 201 {
            response.body = []
            response.headers.removeAll { $0.name.lowercased() == "content-type" }
        }
        if (interaction == "update" || interaction == "patch"), response.status == 200, let type = settings.emptyUpdateContentType {
            response.body = []
            response.headers.removeAll { $0.name.lowercased() == "content-type" }
            response.headers.append(("Content-Type", type))
        }
    }

    /// Relabels versions (`VersionLabels`) in ETag, Location and the body's `meta.versionId`s
    /// and entry ETags.
    func shift(_ response: inout FHIRResponse, for request: FHIRRequest) {
        let labels = settings.versions
        guard !labels.isIdentity else { return }
        let requestType = request.segments.first.flatMap { $0.first?.isUppercase == true ? $0 : nil } ?? ""
        response.headers = response.headers.map { header in
            switch header.name.lowercased() {
            case "etag":
                guard let version = Int(VersionLabels.label(ofETag: header.value)) else { return header }
                return (header.name, labels.etag(version, type: requestType))
            case "location", "content-location":
                guard let (path, type, version) = Self.historyPath(header.value) else { return header }
                return (header.name, path + labels.label(version, type: type))
            default: return header
            }
        }
        guard let json = response.jsonBody() else { return }
        response.setJSONBody(Self.relabel(json, labels: labels, type: requestType))
    }

    /// `…/Type/id/_history/` with the type and stored version of a versioned URL.
    static func historyPath(_ url: String) -> (String, String, Int)? {
        guard let range = url.range(of: "/_history/"), let version = Int(url[range.upperBound...]) else { return nil }
        let parts = url[..<range.lowerBound].split(separator: "/")
        let type = parts.count >= 2 ? String(parts[parts.count - 2]) : ""
        return (String(url[..<range.upperBound]), type, version)
    }

    /// Relabels `versionId`s (in the type of the resource around them) and entry ETags (in the
    /// type their `location` names).
    static func relabel(_ json: JSON, labels: VersionLabels, type: String) -> JSON {
        switch json {
        case .object(var object):
            let here = object["resourceType"]?.stringValue ?? type
            let entryType = object["location"]?.stringValue.flatMap(historyPath).map(\.1) ?? here
            for member in object {
                if member.key == "versionId", let version = member.value.stringValue.flatMap({ Int($0) }) {
                    object[member.key] = .string(labels.label(version, type: here))
                } else if member.key == "etag", let version = member.value.stringValue.flatMap({ Int(VersionLabels.label(ofETag: $0)) }) {
                    object[member.key] = .string(labels.etag(version, type: entryType))
                } else if member.key == "location", let text = member.value.stringValue, let (path, type, version) = historyPath(text) {
                    object[member.key] = .string(path + labels.label(version, type: type))
                } else {
                    object[member.key] = relabel(member.value, labels: labels, type: here)
                }
            }
            return .object(object)
        case .array(let items): return .array(items.map { relabel($0, labels: labels, type: type) })
        default: return json
        }
    }
}
