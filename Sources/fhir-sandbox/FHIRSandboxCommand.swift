import ArgumentParser
import Foundation

/// `fhir-sandbox`: an offline stand-in for EHR FHIR R4 APIs.
struct FHIRSandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fhir-sandbox",
        abstract: "An offline stand-in for the EHR FHIR R4 APIs that scheduling integrations talk to.",
        subcommands: [
            ServeCommand.self, ProfilesCommand.self, DatabaseCommand.self, TokenCommand.self, CertifyCommand.self, HealthCommand.self,
        ],
        defaultSubcommand: ServeCommand.self)
}

/// The entry point: like ArgumentParser's own, except that a bad command line is reported in
/// one line (help and version requests still print in full).
@main
enum Entry {
    static func main() async {
        do {
            var command = try FHIRSandboxCommand.parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            if FHIRSandboxCommand.exitCode(for: error) == .success { FHIRSandboxCommand.exit(withError: error) }
            let message = FHIRSandboxCommand.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            Options.fail(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message)
        }
    }
}
