import ArgumentParser
import Certification
import FHIRCore
import Foundation
import SandboxServer

/// `fhir-sandbox certify --kit scheduling --profile epic -- <client command ...>`: runs the client
/// once per scenario of the kit, each time against a fresh isolated sandbox of the profile armed
/// as the scenario says, then checks what it did; exit status 0 only when every required check
/// of every scenario passed.
struct CertifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certify", abstract: "Certify a client command against a scenario kit on one profile.")

    @Option(help: "The kit (a file in Profiles/certification/, without .yaml; default scheduling).")
    var kit = "scheduling"

    @Option(help: "The profile to certify against (e.g. generic, epic, cerner).")
    var profile: String?

    @Option(name: .customLong("scenario"), parsing: .singleValue, help: "Run only this scenario; repeatable.")
    var scenarios: [String] = []

    @Flag(help: "List the kit's scenarios (id, profiles, title) and exit.")
    var list = false

    @Option(help: "Write a JUnit XML report here.")
    var junit: String?

    @Option(help: "Write a self-contained HTML report here.")
    var html: String?

    @Option(help: "Write a JSON report here.")
    var json: String?

    @Option(name: .customLong("profiles-dir"), help: "Folder of profile files (env FHIR_SANDBOX_PROFILES_DIR; default Profiles).")
    var profilesDirectory: String?

    @Option(help: "Seed folder (env FHIR_SANDBOX_SEED; default Seeds/default).")
    var seed: String?

    @Argument(parsing: .postTerminator, help: "The client command, after --.")
    var command: [String] = []

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let profilesDir = Options.profilesDirectory(profilesDirectory)
        let kits: [Kit]
        do {
            kits = try KitLoader.loadAll(directory: profilesDir + "/certification")
        } catch {
            Options.fail(error.description)
        }
        guard let chosen = kits.first(where: { $0.name == kit }) else {
            Options.fail("no kit '\(kit)' in \(profilesDir)/certification (kits: \(kits.map(\.name).joined(separator: ", ")))")
        }
        if list {
            for scenario in chosen.scenarios {
                print(
                    "\(scenario.id.padding(toLength: 24, withPad: " ", startingAt: 0)) \((scenario.profiles ?? ["all"]).joined(separator: ","))  \(scenario.title)"
                )
            }
            return
        }
        guard let profile else { Options.fail("--profile is required (or --list)") }
        guard !command.isEmpty else { Options.fail("name the client command after --, e.g. -- python3 my_client.py") }
        for name in scenarios where !chosen.scenarios.contains(where: { $0.id == name }) {
            Options.fail("kit \(kit) has no scenario '\(name)' (see --list)")
        }
        let selected = chosen.scenarios(for: profile, only: scenarios)
        guard !selected.isEmpty else { Options.fail("kit \(kit) has no scenario for profile \(profile)") }
        let configuration: SandboxConfiguration
        do {
            configuration = try Options.resolve(
                host: "127.0.0.1", port: 0, profiles: profile, profilesDirectory: profilesDirectory, seed: seed, dataDirectory: nil,
                // The clinic's slots are generated from the server's clock at start: the scenarios'
                // (earliest) clock, so each scenario's sandbox finds its days in the calendar.
                clock: selected.compactMap(\.setup.clock).min(), publicURL: nil,
                environment: environment.filter { !$0.key.hasPrefix("FHIR_SANDBOX_") })
        } catch {
            Options.fail(error.message)
        }
        let clock = SandboxClock(system: { Int64(Date().timeIntervalSince1970 * 1000) }, frozenAt: configuration.frozenClock)
        let (ready, readyContinuation) = AsyncStream<(Sandbox, Int)>.makeStream()
        let built: SandboxApplication
        do {
            built = try buildApplication(configuration: configuration, clock: clock) { sandbox, port in
                readyContinuation.yield((sandbox, port))
                readyContinuation.finish()
            }
        } catch {
            Options.fail(error.message)
        }
        let server = Task { try await built.runUntilCancelled() }
        var iterator = ready.makeAsyncIterator()
        guard let (sandbox, port) = await iterator.next() else { Options.fail("the sandbox did not start") }
        let certifier = Certifier(sandbox: sandbox, origin: "http://127.0.0.1:\(port)")
        let started = InstantFormat.iso(Int64(Date().timeIntervalSince1970 * 1000))
        var results: [ScenarioResult] = []
        Self.say("certify: kit \(kit), profile \(profile), \(selected.count) scenario(s), client: \(command.joined(separator: " "))")
        for (index, scenario) in selected.enumerated() {
            Self.say("[\(index + 1)/\(selected.count)] \(scenario.id): \(scenario.title)")
            let result = await certifier.run(scenario, profile: profile, command: command) { Self.say($0) }
            Self.say("  \(result.passed ? "pass" : "FAIL") (\(result.results.filter(\.passed).count)/\(result.results.count) checks)")
            results.append(result)
        }
        server.cancel()
        let report = Report(kit: chosen, profile: profile, command: command, startedAt: started, scenarios: results)
        for (path, text) in [(junit, report.junit), (html, report.html), (json, report.json.text + "\n")] {
            guard let path else { continue }
            do {
                try text.write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                Options.fail("cannot write \(path): \(error.localizedDescription)")
            }
        }
        print(report.summary)
        Foundation.exit(report.passed ? 0 : 1)
    }

    static func say(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
