import ArgumentParser
import Foundation
import SandboxServer

/// `fhir-sandbox db reindex`.
struct DatabaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Maintain persisted tenant databases.", subcommands: [Reindex.self])

    struct Reindex: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild every search index from the stored resources (search results do not change).")
        @Option(name: .customLong("data-dir"), help: "Folder holding the tenant databases (env FHIR_SANDBOX_DATA_DIR).")
        var dataDirectory: String?
        @Option(help: "Seed folder, for the clinic's time zone (env FHIR_SANDBOX_SEED; default Seeds/default).")
        var seed: String?

        func run() throws {
            let environment = ProcessInfo.processInfo.environment
            guard let directory = dataDirectory ?? environment["FHIR_SANDBOX_DATA_DIR"] else {
                Options.fail("db reindex needs --data-dir (or FHIR_SANDBOX_DATA_DIR)")
            }
            let seedDirectory = Options.locate(seed ?? environment["FHIR_SANDBOX_SEED"], default: "Seeds/default")
            do {
                for (tenant, count) in try Maintenance.reindex(dataDirectory: directory, seedDirectory: seedDirectory) {
                    print("\(tenant): reindexed \(count) resources")
                }
            } catch {
                Options.fail(error.message)
            }
        }
    }
}
