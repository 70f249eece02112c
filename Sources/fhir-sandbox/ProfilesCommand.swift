import ArgumentParser
import Foundation
import SandboxAuth
import SandboxProfiles

/// `fhir-sandbox profiles list|show|lint`.
struct ProfilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles", abstract: "Inspect and validate profile files.",
        subcommands: [List.self, Show.self, Lint.self, Table.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the profiles in the profiles folder.")
        @Option(name: .customLong("profiles-dir"), help: "Folder of profile files (default Profiles).")
        var profilesDirectory: String?

        func run() throws {
            let directory = Options.profilesDirectory(profilesDirectory)
            do {
                for profile in try ProfileLoader.loadAll(directory: directory) {
                    print(
                        "\(profile.name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(profile.fhirBase.padding(toLength: 48, withPad: " ", startingAt: 0)) \(profile.description)"
                    )
                }
            } catch {
                Options.fail(error.description)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one profile's effective settings.")
        @Argument(help: "Profile name.") var name: String
        @Option(name: .customLong("profiles-dir"), help: "Folder of profile files (default Profiles).")
        var profilesDirectory: String?

        func run() throws {
            let directory = Options.profilesDirectory(profilesDirectory)
            do {
                guard let profile = try ProfileLoader.loadAll(directory: directory).first(where: { $0.name == name }) else {
                    Options.fail("no profile named '\(name)' in \(directory)")
                }
                print("name: \(profile.name)")
                print("file: \(profile.file)")
                print("description: \(profile.description)")
                for (key, value) in profile.facts { print("\(key): \(value)") }
            } catch {
                Options.fail(error.description)
            }
        }
    }

    struct Table: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a Markdown table comparing every profile's settings (the README's vendor-differences table).")
        @Option(name: .customLong("profiles-dir"), help: "Folder of profile files (default Profiles).")
        var profilesDirectory: String?

        func run() throws {
            do {
                print(Profile.table(try ProfileLoader.loadAll(directory: Options.profilesDirectory(profilesDirectory))))
            } catch {
                Options.fail(error.description)
            }
        }
    }

    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a profile file; exits non-zero with file, line and key on error.")
        @Argument(help: "Profile file.") var file: String

        func run() throws {
            do {
                let profile = try ProfileLoader.load(file: file)
                print("\(file): ok (profile \(profile.name) at \(profile.fhirBase))")
            } catch {
                Options.fail(error.description)
            }
        }
    }
}
