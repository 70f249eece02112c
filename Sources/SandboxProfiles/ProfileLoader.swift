import Foundation
import YAMLReader

/// Reads and checks profile files. Unknown keys and bad values fail with file, line and key.
public enum ProfileLoader {
    /// Why a profile could not be loaded.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// Loads one file.
    public static func load(file: String) throws(Failure) -> Profile {
        do {
            return try parse(YAMLValue.load(file: file), file: file)
        } catch {
            throw Failure(error.description)
        }
    }

    /// Loads every `*.yaml` in `directory`, sorted by name; names and mount paths must be unique.
    public static func loadAll(directory: String) throws(Failure) -> [Profile] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw Failure("cannot read profiles folder '\(directory)'")
        }
        var profiles: [Profile] = []
        for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            let profile = try load(file: "\(directory)/\(name)")
            if let clash = profiles.first(where: { $0.name == profile.name || $0.fhirBase == profile.fhirBase }) {
                throw Failure("\(profile.file): name or fhirBase clashes with \(clash.file)")
            }
            profiles.append(profile)
        }
        if profiles.isEmpty { throw Failure("no profile files (*.yaml) in '\(directory)'") }
        return profiles
    }

    static func parse(_ root: YAMLValue, file: String) throws(YAMLError) -> Profile {
        let map = try root.mapping(keys: ["name", "description", "fhirBase", "search", "limits"])
        let name = try map.required("name").string()
        guard !name.isEmpty, name.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }) else {
            throw try map.required("name").fail("profile names are lowercase letters, digits and '-'")
        }
        let base = try map.required("fhirBase").string()
        guard base.hasPrefix("/"), !base.hasSuffix("/"), !base.hasPrefix("/_"), !base.contains("//"), base.count > 1 else {
            throw try map.required("fhirBase").fail("must be an absolute path like /fhir/r4 without a trailing slash, not under /_")
        }
        var profile = Profile(name: name, description: try map["description"]?.string() ?? "", fhirBase: base, file: file)
        if let search = try map["search"]?.mapping(keys: ["defaultPageSize", "maxPageSize", "unknownParameters"]) {
            if let value = search["defaultPageSize"] {
                profile.defaultPageSize = try value.int()
                guard profile.defaultPageSize >= 1 else { throw value.fail("must be at least 1") }
            }
            if let value = search["maxPageSize"] {
                profile.maxPageSize = try value.int()
                guard profile.maxPageSize >= profile.defaultPageSize else { throw value.fail("must be at least defaultPageSize") }
            }
            if let value = search["unknownParameters"] {
                let text = try value.string()
                guard let mode = Profile.UnknownParameters(rawValue: text) else {
                    throw value.fail("must be lenient or strict, not '\(text)'")
                }
                profile.unknownParameters = mode
            }
        }
        if let limits = try map["limits"]?.mapping(keys: ["maxBodyBytes"]), let value = limits["maxBodyBytes"] {
            profile.maxBodyBytes = try value.int()
            guard (1024...(256 << 20)).contains(profile.maxBodyBytes) else { throw value.fail("must be between 1024 and 268435456") }
        }
        return profile
    }
}
