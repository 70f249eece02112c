import FHIRCore
import Foundation
import SandboxServer

/// Turns flags and environment variables into a `SandboxConfiguration`. Flags win.
enum Options {
    struct Failure: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// The hardening flags of `serve` (security and limits), as given on the command line.
    struct Limits {
        var adminToken: String?
        var allowedHosts: [String] = []
        var jwksAllow: [String] = []
        var maxSandboxMB: Int?
        var maxSandboxes: Int?
        var headerTimeout: Int?
        var bodyTimeout: Int?
        var idleTimeout: Int?
        var noRateLimits = false
        var latency: String?
        var hl7Out: [String] = []
        var hl7In: [String] = []
    }

    static func resolve(
        host: String?, port: Int?, profiles: String?, profilesDirectory: String?, seed: String?, dataDirectory: String?,
        clock: String?, publicURL: String?, limits: Limits = Limits(), environment: [String: String]
    ) throws(Failure) -> SandboxConfiguration {
        var configuration = SandboxConfiguration()
        configuration.host = host ?? environment["FHIR_SANDBOX_HOST"] ?? configuration.host
        if let port {
            configuration.port = port
        } else if let text = environment["FHIR_SANDBOX_PORT"] {
            guard let value = Int(text) else { throw Failure("FHIR_SANDBOX_PORT: '\(text)' is not a port number") }
            configuration.port = value
        }
        guard (0...65535).contains(configuration.port) else { throw Failure("port \(configuration.port) is out of range (0-65535)") }
        if let list = profiles ?? environment["FHIR_SANDBOX_PROFILES"] {
            let names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !names.isEmpty else { throw Failure("--profiles needs at least one profile name") }
            configuration.profiles = names
        }
        configuration.profilesDirectory = locate(profilesDirectory ?? environment["FHIR_SANDBOX_PROFILES_DIR"], default: "Profiles")
        configuration.seedDirectory = locate(seed ?? environment["FHIR_SANDBOX_SEED"], default: "Seeds/default")
        configuration.dataDirectory = dataDirectory ?? environment["FHIR_SANDBOX_DATA_DIR"]
        if let text = clock ?? environment["FHIR_SANDBOX_CLOCK"] {
            guard let instant = FHIRDateTime.parse(text, form: .instant) else {
                throw Failure("--clock '\(text)' is not an instant with a time zone, e.g. 2026-04-13T08:00:00-05:00")
            }
            configuration.frozenClock = instant.startMilliseconds(in: .utc)
        }
        if let url = publicURL ?? environment["FHIR_SANDBOX_PUBLIC_URL"] {
            guard url.hasPrefix("http://") || url.hasPrefix("https://"), let parsed = URL(string: url), parsed.host != nil else {
                throw Failure("--public-url '\(url)' is not an http(s) URL")
            }
            configuration.publicURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        configuration.adminToken = limits.adminToken ?? environment["FHIR_SANDBOX_ADMIN_TOKEN"]
        if let token = configuration.adminToken, token.isEmpty || token.contains(where: { $0.isWhitespace }) {
            throw Failure("--admin-token must be a non-empty string without spaces")
        }
        configuration.allowedHosts = limits.allowedHosts.isEmpty ? list(environment["FHIR_SANDBOX_ALLOWED_HOSTS"]) : limits.allowedHosts
        configuration.jwksAllow = limits.jwksAllow.isEmpty ? list(environment["FHIR_SANDBOX_JWKS_ALLOW"]) : limits.jwksAllow
        func number(_ flag: Int?, _ variable: String, _ name: String, _ range: ClosedRange<Int>) throws(Failure) -> Int? {
            var value = flag
            if value == nil, let text = environment[variable] {
                guard let parsed = Int(text) else { throw Failure("\(variable): '\(text)' is not a whole number") }
                value = parsed
            }
            if let value, !range.contains(value) {
                throw Failure("--\(name) \(value) is out of range (\(range.lowerBound)-\(range.upperBound))")
            }
            return value
        }
        if let megabytes = try number(limits.maxSandboxMB, "FHIR_SANDBOX_MAX_SANDBOX_MB", "max-sandbox-mb", 16...65536) {
            configuration.maxSandboxBytes = megabytes << 20
        }
        configuration.maxSandboxes =
            try number(limits.maxSandboxes, "FHIR_SANDBOX_MAX_SANDBOXES", "max-sandboxes", 0...10000) ?? configuration.maxSandboxes
        configuration.headerTimeout =
            try number(limits.headerTimeout, "FHIR_SANDBOX_HEADER_TIMEOUT", "header-timeout", 1...3600) ?? configuration.headerTimeout
        configuration.bodyTimeout =
            try number(limits.bodyTimeout, "FHIR_SANDBOX_BODY_TIMEOUT", "body-timeout", 1...3600) ?? configuration.bodyTimeout
        configuration.idleTimeout =
            try number(limits.idleTimeout, "FHIR_SANDBOX_IDLE_TIMEOUT", "idle-timeout", 1...86400) ?? configuration.idleTimeout
        if limits.noRateLimits {
            configuration.rateLimits = false
        } else if let text = environment["FHIR_SANDBOX_RATE_LIMITS"] {
            guard ["on", "off"].contains(text) else { throw Failure("FHIR_SANDBOX_RATE_LIMITS: '\(text)' is not on or off") }
            configuration.rateLimits = text == "on"
        }
        if let text = limits.latency ?? environment["FHIR_SANDBOX_LATENCY"] {
            guard ["off", "profile"].contains(text) else { throw Failure("--latency '\(text)' is not off or profile") }
            configuration.latencyProfile = text == "profile"
        }
        for text in limits.hl7Out.isEmpty ? list(environment["FHIR_SANDBOX_HL7_OUT"]) : limits.hl7Out {
            guard let peer = SandboxConfiguration.HL7Peer.parse(text, portOnly: false) else {
                throw Failure("--hl7-out '\(text)' is not [PROFILE=]HOST:PORT")
            }
            configuration.hl7Out.append(peer)
        }
        for text in limits.hl7In.isEmpty ? list(environment["FHIR_SANDBOX_HL7_IN_PORT"]) : limits.hl7In {
            guard let peer = SandboxConfiguration.HL7Peer.parse(text, portOnly: true) else {
                throw Failure("--hl7-in-port '\(text)' is not [PROFILE=]PORT (0-65535)")
            }
            configuration.hl7In.append(peer)
        }
        // Off loopback the admin API always needs a token: one is made up when none is given.
        if !configuration.listensOnLoopbackOnly, configuration.adminToken == nil {
            configuration.adminToken = RandomSource.system().token(24)
            configuration.adminTokenGenerated = true
        }
        return configuration
    }

    /// A comma-separated environment list.
    static func list(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// An explicit path is used as given; the default is looked up in the working directory,
    /// then beside the executable's ancestors (so `swift run` works from any package folder).
    static func locate(_ explicit: String?, default relative: String) -> String {
        if let explicit { return explicit }
        let manager = FileManager.default
        if manager.fileExists(atPath: relative) { return relative }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            let candidate = directory.appendingPathComponent(relative).path
            if manager.fileExists(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return relative
    }

    /// `--profiles-dir`, else `FHIR_SANDBOX_PROFILES_DIR`, else `Profiles` located as above.
    static func profilesDirectory(_ explicit: String?) -> String {
        locate(explicit ?? ProcessInfo.processInfo.environment["FHIR_SANDBOX_PROFILES_DIR"], default: "Profiles")
    }

    /// Prints a one-line reason to standard error and exits non-zero.
    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("fhir-sandbox: \(message)\n".utf8))
        exit(1)
    }
}
