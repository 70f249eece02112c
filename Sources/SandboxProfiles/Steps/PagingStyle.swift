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
        /// Pages by number (`page=2`, from 1) instead of a context id: the search runs again with
        /// the page's offset (eClinicalWorks' `page`).
        public var numbered = false

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
    /// The base's page size without `_count` (numbered pages need it).
    let defaultPageSize: Int

    public init(settings: Settings, random: RandomSource, contexts: Contexts, defaultPageSize: Int = 20) {
        self.settings = settings
        self.random = random
        self.contexts = contexts
        self.defaultPageSize = defaultPageSize
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
        if style.numbered {
            guard let text = request.query.last(where: { $0.name == style.parameter })?.value else { return }
            request.query.removeAll { $0.name == style.parameter || $0.name == Self.token || $0.name == Self.offset }
            guard let number = Int(text), number >= 1, number <= 1 << 20 else {
                request.refusal = FHIRError(
                    .invalidParameter, "\(style.parameter) must be a page number from 1", expression: [style.parameter])
                return
            }
            let size = request.query.last(where: { $0.name == "_count" }).flatMap { Int($0.value) } ?? defaultPageSize
            request.query.append((Self.offset, String((number - 1) * max(size, 1))))
            return
        }
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
        if style.numbered {
            // The search's own parameters and the page number (the engine's token dropped).
            guard let offset = query.first(where: { $0.name == Self.offset }).flatMap({ Int($0.value) }) else { return url }
            let size = query.last(where: { $0.name == "_count" }).flatMap { Int($0.value) } ?? defaultPageSize
            var parameters = query.filter { $0.name != Self.token && $0.name != Self.offset && $0.name != style.parameter }
            parameters.append((style.parameter, String(offset / max(size, 1) + 1)))
            return path + "?" + QueryString.encode(parameters)
        }
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
