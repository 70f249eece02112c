/// Builds Bundle resources (searchset, history, batch-response, transaction-response).
public struct BundleBuilder: Sendable {
    public struct Entry: Sendable {
        public var fullURL: String?
        /// The resource as already-serialised JSON bytes (stored bytes are embedded unchanged).
        public var resource: [UInt8]?
        public var searchMode: String?
        /// `search.score` (0...1) and the `match-grade` extension, for `$match` results.
        public var searchScore: String?
        public var matchGrade: String?
        public var request: (method: String, url: String)?
        public var response: (status: String, location: String?, etag: String?, lastModified: String?)?
        public var outcome: [UInt8]?

        public init(
            fullURL: String? = nil, resource: [UInt8]? = nil, searchMode: String? = nil,
            request: (method: String, url: String)? = nil,
            response: (status: String, location: String?, etag: String?, lastModified: String?)? = nil,
            outcome: [UInt8]? = nil
        ) {
            self.fullURL = fullURL
            self.resource = resource
            self.searchMode = searchMode
            self.request = request
            self.response = response
            self.outcome = outcome
        }
    }

    public var type: String
    public var id: String?
    public var timestamp: String?
    public var total: Int?
    public var links: [(relation: String, url: String)] = []
    public var entries: [Entry] = []

    public init(type: String, id: String? = nil, timestamp: String? = nil) {
        self.type = type
        self.id = id
        self.timestamp = timestamp
    }

    /// Serialises the bundle, splicing stored resource bytes in without re-encoding them.
    public func bytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(entries.reduce(256) { $0 + ($1.resource?.count ?? 0) + 128 })
        func raw(_ text: StaticString) { text.withUTF8Buffer { out.append(contentsOf: $0) } }
        func number(_ value: Int) { out.append(contentsOf: String(value).utf8) }
        func string(_ text: String) { JSONWriter.writeString(text, into: &out) }
        raw("{\"resourceType\":\"Bundle\"")
        if let id {
            raw(",\"id\":")
            string(id)
        }
        if let timestamp {
            raw(",\"meta\":{\"lastUpdated\":")
            string(timestamp)
            raw("}")
        }
        raw(",\"type\":")
        string(type)
        if let timestamp {
            raw(",\"timestamp\":")
            string(timestamp)
        }
        if let total {
            raw(",\"total\":")
            number(total)
        }
        if !links.isEmpty {
            raw(",\"link\":[")
            for (offset, link) in links.enumerated() {
                if offset > 0 { raw(",") }
                raw("{\"relation\":")
                string(link.relation)
                raw(",\"url\":")
                string(link.url)
                raw("}")
            }
            raw("]")
        }
        if !entries.isEmpty {
            raw(",\"entry\":[")
            for (offset, entry) in entries.enumerated() {
                if offset > 0 { raw(",") }
                raw("{")
                var first = true
                func key(_ name: StaticString) {
                    if !first { raw(",") }
                    first = false
                    raw("\"")
                    raw(name)
                    raw("\":")
                }
                if let fullURL = entry.fullURL {
                    key("fullUrl")
                    string(fullURL)
                }
                if let resource = entry.resource {
                    key("resource")
                    out.append(contentsOf: resource)
                }
                if let mode = entry.searchMode {
                    key("search")
                    raw("{")
                    if let grade = entry.matchGrade {
                        raw("\"extension\":[{\"url\":\"http://hl7.org/fhir/StructureDefinition/match-grade\",\"valueCode\":")
                        string(grade)
                        raw("}],")
                    }
                    raw("\"mode\":")
                    string(mode)
                    if let score = entry.searchScore {
                        raw(",\"score\":")
                        out.append(contentsOf: score.utf8)
                    }
                    raw("}")
                }
                if let request = entry.request {
                    key("request")
                    raw("{\"method\":")
                    string(request.method)
                    raw(",\"url\":")
                    string(request.url)
                    raw("}")
                }
                if let response = entry.response {
                    key("response")
                    raw("{\"status\":")
                    string(response.status)
                    if let location = response.location {
                        raw(",\"location\":")
                        string(location)
                    }
                    if let etag = response.etag {
                        raw(",\"etag\":")
                        string(etag)
                    }
                    if let lastModified = response.lastModified {
                        raw(",\"lastModified\":")
                        string(lastModified)
                    }
                    if let outcome = entry.outcome {
                        raw(",\"outcome\":")
                        out.append(contentsOf: outcome)
                    }
                    raw("}")
                }
                raw("}")
            }
            raw("]")
        }
        raw("}")
        return out
    }
}
