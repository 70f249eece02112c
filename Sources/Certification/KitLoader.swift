import FHIRCore
import Foundation
import YAMLReader

/// Reads scenario kits, with file, line and key in every error (like profiles).
public enum KitLoader {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// Every kit in `directory` (`*.yaml`, by file name).
    public static func loadAll(directory: String) throws(Failure) -> [Kit] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var kits: [Kit] = []
        for name in names.sorted() where name.hasSuffix(".yaml") && !name.hasPrefix(".") {
            let kit = try load(file: "\(directory)/\(name)")
            if let clash = kits.first(where: { $0.name == kit.name }) {
                throw Failure("\(kit.file): kit '\(kit.name)' is also defined in \(clash.file)")
            }
            kits.append(kit)
        }
        return kits
    }

    public static func load(file: String) throws(Failure) -> Kit {
        do {
            return try parse(try YAMLValue.load(file: file), file: file)
        } catch {
            throw Failure(error.description)
        }
    }

    static func parse(_ root: YAMLValue, file: String) throws(YAMLError) -> Kit {
        let map = try root.mapping(keys: ["kit", "description", "scenarios"])
        let name = try map.required("kit").string()
        guard Self.isName(name) else { throw try map.required("kit").fail("must be letters, digits and -") }
        var scenarios: [Scenario] = []
        for item in try map.required("scenarios").list() {
            let scenario = try parseScenario(item)
            if scenarios.contains(where: { $0.id == scenario.id }) { throw item.fail("scenario id '\(scenario.id)' is used twice") }
            scenarios.append(scenario)
        }
        guard !scenarios.isEmpty else { throw try map.required("scenarios").fail("a kit needs at least one scenario") }
        return Kit(name: name, description: try map["description"]?.string() ?? "", scenarios: scenarios, file: file)
    }

    static func parseScenario(_ item: YAMLValue) throws(YAMLError) -> Scenario {
        let map = try item.mapping(keys: ["id", "title", "profiles", "setup", "task", "timeoutSeconds", "checks"])
        let id = try map.required("id").string()
        guard Self.isName(id) else { throw try map.required("id").fail("must be letters, digits and -") }
        var setup = Scenario.Setup()
        if let value = map["setup"] {
            let fields = try value.mapping(keys: ["clock", "faults", "actions"])
            if let clock = fields["clock"] {
                let text = try clock.string()
                guard FHIRDateTime.parse(text, form: .instant) != nil else { throw clock.fail("must be an instant with a zone") }
                setup.clock = text
            }
            setup.faults = try (fields["faults"]?.list() ?? []).map { item throws(YAMLError) in try item.json() }
            setup.actions = try (fields["actions"]?.list() ?? []).map { item throws(YAMLError) in try item.json() }
        }
        guard case .object(let task) = try map.required("task").json() else {
            throw try map.required("task").fail("expected a mapping")
        }
        let timeout = try map["timeoutSeconds"]?.int() ?? 60
        guard (1...3600).contains(timeout) else { throw try map.required("timeoutSeconds").fail("must be 1 to 3600") }
        var checks: [Check] = []
        for entry in try map.required("checks").list() {
            let check = try parseCheck(entry)
            if checks.contains(where: { $0.id == check.id }) { throw entry.fail("check id '\(check.id)' is used twice") }
            checks.append(check)
        }
        guard !checks.isEmpty else { throw try map.required("checks").fail("a scenario needs at least one check") }
        return Scenario(
            id: id, title: try map.required("title").string(), profiles: try map["profiles"]?.strings(), setup: setup, task: task,
            timeoutSeconds: timeout, checks: checks)
    }

    static func parseCheck(_ item: YAMLValue) throws(YAMLError) -> Check {
        let map = try item.mapping(keys: ["id", "kind", "severity", "message", "with"])
        let kindText = try map.required("kind").string()
        guard let kind = CheckKind(rawValue: kindText) else {
            throw try map.required("kind").fail(
                "unknown check kind '\(kindText)' (one of \(CheckKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let severityText = try map["severity"]?.string() ?? "required"
        guard let severity = Check.Severity(rawValue: severityText) else {
            throw try map.required("severity").fail("must be required or recommended")
        }
        var parameters = JSONObject()
        if let with = map["with"] {
            guard case .object(let object) = try with.json() else { throw with.fail("expected a mapping") }
            parameters = object
        }
        return Check(
            id: try map.required("id").string(), kind: kind, severity: severity, message: try map.required("message").string(),
            parameters: parameters)
    }

    static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }
}
