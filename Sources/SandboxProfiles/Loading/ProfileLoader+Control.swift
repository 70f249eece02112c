import SandboxFaults
import YAMLReader

/// `rateLimits` and `latency`: what test control may switch on, as profile data.
extension ProfileLoader {
    /// ```yaml
    /// rateLimits:
    ///   - name: token-endpoint
    ///     requests: 50
    ///     windowSeconds: 60
    ///     counts: [token]          # fhir, proprietary, token, authorize
    ///     per: client              # client or base
    ///     status: 429              # default 429
    ///     retryAfter: false        # Retry-After: seconds to the end of the window
    ///     message: Too many token requests
    ///     enabled: true            # on by default (a documented number) or only when switched on
    ///     source: "§3.6"           # where the numbers come from, or ASSUMPTION (§...)
    /// ```
    static func parseRateLimits(_ value: YAMLValue?) throws(YAMLError) -> [RateLimit] {
        var limits: [RateLimit] = []
        for item in try value?.list() ?? [] {
            let map = try item.mapping(keys: [
                "name", "requests", "windowSeconds", "counts", "per", "status", "retryAfter", "message", "enabled", "source",
            ])
            let name = try map.required("name").string()
            guard !name.isEmpty, !limits.contains(where: { $0.name == name }) else {
                throw try map.required("name").fail("rate limit names are non-empty and unique within a profile")
            }
            let requests = try map.required("requests").int()
            guard requests >= 1 else { throw try map.required("requests").fail("must be at least 1") }
            let window = try map.required("windowSeconds").int()
            guard (1...86_400).contains(window) else { throw try map.required("windowSeconds").fail("must be 1-86400") }
            var counts: Set<RateLimit.Counted> = []
            for text in try map.required("counts").strings() {
                guard let counted = RateLimit.Counted(rawValue: text) else {
                    throw try map.required("counts").fail(
                        "'\(text)' is not countable; one of \(RateLimit.Counted.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                counts.insert(counted)
            }
            guard !counts.isEmpty else { throw try map.required("counts").fail("name at least one kind of request") }
            let status = try map["status"]?.int() ?? 429
            guard (400...599).contains(status) else { throw try map.required("status").fail("must be 400-599") }
            limits.append(
                RateLimit(
                    name: name, requests: requests, windowSeconds: window, counts: counts,
                    per: try choice(map["per"], RateLimit.Key.self) ?? .client, status: status,
                    retryAfter: try map["retryAfter"]?.bool() ?? false, message: try map["message"]?.string() ?? "Too Many Requests",
                    enabledByDefault: try map["enabled"]?.bool() ?? false, source: try map.required("source").string()))
        }
        return limits
    }

    /// ```yaml
    /// latency:
    ///   source: "ASSUMPTION (§1.8): ..."
    ///   read: {minMs: 80, maxMs: 250}      # also search, write, operation, auth
    /// ```
    static func parseLatency(_ value: YAMLValue) throws(YAMLError) -> LatencyModel {
        let map = try value.mapping(keys: Set(LatencyModel.Class.allCases.map(\.rawValue) + ["source"]))
        var ranges: [LatencyModel.Class: LatencyModel.Range] = [:]
        for kind in LatencyModel.Class.allCases {
            guard let item = map[kind.rawValue] else { continue }
            let range = try item.mapping(keys: ["minMs", "maxMs"])
            let minMs = try range.required("minMs").int()
            let maxMs = try range.required("maxMs").int()
            guard minMs >= 0, maxMs >= minMs, maxMs <= 60_000 else {
                throw item.fail("needs 0 <= minMs <= maxMs <= 60000")
            }
            ranges[kind] = .init(minMs: minMs, maxMs: maxMs)
        }
        return LatencyModel(ranges: ranges, source: try map.required("source").string())
    }
}
