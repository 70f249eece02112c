/// Everything needed to start a sandbox. The CLI fills it from flags and environment
/// variables (flags win); tests build it directly.
public struct SandboxConfiguration: Sendable {
    /// `--host` / `FHIR_SANDBOX_HOST` (String, default `127.0.0.1`).
    public var host = "127.0.0.1"
    /// `--port` / `FHIR_SANDBOX_PORT` (Int, default 8080; 0 picks a free port).
    public var port = 8080
    /// `--profiles-dir` / `FHIR_SANDBOX_PROFILES_DIR` (path, default `Profiles`).
    public var profilesDirectory = "Profiles"
    /// `--profiles` / `FHIR_SANDBOX_PROFILES` (comma list, default: every profile).
    public var profiles: [String]?
    /// `--seed` / `FHIR_SANDBOX_SEED` (path, default `Seeds/default`).
    public var seedDirectory = "Seeds/default"
    /// `--data-dir` / `FHIR_SANDBOX_DATA_DIR` (path, default: in memory).
    public var dataDirectory: String?
    /// `--clock` / `FHIR_SANDBOX_CLOCK`: start frozen at this instant (epoch ms), or follow real time.
    public var frozenClock: Int64?
    /// `--public-url` / `FHIR_SANDBOX_PUBLIC_URL` (URL, default: from an allowed Host header,
    /// else the bound address).
    public var publicURL: String?
    /// `--admin-token` / `FHIR_SANDBOX_ADMIN_TOKEN`: the bearer token `/_admin` requires. Nil:
    /// none on loopback; one is generated (and printed) when the server listens elsewhere.
    public var adminToken: String?
    /// Whether `adminToken` was made up at start-up (then it is printed on the ready lines).
    public var adminTokenGenerated = false
    /// `--allowed-hosts` / `FHIR_SANDBOX_ALLOWED_HOSTS`: further `Host` names the server answers
    /// to as itself (besides loopback names, the bound address and the public URL's host).
    public var allowedHosts: [String] = []
    /// `--jwks-allow` / `FHIR_SANDBOX_JWKS_ALLOW`: further `host[:port]`s a client's `jwksUri`
    /// may point at (besides loopback and the hosts named in the seed's `clients.yaml`).
    public var jwksAllow: [String] = []
    /// `--max-sandbox-mb` / `FHIR_SANDBOX_MAX_SANDBOX_MB`: what one profile's data may grow to.
    public var maxSandboxBytes = 256 << 20
    /// `--max-sandboxes` / `FHIR_SANDBOX_MAX_SANDBOXES`: how many isolated sandboxes may exist
    /// at once (creating one more is 429).
    public var maxSandboxes = 200
    /// Connection limits (seconds): a request head must arrive within `headerTimeout` of its
    /// first byte, a body within `bodyTimeout` of its head, and an idle keep-alive connection is
    /// closed after `idleTimeout`. `--header-timeout`, `--body-timeout`, `--idle-timeout`.
    public var headerTimeout = 10
    public var bodyTimeout = 30
    public var idleTimeout = 60
    /// `--no-rate-limits` / `FHIR_SANDBOX_RATE_LIMITS=off`: `false` turns every profile's rate
    /// limits off; `true` (default) applies those a profile turns on by default.
    public var rateLimits = true
    /// `--latency off|profile` / `FHIR_SANDBOX_LATENCY`: whether profiles' latency models apply.
    public var latencyProfile = false
    /// `--hl7-out [PROFILE=]HOST:PORT` / `FHIR_SANDBOX_HL7_OUT`: where each profile's outbound
    /// HL7 v2 feed sends (SIU, ADT over MLLP); the profile defaults to `generic`.
    public var hl7Out: [HL7Peer] = []
    /// `--hl7-in-port [PROFILE=]PORT` / `FHIR_SANDBOX_HL7_IN_PORT`: MLLP listeners for inbound
    /// SRM and ADT, applied to that profile's data (0 picks a free port, printed at start-up).
    public var hl7In: [HL7Peer] = []

    /// An HL7 v2 peer of one profile: a destination (host and port) or a listening port.
    public struct HL7Peer: Sendable, Equatable {
        public var profile: String
        public var host: String
        public var port: Int

        public init(profile: String, host: String, port: Int) {
            self.profile = profile
            self.host = host
            self.port = port
        }

        /// `[PROFILE=]HOST:PORT`, or with `portOnly` `[PROFILE=]PORT`.
        public static func parse(_ text: String, portOnly: Bool) -> HL7Peer? {
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            let profile = parts.count == 2 ? parts[0] : "generic"
            let address = parts.last ?? ""
            guard !profile.isEmpty else { return nil }
            if portOnly {
                guard let port = Int(address), (0...65535).contains(port) else { return nil }
                return HL7Peer(profile: profile, host: "", port: port)
            }
            guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
                (1...65535).contains(port), colon != address.startIndex
            else { return nil }
            return HL7Peer(profile: profile, host: String(address[..<colon]), port: port)
        }
    }

    /// On SIGTERM, how long in-flight requests may take before the server exits anyway.
    public var shutdownGrace = 10

    /// Whether `host` is a loopback address (the admin API is then open without a token).
    public var listensOnLoopbackOnly: Bool { HostPolicy.isLoopback(host) }

    public init() {}
}
