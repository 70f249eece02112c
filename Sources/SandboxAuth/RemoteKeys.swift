import FHIRCore
import Foundation
import Synchronization

/// Client key sets registered by URL (`jwksUri`): fetched when first needed and cached for the
/// response's `Cache-Control: max-age` (default 1 hour, at most 29 hours, the longest a vendor documents;
/// `no-store`, `no-cache` or `max-age=0` are not cached). Until the cache expires a rotated
/// key is unknown, as at the EHRs: publish new keys ahead of using them.
public final class RemoteKeys: Sendable {
    struct Entry: Sendable {
        let keys: [JWK]
        /// Wall-clock milliseconds.
        let expires: Int64
    }

    private let entries = Mutex<[String: Entry]>([:])
    let fetch: @Sendable (String) async throws -> (body: [UInt8], cacheControl: String?)
    /// Where key sets may be fetched from; any other URL is refused before a connection is tried.
    public let allowed: FetchAllowList
    public static let defaultSeconds: Int64 = 3600
    public static let maxSeconds: Int64 = 29 * 3600

    /// `fetch` GETs a URL (the server module supplies an HTTP client).
    public init(
        allowed: FetchAllowList = FetchAllowList(),
        fetch: @escaping @Sendable (String) async throws -> (body: [UInt8], cacheControl: String?)
    ) {
        self.allowed = allowed
        self.fetch = fetch
    }

    /// The cached keys of `url`, if still fresh at `now`.
    func keys(_ url: String, now: Int64) -> [JWK]? {
        entries.withLock { $0[url] }.flatMap { $0.expires > now ? $0.keys : nil }
    }

    /// Fetches `url` unless it is cached; a failure is described, not thrown.
    func refresh(_ url: String, now: Int64) async -> String? {
        if keys(url, now: now) != nil { return nil }
        // One answer for every refused URL: the server never tells what it found elsewhere.
        guard allowed.allows(url) else { return FetchAllowList.refusal(url) }
        do {
            let (body, cacheControl) = try await fetch(url)
            guard let object = (try? JSONParser.parse(body))?.objectValue else { return "jwks_uri \(url) did not return a JSON object" }
            let keys = JWK.set(object)
            guard !keys.isEmpty else { return "jwks_uri \(url) has no usable RSA or EC keys" }
            let seconds = Self.maxAge(cacheControl)
            entries.withLock { $0[url] = Entry(keys: keys, expires: seconds > 0 ? now + seconds * 1000 : now + 1) }
            return nil
        } catch {
            return "jwks_uri \(url) could not be fetched: \(error)"
        }
    }

    static func maxAge(_ cacheControl: String?) -> Int64 {
        guard let cacheControl else { return defaultSeconds }
        let directives = cacheControl.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if directives.contains("no-store") || directives.contains("no-cache") { return 0 }
        for directive in directives where directive.hasPrefix("max-age=") {
            return min(Int64(directive.dropFirst(8)) ?? defaultSeconds, maxSeconds)
        }
        return defaultSeconds
    }

    public func removeAll() { entries.withLock { $0 = [:] } }
}

/// The hosts a client's `jwksUri` may name: loopback (any port), the `host[:port]`s of the
/// seed's `clients.yaml` jwksUris, and `--jwks-allow` entries (`host` for any port, or
/// `host:port`). Only `http` and `https` URLs qualify.
public struct FetchAllowList: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public let host: String
        /// nil: any port.
        public let port: Int?
    }

    public private(set) var entries: [Entry] = []

    public init() {}

    /// The seed's jwksUris (exact host and port) plus `extra` (`host` or `host:port`).
    public init(urls: [String], extra: [String]) {
        for url in urls {
            if let parsed = Self.parse(url) { entries.append(Entry(host: parsed.host, port: parsed.port)) }
        }
        for item in extra {
            if let parsed = Self.parse("http://" + item) {
                entries.append(
                    Entry(host: parsed.host, port: item.contains("]:") || item.filter({ $0 == ":" }).count == 1 ? parsed.port : nil))
            }
        }
    }

    public func allows(_ url: String) -> Bool {
        guard let parsed = Self.parse(url) else { return false }
        if parsed.host == "localhost" || parsed.host == "::1" || parsed.host.hasPrefix("127.") { return true }
        return entries.contains { $0.host == parsed.host && ($0.port == nil || $0.port == parsed.port) }
    }

    /// The one message for a URL that is not allowed (or not an http(s) URL).
    public static func refusal(_ url: String) -> String {
        "jwks_uri \(url) is not on this server's allow-list (loopback, the seed's clients.yaml hosts, --jwks-allow)"
    }

    /// Scheme-checked host (lower-case, no brackets) and port (default 80/443) of an http(s) URL.
    static func parse(_ url: String) -> (host: String, port: Int)? {
        let lower = url.lowercased()
        let secure: Bool
        if lower.hasPrefix("http://") {
            secure = false
        } else if lower.hasPrefix("https://") {
            secure = true
        } else {
            return nil
        }
        let rest = lower.dropFirst(secure ? 8 : 7)
        var authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { return nil }
        var port = secure ? 443 : 80
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else { return nil }
            port = number
        }
        return (String(host), port)
    }
}
