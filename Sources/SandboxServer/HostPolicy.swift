import Synchronization

/// The names this server answers to as itself, and the origin it names itself by.
///
/// A request's `Host` is echoed (in links, `Location`, SMART discovery, token audiences) only
/// when it names an allowed host: loopback names, the bound address, the `--public-url` host and
/// `--allowed-hosts`. Anything else gets the canonical origin. `--public-url`, when set, is used
/// for everything.
public final class HostPolicy: Sendable {
    public let publicURL: String?
    /// Allowed host names, lower-case, IPv6 without brackets.
    public let names: Set<String>
    let bindHost: String
    private let boundPort: Atomic<Int>
    /// Audience lists by base (computed once the port is known; asked for on every bearer request).
    private let audienceCache = Mutex<(port: Int, lists: [String: [String]])>((0, [:]))

    public static let loopbackNames: Set<String> = ["localhost", "127.0.0.1", "::1"]

    public init(configuration: SandboxConfiguration) {
        publicURL = configuration.publicURL
        bindHost = configuration.host
        var names = Self.loopbackNames
        if !Self.isWildcard(configuration.host) { names.insert(Self.hostName(configuration.host)) }
        if let publicURL = configuration.publicURL { names.insert(Self.hostName(Self.authority(of: publicURL))) }
        for host in configuration.allowedHosts { names.insert(Self.hostName(host)) }
        self.names = names
        boundPort = Atomic(configuration.port)
    }

    /// The port the server listens on (known once it is ready when `--port 0`).
    public var port: Int { boundPort.load(ordering: .relaxed) }

    public func listening(on port: Int) { boundPort.store(port, ordering: .relaxed) }

    /// Whether a `Host` header value (`name[:port]`) names this server.
    public func allows(authority: String?) -> Bool {
        guard let authority, !authority.isEmpty else { return false }
        return names.contains(Self.hostName(authority))
    }

    /// Where clients reach us: the public URL, an allowed `Host`, or the bound address.
    public func origin(authority: String?) -> String {
        if let publicURL { return publicURL }
        if let authority, allows(authority: authority) { return "http://\(authority)" }
        return canonicalOrigin
    }

    /// The bound address as a URL origin (`127.0.0.1` for a wildcard bind).
    public var canonicalOrigin: String {
        if let publicURL { return publicURL }
        let host = Self.isWildcard(bindHost) ? "127.0.0.1" : bindHost
        return "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    /// The origins a token or client assertion may name as its audience: the public URL, or
    /// every allowed name at the bound port (never a port or host taken from the request).
    public var audienceOrigins: [String] {
        if let publicURL { return [publicURL] }
        return names.sorted().map { "http://\($0.contains(":") ? "[\($0)]" : $0):\(port)" }
    }

    /// The absolute URLs of `base` that tokens may name as their audience (`audienceOrigins` ×
    /// `base`), cached.
    public func audiences(of base: String) -> [String] {
        let port = port
        if let cached = audienceCache.withLock({ $0.port == port ? $0.lists[base] : nil }) { return cached }
        let list = audienceOrigins.map { $0 + base }
        audienceCache.withLock { cache in
            if cache.port != port { cache = (port, [:]) }
            cache.lists[base] = list
        }
        return list
    }

    /// `host` of `host[:port]` (or `[v6]:port`), lower-cased, brackets removed.
    public static func hostName(_ authority: String) -> String {
        // Called for every request: works on UTF-8 bytes and lower-cases only when needed.
        let utf8 = authority.utf8
        var name = utf8[...]
        if name.first == UInt8(ascii: "[") {
            name = name.dropFirst()
            if let close = name.firstIndex(of: UInt8(ascii: "]")) { name = name[..<close] }
        } else if let colon = name.lastIndex(of: UInt8(ascii: ":")), name[..<colon].firstIndex(of: UInt8(ascii: ":")) == nil {
            name = name[..<colon]
        }
        let text = String(Substring(name))
        return name.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) ? text.lowercased() : text
    }

    /// The authority of an absolute URL (`http://host:port/path` → `host:port`).
    static func authority(of url: String) -> String {
        let rest = url.split(separator: "://", maxSplits: 1).last ?? Substring(url)
        return String(rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" })
    }

    public static func isWildcard(_ host: String) -> Bool { host == "0.0.0.0" || host == "::" || host == "[::]" }

    public static func isLoopback(_ host: String) -> Bool {
        let name = hostName(host)
        return name == "localhost" || name == "::1" || name.hasPrefix("127.")
    }
}
