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
    /// `--public-url` / `FHIR_SANDBOX_PUBLIC_URL` (URL, default: from the request's Host header).
    public var publicURL: String?

    public init() {}
}
