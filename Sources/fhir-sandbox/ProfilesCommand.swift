import ArgumentParser
import FHIRInteractions
import Foundation
import SandboxAuth
import SandboxProfiles

/// `fhir-sandbox profiles list|show|lint`.
struct ProfilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles", abstract: "Inspect and validate profile files.", subcommands: [List.self, Show.self, Lint.self])

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
                print("fhirBase: \(profile.fhirBase)")
                print("search.defaultPageSize: \(profile.defaultPageSize)")
                print("search.maxPageSize: \(profile.maxPageSize)")
                print("search.unknownParameters: \(profile.unknownParameters.rawValue)")
                print("search.total: \(profile.rules.total.rawValue)")
                print("search.emptyResult: \(profile.rules.emptyResult.rawValue)")
                for (type, rule) in profile.rules.search.sorted(by: { $0.key < $1.key }) {
                    let sets = rule.requireOneOf.map { $0.joined(separator: "+") }.joined(separator: " | ")
                    print(
                        "search.rules.\(type): requireOneOf \(sets.isEmpty ? "-" : sets); maxMatches \(rule.maxMatches.map(String.init) ?? "-")"
                    )
                }
                print("errors.system: \(profile.rules.dialect.system ?? "-")")
                for (kind, entry) in profile.rules.dialect.entries.sorted(by: { $0.key < $1.key }) {
                    print("errors.codes.\(kind): \(entry.code) \(entry.severity ?? "") \(entry.status.map(String.init) ?? "")")
                }
                print("limits.maxBodyBytes: \(profile.maxBodyBytes)")
                let auth = profile.auth
                print("auth.mode: \(auth.mode.rawValue)")
                print("auth.path: \(auth.path) (token \(auth.tokenPath))")
                print("auth.tokenFormat: \(auth.tokenFormat.rawValue)")
                print("auth.tokenSeconds: \(auth.tokenSeconds)")
                print("auth.errorStyle: \(auth.errorStyle.rawValue)")
                print("auth.scopeResponse: \(auth.scopeResponse.rawValue)")
                print("auth.unregisteredScopes: \(auth.unregisteredScopes.rawValue)")
                print("auth.wildcardScopes: \(auth.wildcardScopes)")
                print("auth.ecdsaRequiresJwksUri: \(auth.ecdsaRequiresJwksUri)")
                print("auth.maxJTILength: \(auth.maxJTILength.map(String.init) ?? "none")")
                print("auth.codeSeconds: \(auth.codeSeconds)")
                print("auth.refreshDays: \(auth.refreshDays)")
                print("auth.rotateRefreshTokens: \(auth.rotateRefreshTokens)")
                print("auth.clientAuthMethods: \(auth.clientAuthMethods.map(\.rawValue).sorted().joined(separator: ", "))")
                print("auth.assertionAlgorithms: \(auth.assertionAlgorithms.map(\.rawValue).sorted().joined(separator: ", "))")
                print("auth.assertionMaxSeconds: \(auth.assertionMaxSeconds)")
                print("auth.scopeSyntax: \(auth.scopeSyntax.rawValue)")
                print("auth.pkcePlain: \(auth.pkcePlain)")
                print("auth.tokenType: \(auth.tokenType)")
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
