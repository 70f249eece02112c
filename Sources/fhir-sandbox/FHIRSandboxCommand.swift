import ArgumentParser

/// `fhir-sandbox`: an offline stand-in for EHR FHIR R4 APIs.
@main
struct FHIRSandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fhir-sandbox",
        abstract: "An offline stand-in for the EHR FHIR R4 APIs that scheduling integrations talk to.",
        subcommands: [ServeCommand.self, ProfilesCommand.self, DatabaseCommand.self],
        defaultSubcommand: ServeCommand.self)
}
