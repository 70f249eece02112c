import FHIRCore
import FHIRStore

extension FHIRService {
    /// The paging parameter of `_history`'s `next` links: the commit position to continue before.
    static let historyBefore = "_page_before"

    /// `_history` at instance, type and system level, newest first, with `_since` and `_count`
    /// (default 100), paged by `next` links.
    func history(_ request: FHIRRequest, type: String?, id: String?) throws(FHIRError) -> FHIRResponse {
        var count = 100
        var since: Int64?
        var before: Int64?
        var applied: [(name: String, value: String)] = []
        for (name, value) in request.query {
            switch name {
            case "_count":
                guard let number = Int(value), number >= 0 else {
                    throw FHIRError(.invalidParameter, "_count must be a non-negative integer, not '\(value)'", expression: ["_count"])
                }
                count = min(number, settings.maxHistory)
                applied.append((name, value))
            case "_since":
                guard let instant = FHIRDateTime.parse(value, form: .search) else {
                    throw FHIRError(
                        .invalidParameter, "_since must be an instant such as 2026-04-13T08:00:00Z, not '\(value)'", expression: ["_since"])
                }
                since = instant.range(in: zone).lo
                applied.append((name, value))
            case Self.historyBefore:
                guard let position = Int64(value), position > 0 else {
                    throw FHIRError(.invalidParameter, "\(Self.historyBefore) must be a position from a next link", expression: [name])
                }
                before = position
            case "_format", "_pretty":
                continue
            default:
                if isStrict(request) {
                    throw FHIRError(.unknownParameter, "parameter '\(name)' is not supported for history", expression: [name])
                }
            }
        }
        if let type, let id, try store.read(type, id) == nil {
            throw FHIRError(.notFound, "\(type)/\(id) does not exist")
        }
        let (versions, next) = try store.history(type: type, id: id, since: since, before: before, limit: count)
        var bundle = BundleBuilder(type: "history", id: random.uuid(), timestamp: InstantFormat.iso(clock.now()))
        var path = request.baseURL
        if let type { path += "/\(type)" }
        if let id { path += "/\(id)" }
        path += "/_history"
        let page = applied + (before.map { [(name: Self.historyBefore, value: String($0))] } ?? [])
        bundle.links.append(("self", page.isEmpty ? path : "\(path)?\(QueryString.encode(page))"))
        // Later pages continue from a commit position, so versions written meanwhile (they are
        // newer) neither shift nor repeat entries.
        if let next {
            bundle.links.append(("next", "\(path)?\(QueryString.encode(applied + [(name: Self.historyBefore, value: String(next))]))"))
        }
        for version in versions {
            let url = "\(version.type)/\(version.id)"
            let status: String
            switch version.method {
            case "POST": status = "201 Created"
            case "DELETE": status = "204 No Content"
            default: status = version.version == 1 ? "201 Created" : "200 OK"
            }
            bundle.entries.append(
                .init(
                    fullURL: "\(request.baseURL)/\(url)", resource: version.body,
                    request: (version.method, version.method == "POST" ? version.type : url),
                    response: (status, nil, "W/\"\(version.version)\"", InstantFormat.iso(version.lastUpdated))))
        }
        return .json(200, bundle.bytes())
    }
}
