import FHIRCore

/// How a base shows stored version numbers (1, 2, …) to clients and reads them back from
/// `If-Match` / `If-None-Match`: an offset (a base that counts from 0: -1), and types whose
/// versions after the first carry a suffix (`W/"10-1"`), so an ETag is not always an integer.
/// Responses are relabelled on the way out (the profile's write step); requests are read here.
public struct VersionLabels: Sendable, Equatable {
    /// Added to stored numbers.
    public var offset = 0
    /// Types whose versions from 1 (as shown) carry `suffix`.
    public var suffixed: Set<String> = []
    public var suffix = ""

    public init(offset: Int = 0, suffixed: Set<String> = [], suffix: String = "") {
        self.offset = offset
        self.suffixed = suffixed
        self.suffix = suffix
    }

    public var isIdentity: Bool { offset == 0 && (suffixed.isEmpty || suffix.isEmpty) }

    func suffixes(_ type: String, shown: Int) -> Bool { !suffix.isEmpty && shown >= 1 && suffixed.contains(type) }

    /// A stored version as the client sees it (`meta.versionId`).
    public func label(_ stored: Int, type: String) -> String {
        let shown = stored + offset
        return suffixes(type, shown: shown) ? "\(shown)\(suffix)" : String(shown)
    }

    /// A stored version as an ETag.
    public func etag(_ stored: Int, type: String) -> String { "W/\"\(label(stored, type: type))\"" }

    /// The stored version a shown label names; nil when the label has a version's form but this
    /// base never issues it (a bare `10` where it shows `10-1`); throws when it has no such form.
    public func stored(fromLabel label: String, type: String) throws(FHIRError) -> Int? {
        if !suffix.isEmpty, label.hasSuffix(suffix), let shown = Int(label.dropLast(suffix.count)) {
            return suffixes(type, shown: shown) ? shown - offset : nil
        }
        guard let shown = Int(label) else {
            throw FHIRError(.malformedRequest, "If-Match must be an ETag such as \(etag(3 - offset, type: type)), not '\(label)'")
        }
        return suffixes(type, shown: shown) ? nil : shown - offset
    }

    /// The label inside an ETag (`W/"3"`, `"3"` or `3`).
    public static func label(ofETag etag: String) -> String {
        var text = etag.trimmingCharacters(in: " ")
        if text.hasPrefix("W/") { text = String(text.dropFirst(2)) }
        return text.trimmingCharacters(in: "\"")
    }
}

/// An `If-Match` version, checked against the current one; messages quote versions as the
/// client sees them (`VersionLabels`), never the stored numbers.
public struct IfMatch: Sendable {
    /// The stored version named; nil when the client's ETag names none this base issues.
    public let version: Int?
    public let labels: VersionLabels
    let sent: String

    public init(version: Int?, labels: VersionLabels = VersionLabels(), sent: String? = nil, type: String = "") {
        self.version = version
        self.labels = labels
        self.sent = sent ?? version.map { labels.etag($0, type: type) } ?? "?"
    }

    /// Reads an `If-Match` header for a resource of `type` (400 when it is not an ETag).
    public static func parse(_ etag: String, type: String, labels: VersionLabels) throws(FHIRError) -> IfMatch {
        let label = VersionLabels.label(ofETag: etag)
        return IfMatch(version: try labels.stored(fromLabel: label, type: type), labels: labels, sent: "W/\"\(label)\"", type: type)
    }

    /// 412 (`preconditionFailed`) unless `current` is the version named.
    public func check(current: Int, type: String, id: String) throws(FHIRError) {
        guard current != version else { return }
        throw FHIRError(
            .preconditionFailed,
            "version conflict: If-Match is \(sent) but \(type)/\(id) is at \(labels.etag(current, type: type)) (its ETag)")
    }

    /// 412 for a resource that does not exist.
    public func missing(type: String, id: String) -> FHIRError {
        FHIRError(.preconditionFailed, "If-Match \(sent) given but \(type)/\(id) does not exist")
    }
}
