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
        /// Added to stored version numbers in ETags, `Location`s and `meta.versionId`
        /// (Cerner: -1, so a new resource is `W/"0"`); subtracted from `If-Match`.
        public var versionOffset = 0
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

    public func rewrite(_ request: inout FHIRRequest) {
        guard settings.versionOffset != 0, let ifMatch = request.headers.ifMatch, let version = Self.number(in: ifMatch) else { return }
        request.headers.ifMatch = "W/\"\(version - settings.versionOffset)\""
    }

    public func check(_ request: FHIRRequest) -> FHIRResponse? {
        guard let interaction = Self.interaction(request), settings.requireIfMatch.contains(interaction), request.headers.ifMatch == nil,
            interactions[request.segments[0]].map({ $0.contains(interaction) }) ?? true
        else { return nil }
        return .error(FHIRError(.ifMatchRequired, "If-Match is required: \(request.method) needs the version being changed (an ETag)"))
    }

    public func finish(_ response: inout FHIRResponse, for request: FHIRRequest) {
        guard !settings.isDefault, let interaction = Self.interaction(request) else {
            if settings.versionOffset != 0 { shift(&response) }
            return
        }
        shift(&response)
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

    /// Applies the version offset to ETag, Location and the body's `meta.versionId`s.
    func shift(_ response: inout FHIRResponse) {
        let offset = settings.versionOffset
        guard offset != 0 else { return }
        response.headers = response.headers.map { header in
            switch header.name.lowercased() {
            case "etag":
                guard let version = Self.number(in: header.value) else { return header }
                return (header.name, "W/\"\(version + offset)\"")
            case "location", "content-location":
                guard let range = header.value.range(of: "/_history/"), let version = Int(header.value[range.upperBound...]) else {
                    return header
                }
                return (header.name, String(header.value[..<range.upperBound]) + String(version + offset))
            default: return header
            }
        }
        guard let json = response.jsonBody() else { return }
        response.setJSONBody(Self.shiftVersions(json, by: offset))
    }

    static func shiftVersions(_ json: JSON, by offset: Int) -> JSON {
        switch json {
        case .object(var object):
            for member in object {
                if member.key == "versionId", let version = member.value.stringValue.flatMap({ Int($0) }) {
                    object[member.key] = .string(String(version + offset))
                } else if member.key == "etag", let version = member.value.stringValue.flatMap(number) {
                    object[member.key] = .string("W/\"\(version + offset)\"")
                } else {
                    object[member.key] = shiftVersions(member.value, by: offset)
                }
            }
            return .object(object)
        case .array(let items): return .array(items.map { shiftVersions($0, by: offset) })
        default: return json
        }
    }

    static func number(in etag: String) -> Int? {
        Int(etag.replacing("W/", with: "").trimmingCharacters(in: "\" "))
    }
}
