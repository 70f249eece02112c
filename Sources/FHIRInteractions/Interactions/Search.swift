import FHIRCore
import FHIRSearch
import FHIRStore

extension FHIRService {
    /// Paging parameters the server writes into `next`/`previous` links.
    static let pageToken = "_page_token"
    static let pageOffset = "_page_offset"

    /// `GET [base]/[type]?...` and `POST [base]/[type]/_search`.
    func search(_ request: FHIRRequest, type: String, decision: Access.Decision = .allowed) throws(FHIRError) -> FHIRResponse {
        var parameters = request.query
        if request.method == "POST" {
            let media = request.headers.contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: " ").lowercased() }
            if let body = request.body, !body.isEmpty {
                guard media == "application/x-www-form-urlencoded" else {
                    throw FHIRError(.unsupportedMediaType, "POST _search takes application/x-www-form-urlencoded parameters")
                }
                parameters += QueryString.parse(String(decoding: body, as: UTF8.self))
            }
        }
        let token = parameters.last { $0.name == Self.pageToken }?.value
        if token == nil {
            parameters = settings.rules.resolvingAliases(type, parameters)
            parameters = try resolvingDerivedIdentifiers(type, parameters)
            parameters = settings.rules.implied(type, given: parameters) + parameters
        }
        let offsetText = parameters.last { $0.name == Self.pageOffset }?.value
        parameters.removeAll { $0.name == Self.pageToken || $0.name == Self.pageOffset }
        var offset = 0
        if let offsetText {
            guard let value = Int(offsetText), value >= 0 else {
                throw FHIRError(.invalidParameter, "\(Self.pageOffset) must be a non-negative integer")
            }
            // Past any result set's end (and far from overflowing when a page size is added).
            offset = min(value, 1 << 30)
        }
        var query = try searchParser().parse(type: type, parameters: parameters, strict: isStrict(request), now: clock.now())
        let rules = settings.rules
        // The profile's order when the client asks for none (a vendor's Appointments by start).
        if query.sort.isEmpty, let order = rules.search[type]?.sort { query.sort = try searchParser().sortKeys(order, type: type) }
        // One store session: the query (unless a continuation page reads its cached result set),
        // the page's bodies and its includes all see the same state and take the lock once.
        let cached = token.flatMap { tenant.pages.entry($0) }
        if token != nil, cached == nil, rules.expiredPages == .error {
            throw FHIRError(.pageExpired, "the paging session has expired: run the search again", expression: [Self.pageToken])
        }
        let pageSize = query.count ?? cached?.count ?? settings.defaultPageSize
        // An expired page token runs the search again: with its criteria checked.
        if cached == nil {
            try rules.checkCriteria(query)
            try checkIncludes(query, access: request.access)
        }
        let now = clock.now()
        let (entry, matches, included) = try store.read { reader throws(FHIRError) in
            let entry: PageCache.Entry
            if let cached {
                entry = cached
            } else {
                let keys: [VersionKey]
                if request.unknownID {
                    keys = []
                } else if let provider = providers[type] {
                    keys = try provider.search(query, reader: reader, now: now)
                } else if let minimum = rules.search[type]?.weightedMatch, type == "Patient",
                    let ids = try PatientMatch.weighted(
                        parameters, minimum: minimum, parser: searchParser(),
                        search: { query throws(FHIRError) in try reader.bodies(try reader.search(query)) })
                {
                    keys = try reader.keys("Patient", ids: ids)
                } else {
                    keys = try reader.search(query)
                }
                let confined = try confine(keys, to: decision, reader: reader)
                try rules.checkCount(type, confined.count)
                entry = PageCache.Entry(
                    keys: confined, query: QueryString.encode(query.applied),
                    includes: query.includes.map {
                        .init(sourceType: $0.sourceType, parameter: $0.parameter.name, targetType: $0.targetType)
                    },
                    revIncludes: query.revIncludes.map {
                        .init(sourceType: $0.sourceType, parameter: $0.parameter.name, targetType: $0.targetType)
                    },
                    warnings: query.warnings, count: query.count)
            }
            guard !query.summaryCount else { return (entry, [(VersionKey, [UInt8])](), [(VersionKey, [UInt8])]()) }
            let page = offset < entry.keys.count ? Array(entry.keys[offset..<min(offset + pageSize, entry.keys.count)]) : []
            var seen = Set(page.map { "\($0.type)/\($0.id)" })
            var included: [VersionKey] = []
            for include in entry.includes {
                included += try self.included(from: page, include, reader: reader)
            }
            for include in entry.revIncludes {
                included += try reader.revIncluded(page, sourceType: include.sourceType, parameter: include.parameter)
            }
            // Included resources the token may not read are left out (SMART: scopes bound every
            // resource returned, not only the searched type).
            included = included.filter { seen.insert("\($0.type)/\($0.id)").inserted && request.access?.decide($0.type, .read) != .denied }
            included = try confine(included, to: decision, reader: reader)
            return (entry, try bodies(page, reader: reader, now: now), try bodies(included, reader: reader, now: now))
        }
        var bundle = BundleBuilder(type: "searchset", id: random.uuid(), timestamp: InstantFormat.iso(clock.now()))
        if query.total != .none || query.summaryCount {
            switch rules.total {
            case .accurate: bundle.total = entry.keys.count
            case .pageSizeWhenCount: bundle.total = query.count == nil ? entry.keys.count : matches.count
            case .none: if query.summaryCount { bundle.total = entry.keys.count }
            }
        }
        let base = "\(request.baseURL)/\(type)"
        func link(_ extra: [(name: String, value: String)]) -> String {
            let encoded = [entry.query, QueryString.encode(extra)].filter { !$0.isEmpty }.joined(separator: "&")
            return encoded.isEmpty ? base : "\(base)?\(encoded)"
        }
        if query.summaryCount {
            bundle.links.append(("self", link([])))
            return .json(200, bundle.bytes())
        }
        let pageToken: String?
        if entry.keys.count > pageSize {
            let newToken = token.flatMap { cached != nil ? $0 : nil } ?? random.token()
            if cached == nil { tenant.pages.store(entry, token: newToken) }
            pageToken = newToken
        } else {
            pageToken = nil
        }
        let paging: (Int) -> [(name: String, value: String)] = { start in
            guard let pageToken else { return [] }
            return [(Self.pageToken, pageToken), (Self.pageOffset, String(start))]
        }
        bundle.links.append(("self", link(offset == 0 ? [] : paging(offset))))
        if pageToken != nil {
            bundle.links.append(("first", link(paging(0))))
            if offset + pageSize < entry.keys.count { bundle.links.append(("next", link(paging(offset + pageSize)))) }
            if offset > 0 { bundle.links.append(("previous", link(paging(max(0, offset - pageSize))))) }
            let lastStart = max(0, (entry.keys.count - 1) / max(pageSize, 1) * pageSize)
            bundle.links.append(("last", link(paging(lastStart))))
        }
        for (key, body) in matches {
            bundle.entries.append(.init(fullURL: "\(request.baseURL)/\(key.type)/\(key.id)", resource: body, searchMode: "match"))
        }
        for (key, body) in included {
            bundle.entries.append(.init(fullURL: "\(request.baseURL)/\(key.type)/\(key.id)", resource: body, searchMode: "include"))
        }
        var outcome = entry.warnings.map { rules.dialect.decorate($0, kind: "unknownParameterIgnored") }
        if entry.keys.isEmpty && rules.emptyResult == .outcome {
            outcome.append(
                rules.dialect.decorate(
                    .init(severity: "warning", code: "not-found", message: "No \(type) resources match the search"), kind: "noMatches"))
        }
        if !outcome.isEmpty {
            bundle.entries.append(.init(resource: OperationOutcome.make(outcome).bytes, searchMode: "outcome"))
        }
        return .json(200, bundle.bytes())
    }

    /// The profile's `_include` rules: at most `maxIncludes`, and with `includeNeedsScope` a
    /// read scope for every type an `_include` may bring (403 otherwise).
    func checkIncludes(_ query: SearchQuery, access: Access?) throws(FHIRError) {
        let rules = settings.rules
        if let most = rules.maxIncludes, query.includes.count > most {
            throw FHIRError(
                .invalidParameter, "at most \(most) _include per search (comma lists and repeats are not supported)",
                expression: ["_include"])
        }
        guard rules.includeNeedsScope, let access else { return }
        for include in query.includes {
            let targets = include.targetType.map { [$0] } ?? include.parameter.targets
            for target in targets where registry.supports(target) { _ = try access.require(target, .read) }
        }
    }

    /// `_include` targets, through the provider of the source or the target type when there is one.
    func included(from page: [VersionKey], _ include: PageCache.IncludeRequest, reader: StoreReader) throws(FHIRError) -> [VersionKey] {
        if let provider = providers[include.sourceType] {
            return try provider.included(from: page, parameter: include.parameter, targetType: include.targetType, reader: reader)
        }
        let targets = registry.parameter(include.parameter, of: include.sourceType)?.targets ?? []
        var keys = try reader.included(from: page, parameter: include.parameter, targetType: include.targetType)
        for target in targets where include.targetType == nil || include.targetType == target {
            guard let provider = providers[target] else { continue }
            let ids = try reader.referencedIDs(from: page, parameter: include.parameter, targetType: target)
            keys += try provider.keys(ids, reader: reader)
        }
        return keys
    }

    /// Bodies of generic and provider-served resources, in key order.
    func bodies(_ keys: [VersionKey], reader: StoreReader, now: Int64) throws(FHIRError) -> [(VersionKey, [UInt8])] {
        guard keys.contains(where: { providers[$0.type] != nil }) else { return try reader.bodies(keys) }
        if let type = keys.first?.type, let provider = providers[type], keys.allSatisfy({ $0.type == type }) {
            return try provider.bodies(keys, reader: reader, now: now)
        }
        var result: [(VersionKey, [UInt8])] = []
        for key in keys {
            if let provider = providers[key.type] {
                result += try provider.bodies([key], reader: reader, now: now)
            } else {
                result += try reader.bodies([key])
            }
        }
        return result
    }
}
