import ArgumentParser
import FHIRCore
import Foundation
import SandboxAuth
import SandboxProfiles
import SandboxServer

/// `fhir-sandbox token`: prints an access token a sandbox started from the same seed accepts,
/// for quick `curl` work. Signed offline with the seed's token key; no server is contacted.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Print a valid access token for a seed client (signed with the seed's token key).")

    @Option(help: "Profile the token is for (default generic).") var profile = "generic"
    @Option(help: "Client id from the seed's clients.yaml.") var client: String
    @Option(
        help:
            "Scopes, space-separated (default: every scope the client is registered for, spelled out per resource type where the profile refuses wildcards)."
    ) var scope: String?
    @Option(help: "Patient in context, for patient/ scopes.") var patient: String?
    @Option(name: .customLong("profiles-dir"), help: "Folder of profile files (env FHIR_SANDBOX_PROFILES_DIR; default Profiles).")
    var profilesDirectory: String?
    @Option(help: "Seed folder (env FHIR_SANDBOX_SEED; default Seeds/default).") var seed: String?
    @Option(help: "Issue the token at this sandbox-clock instant (env FHIR_SANDBOX_CLOCK; default: now).") var clock: String?
    @Option(name: .customLong("public-url"), help: "Origin the token names as issuer and audience (env FHIR_SANDBOX_PUBLIC_URL).")
    var publicURL: String?
    @Option(
        help:
            "Port of the server the token is for, when no --public-url: the audience is http://127.0.0.1:PORT/<base> (env FHIR_SANDBOX_PORT; default 8080)."
    )
    var port: Int?

    func run() throws {
        let configuration: SandboxConfiguration
        do {
            configuration = try Options.resolve(
                host: nil, port: port, profiles: nil, profilesDirectory: profilesDirectory, seed: seed, dataDirectory: nil, clock: clock,
                publicURL: publicURL, environment: ProcessInfo.processInfo.environment)
        } catch {
            Options.fail(error.message)
        }
        let profiles: [Profile]
        do {
            profiles = try ProfileLoader.loadAll(directory: configuration.profilesDirectory)
        } catch {
            Options.fail(error.description)
        }
        guard let named = profiles.first(where: { $0.name == profile }) else {
            Options.fail("no profile named '\(profile)' (available: \(profiles.map(\.name).joined(separator: ", ")))")
        }
        // Paths that name the practice take the seed's code (the audience is the filled base).
        let chosen: Profile
        do {
            chosen = try Sandbox.filled(named, seedDirectory: configuration.seedDirectory)
        } catch {
            Options.fail(error.message)
        }
        guard chosen.auth.mode != .anonymous else { Options.fail("profile '\(profile)' has auth: anonymous; it takes no tokens") }
        guard chosen.auth.tokenFormat == .jwt else {
            Options.fail("profile '\(profile)' issues opaque tokens, which only the running server knows: use its token endpoint")
        }
        let (clients, signer): (ClientRegistry, TokenSigner)
        do {
            (clients, signer) = try Sandbox.loadAuth(seedDirectory: configuration.seedDirectory)
        } catch {
            Options.fail(error.message)
        }
        guard let registered = clients.client(client), registered.enabled else {
            Options.fail(
                "no enabled client '\(client)' in \(configuration.seedDirectory)/clients.yaml (known: \(clients.all.map(\.id).joined(separator: ", ")))"
            )
        }
        // Without --scope: every scope the client is registered for, spelled out per type where
        // the profile refuses wildcards (Cerner).
        let requested = scope.map(Scopes.split) ?? chosen.spelledOut(registered.scopes)
        var relaxed = chosen.auth
        relaxed.unregisteredScopes = .drop  // the CLI reports what it dropped instead of failing
        let granted =
            (try? AuthorizationServer(
                profile: chosen.name, settings: relaxed, clients: clients, signer: signer, clock: .fixed(0), random: .system()
            ).grant(requested, client: registered).get()) ?? []
        let dropped = requested.filter { !granted.contains($0) }
        guard !granted.isEmpty else {
            Options.fail("none of the scopes is allowed for \(client) on \(profile): \(requested.joined(separator: " "))")
        }
        if !dropped.isEmpty {
            FileHandle.standardError.write(Data("fhir-sandbox: dropped scopes: \(dropped.joined(separator: " "))\n".utf8))
        }
        let sandboxClock = SandboxClock(system: { Int64(Date().timeIntervalSince1970 * 1000) }, frozenAt: configuration.frozenClock)
        let server = AuthorizationServer(
            profile: chosen.name, settings: chosen.auth, clients: clients, signer: signer, clock: sandboxClock, random: .system())
        let origin = configuration.publicURL ?? "http://\(configuration.host):\(configuration.port)"
        let token = server.accessToken(
            client: registered, scopes: granted, patient: patient, issuer: chosen.auth.issuer ?? origin + chosen.auth.path,
            audience: origin + chosen.fhirBase)
        print(token.token)
    }
}
