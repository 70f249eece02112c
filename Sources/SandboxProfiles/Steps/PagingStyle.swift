import FHIRCore
import FHIRInteractions

/// A vendor's paging links, as data (`search.paging`): the engine pages with its own
/// `_page_token`/`_page_offset`; this step shows each page as an opaque context id in the
/// vendor's parameter (e.g. `pageContext=<uuid>&direction=NEXT`, or
/// `-pageContext=<uuid>&-pageDirection=NEXT` without the original parameters), keeps only the
/// vendor's link relations, and maps a context id back on the way in. An unknown or expired
/// context id is a 400 (the search must be run again), never a search without criteria.
public struct PagingStyle: FHIRRequestStep {
    public struct Style: Sendable, Equatable {
        /// The parameter carrying the page's context id.
        public var parameter = "pageContext"
        /// The parameter carrying NEXT/PREVIOUS (nil: none).
        public var direction: String? = "direction"
        /// Whether links repeat the search's parameters (Cerner's Slot links drop them).
        public var keepParameters = true

        public init() {}
    }

    public struct Settings: Sendable, Equatable {
        /// The link relations shown (others are removed; nil: all).
        public var links: [String]?
        public var style = Style()
        /// Per resource type, another style.
        public var byType: [String: Style] = [:]

        public init() {}

        public func style(for type: String?) -> Style { type.flatMap { byType[$0] } ?? style }
    }

    /// One tenant's context ids and the engine pages they stand for (part of its state).
    public final class Contexts: Sendable {
        let pages: BoundedCache<(token: String, offset: String)>

        public init(capacity: Int = 4096) { pages = BoundedCache(capacity: capacity) }

        public func removeAll() { pages.removeAll() }
    }

    public let settings: Settings
    let contexts: Contexts
    let random: RandomSource

    public init(settings: Settings, random: RandomSource, contexts: Contexts) {
        self.settings = settings
        self.random = random
        self.contexts = contexts
    }

    /// An entry's search pages like a request's.
    public var appliesToEntries: Bool { true }

    static let token = "_page_token"
    static let offset = "_page_offset"

    func isSearch(_ request: FHIRRequest) -> Bool {
        (request.method == "GET" && request.segments.count == 1) || (request.method == "POST" && request.segments.last == "_search")
    }

    public func rewrite(_ request: inout FHIRRequest) {
        guard isSearch(request) else { return }
        let style = settings.style(for: request.segments.first)
        guard let context = request.query.last(where: { $0.name == style.parameter })?.value else { return }
        request.query.removeAll {
            $0.name == style.parameter || $0.name == style.direction || $0.name == Self.token || $0.name == Self.offset
        }
        guard let page = contexts.pages.value(for: context) else {
            // The engine must not run a search without its criteria.
            request.refusal = FHIRError(
                .invalidParameter, "\(style.parameter) is unknown or has expired: run the search again", expression: [style.parameter])
            return
        }
        request.query += [(Self.token, page.token), (Self.offset, page.offset)]
    }

    public func check(_ request: FHIRRequest) -> FHIRResponse? { nil }

    public func finish(_ response: inout FHIRResponse, for request: FHIRRequest) {
        guard isSearch(request), response.status == 200, case .object(var bundle)? = response.jsonBody(),
            bundle["resourceType"]?.stringValue == "Bundle", let links = bundle["link"]?.arrayValue
        else { return }
        let style = settings.style(for: request.segments.first)
        var shown: [JSON] = []
        for link in links {
            guard let relation = link["relation"]?.stringValue, let url = link["url"]?.stringValue else { continue }
            if let allowed = settings.links, !allowed.contains(relation) { continue }
            shown.append(
                .object(JSONObject(["relation": .string(relation), "url": .string(vendorURL(url, relation: relation, style: style))])))
        }
        bundle["link"] = shown.isEmpty ? nil : .array(shown)
        response.setJSONBody(.object(bundle))
    }

    /// The engine's paging parameters replaced by a new context id in the vendor's form.
    func vendorURL(_ url: String, relation: String, style: Style) -> String {
        guard let mark = url.firstIndex(of: "?") else { return url }
        let path = String(url[..<mark])
        let query = QueryString.parse(String(url[url.index(after: mark)...]))
        guard let token = query.first(where: { $0.name == Self.token })?.value,
            let offset = query.first(where: { $0.name == Self.offset })?.value
        else { return url }
        let context = random.uuid()
        contexts.pages.store((token, offset), for: context)
        var parameters = style.keepParameters ? query.filter { $0.name != Self.token && $0.name != Self.offset } : []
        parameters.append((style.parameter, context))
        if let direction = style.direction, relation == "next" || relation == "previous" {
            parameters.append((direction, relation == "next" ? "NEXT" : "PREVIOUS"))
        }
        return path + "?" + QueryString.encode(parameters)
    }

}
