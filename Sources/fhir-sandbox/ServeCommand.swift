import ArgumentParser
import FHIRCore
import Foundation
import SandboxAuth
import SandboxProfiles
import SandboxServer

/// `fhir-sandbox serve`: every option also reads an environment variable; the flag wins.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the mounted profiles (the default command).")

    @Option(help: "Address to listen on (env FHIR_SANDBOX_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free port and prints it (env FHIR_SANDBOX_PORT; default 8080).")
    var port: Int?

    @Option(help: "Comma-separated profiles to mount (env FHIR_SANDBOX_PROFILES; default: all).")
    var profiles: String?

    @Option(name: .customLong("profiles-dir"), help: "Folder of profile files (env FHIR_SANDBOX_PROFILES_DIR; default Profiles).")
    var profilesDirectory: String?

    @Option(help: "Seed folder (env FHIR_SANDBOX_SEED; default Seeds/default).")
    var seed: String?

    @Option(name: .customLong("data-dir"), help: "Persist tenants as SQLite files here (env FHIR_SANDBOX_DATA_DIR; default: in memory).")
    var dataDirectory: String?

    @Option(help: "Start the clock frozen at this instant, e.g. 2026-04-13T08:00:00-05:00 (env FHIR_SANDBOX_CLOCK; default: real time).")
    var clock: String?

    @Option(name: .customLong("public-url"), help: "External base URL for links and Location headers (env FHIR_SANDBOX_PUBLIC_URL).")
    var publicURL: String?

    @Option(
        name: .customLong("admin-token"),
        help:
            "Bearer token the admin API requires (env FHIR_SANDBOX_ADMIN_TOKEN; default: none on loopback, generated and printed otherwise)."
    )
    var adminToken: String?

    @Option(
        name: .customLong("allowed-hosts"), parsing: .singleValue,
        help: "A further Host name this server answers to as itself; repeatable (env FHIR_SANDBOX_ALLOWED_HOSTS, comma-separated).")
    var allowedHosts: [String] = []

    @Option(
        name: .customLong("jwks-allow"), parsing: .singleValue,
        help: "A further HOST[:PORT] client jwksUris may point at; repeatable (env FHIR_SANDBOX_JWKS_ALLOW, comma-separated).")
    var jwksAllow: [String] = []

    @Option(
        name: .customLong("max-sandbox-mb"),
        help: "What one profile's data may grow to, in MiB (env FHIR_SANDBOX_MAX_SANDBOX_MB; default 256).")
    var maxSandboxMB: Int?

    @Option(
        name: .customLong("max-sandboxes"),
        help: "How many isolated sandboxes may exist at once (env FHIR_SANDBOX_MAX_SANDBOXES; default 200; 0 turns them off).")
    var maxSandboxes: Int?

    @Option(
        name: .customLong("header-timeout"),
        help: "Seconds a request head may take from its first byte (env FHIR_SANDBOX_HEADER_TIMEOUT; default 10).")
    var headerTimeout: Int?

    @Option(
        name: .customLong("body-timeout"),
        help: "Seconds a request body may take after its head (env FHIR_SANDBOX_BODY_TIMEOUT; default 30).")
    var bodyTimeout: Int?

    @Option(
        name: .customLong("idle-timeout"),
        help: "Seconds an idle keep-alive connection is kept (env FHIR_SANDBOX_IDLE_TIMEOUT; default 60).")
    var idleTimeout: Int?

    @Flag(
        name: .customLong("no-rate-limits"),
        help: "Turn every profile's rate limits off (env FHIR_SANDBOX_RATE_LIMITS=off; default: the limits profiles turn on).")
    var noRateLimits = false

    @Option(
        name: .customLong("latency"),
        help: "off, or profile: wait as each profile's latency model says before answering (env FHIR_SANDBOX_LATENCY; default off).")
    var latency: String?

    @Option(
        name: .customLong("hl7-out"), parsing: .singleValue,
        help:
            "Send the profile's HL7 v2 feed (SIU, ADT over MLLP) to HOST:PORT: [PROFILE=]HOST:PORT, profile generic by default; repeatable (env FHIR_SANDBOX_HL7_OUT, comma-separated)."
    )
    var hl7Out: [String] = []

    @Option(
        name: .customLong("hl7-in-port"), parsing: .singleValue,
        help:
            "Listen for inbound HL7 v2 (SRM, ADT over MLLP) for a profile: [PROFILE=]PORT, profile generic by default, 0 picks a port; repeatable (env FHIR_SANDBOX_HL7_IN_PORT)."
    )
    var hl7InPort: [String] = []

    func run() async throws {
        let configuration: SandboxConfiguration
        do {
            configuration = try Options.resolve(
                host: host, port: port, profiles: profiles, profilesDirectory: profilesDirectory, seed: seed,
                dataDirectory: dataDirectory, clock: clock, publicURL: publicURL,
                limits: .init(
                    adminToken: adminToken, allowedHosts: allowedHosts, jwksAllow: jwksAllow, maxSandboxMB: maxSandboxMB,
                    maxSandboxes: maxSandboxes,
                    headerTimeout: headerTimeout, bodyTimeout: bodyTimeout, idleTimeout: idleTimeout, noRateLimits: noRateLimits,
                    latency: latency, hl7Out: hl7Out, hl7In: hl7InPort),
                environment: ProcessInfo.processInfo.environment)
        } catch {
            Options.fail(error.message)
        }
        if !configuration.listensOnLoopbackOnly {
            FileHandle.standardError.write(
                Data(
                    ("fhir-sandbox: warning: listening on \(configuration.host), beyond this machine: the admin API requires "
                        + "Authorization: Bearer <admin token>; seed keys and client secrets are public test values\n").utf8))
        }
        let systemClock = SandboxClock(system: { Int64(Date().timeIntervalSince1970 * 1000) }, frozenAt: configuration.frozenClock)
        let built: SandboxApplication
        do {
            built = try buildApplication(configuration: configuration, clock: systemClock) { sandbox, port in
                let origin = sandbox.hosts.canonicalOrigin
                var lines = ""
                for mount in sandbox.mounts {
                    lines +=
                        "\(mount.profile.name.padding(toLength: 10, withPad: " ", startingAt: 0)) FHIR base \(origin)\(mount.profile.fhirBase)"
                        + (mount.profile.auth.mode == .anonymous
                            ? "  (no auth)\n"
                            : "  token \(origin)\(mount.profile.auth.tokenPath)  (auth \(mount.profile.auth.mode.rawValue))\n")
                    if let api = mount.profile.proprietary {
                        lines +=
                            "\(mount.profile.name.padding(toLength: 10, withPad: " ", startingAt: 0)) API base \(origin)\(api.path)"
                            + "  (vendor API; \(api.scopeNeeded); same data and tokens)\n"
                    }
                    for other in mount.profile.otherBases {
                        lines +=
                            "\(mount.profile.name.padding(toLength: 10, withPad: " ", startingAt: 0)) FHIR base \(origin)\(other.fhirBase)"
                            + "  (\(other.release.rawValue); same data and tokens)\n"
                    }
                }
                for listener in sandbox.hl7Listeners {
                    lines +=
                        "\(listener.profile.padding(toLength: 10, withPad: " ", startingAt: 0)) HL7 in mllp://\(configuration.host):\(listener.port)"
                        + "  (SRM^S01/S03/S04, ADT^A04/A08)\n"
                }
                for peer in configuration.hl7Out {
                    lines +=
                        "\(peer.profile.padding(toLength: 10, withPad: " ", startingAt: 0)) HL7 out mllp://\(peer.host):\(peer.port)  (SIU, ADT)\n"
                }
                lines += "ready \(origin) (port \(port))"
                if let token = configuration.adminToken, configuration.adminTokenGenerated {
                    lines += "  admin token \(token) (send Authorization: Bearer <token> to /_admin)"
                }
                lines += "\n"
                FileHandle.standardOutput.write(Data(lines.utf8))
            }
        } catch {
            Options.fail(error.message)
        }
        do {
            try await built.run()
        } catch {
            Options.fail("server stopped: \(error)")
        }
    }
}
