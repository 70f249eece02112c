import FHIRCore
import Foundation
import Synchronization

/// Client key sets registered by URL (`jwksUri`): fetched when first needed and cached for the
/// response's `Cache-Control: max-age` (default 1 hour, at most 29 hours as Epic documents;
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
    public static let defaultSeconds: Int64 = 3600
    public static let maxSeconds: Int64 = 29 * 3600

    /// `fetch` GETs a URL (the server module supplies an HTTP client).
    public init(fetch: @escaping @Sendable (String) async throws -> (body: [UInt8], cacheControl: String?)) {
        self.fetch = fetch
    }

    /// The cached keys of `url`, if still fresh at `now`.
    func keys(_ url: String, now: Int64) -> [JWK]? {
        entries.withLock { $0[url] }.flatMap { $0.expires > now ? $0.keys : nil }
    }

    /// Fetches `url` unless it is cached; a failure is described, not thrown.
    func refresh(_ url: String, now: Int64) async -> String? {
        if keys(url, now: now) != nil { return nil }
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
