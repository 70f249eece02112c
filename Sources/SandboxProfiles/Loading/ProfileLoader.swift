import FHIRCore
import FHIRInteractions
import FHIRSearch
import Foundation
import SandboxAuth
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
            let bases = Set([profile.fhirBase] + profile.otherBases.map(\.fhirBase))
            if let clash = profiles.first(where: {
                $0.name == profile.name || !bases.isDisjoint(with: [$0.fhirBase] + $0.otherBases.map(\.fhirBase))
            }) {
                throw Failure("\(profile.file): name or fhirBase clashes with \(clash.file)")
            }
            profiles.append(profile)
        }
        if profiles.isEmpty { throw Failure("no profile files (*.yaml) in '\(directory)'") }
        return profiles
    }

    static func parse(_ root: YAMLValue, file: String) throws(YAMLError) -> Profile {
        let map = try root.mapping(keys: [
            "name", "description", "fhirBase", "search", "limits", "auth", "errors", "content", "resources", "ids", "writes",
            "otherTenants", "otherBases", "render", "deviations", "rateLimits", "latency", "visitTypes", "serviceTypes", "hl7",
            "context", "proprietary", "subscriptions",
        ])
        let name = try map.required("name").string()
        guard !name.isEmpty, name.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }) else {
            throw try map.required("name").fail("profile names are lowercase letters, digits and '-'")
        }
        let base = try mountPath(map.required("fhirBase"))
        var profile = Profile(name: name, description: try map["description"]?.string() ?? "", fhirBase: base, file: file)
        if let search = try map["search"]?.mapping(keys: [
            "defaultPageSize", "maxPageSize", "unknownParameters", "total", "emptyResult", "rules", "parameters", "paging", "expiredPages",
            "maxIncludes", "includeNeedsScope", "criteriaMessage", "countAliases",
        ]) {
            if let item = search["countAliases"] {
                let names = try item.strings()
                for name in names where name.isEmpty || name == "_count" || name.contains("=") || name.contains("&") {
                    throw item.fail("'\(name)' cannot stand for _count")
                }
                profile.rules.countAliases = names
            }
            if let item = search["criteriaMessage"] {
                let text = try item.string()
                guard text.contains("{combinations}") else { throw item.fail("must contain {combinations}") }
                profile.rules.criteriaMessage = text
            }
            if let item = search["maxIncludes"] {
                profile.rules.maxIncludes = try item.int()
                guard profile.rules.maxIncludes! >= 0 else { throw item.fail("must be 0 or more") }
            }
            if let item = search["includeNeedsScope"] { profile.rules.includeNeedsScope = try item.bool() }
            profile.rules.expiredPages = try choice(search["expiredPages"], ProfileRules.ExpiredPages.self) ?? .rerun
            if let paging = search["paging"] { profile.paging = try parsePaging(paging) }
            profile.searchParameters = try parseSearchParameters(search["parameters"])
            profile.rules.total = try choice(search["total"], ProfileRules.TotalMode.self) ?? profile.rules.total
            profile.rules.emptyResult = try choice(search["emptyResult"], ProfileRules.EmptyResult.self) ?? profile.rules.emptyResult
            if let rules = search["rules"] { profile.rules.search = try parseSearchRules(rules) }
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
        if let auth = map["auth"] { profile.auth = try parseAuth(auth) }
        if let errors = map["errors"] { profile.rules.dialect = try parseDialect(errors) }
        profile.ids = try named(map["ids"], among: Strategies.ids.keys) ?? profile.ids
        if let item = map["otherTenants"] {
            let other = try item.mapping(keys: ["pathPrefix", "status", "body"])
            let prefix = try other.required("pathPrefix").string()
            guard base.hasPrefix(prefix + "/"), prefix.hasPrefix("/"), !prefix.hasSuffix("/") else {
                throw try other.required("pathPrefix").fail("must be a leading part of fhirBase, like /cerner/r4")
            }
            let status = try other["status"]?.int() ?? 403
            guard (400...599).contains(status) else { throw try other.required("status").fail("must be 400-599") }
            profile.otherTenants = .init(pathPrefix: prefix, status: status, body: try other["body"]?.string() ?? "")
        }
        if let writes = try map["writes"]?.mapping(keys: [
            "emptyCreate", "emptyUpdateContentType", "requireIfMatch", "versionOffset", "appointments", "createRules", "duplicatePatients",
            "versionInLocation", "versionSuffix",
        ]) {
            for (type, item) in try writes["createRules"]?.entries() ?? [] {
                guard SearchRegistry.r4.supports(type) else { throw item.fail("'\(type)' is not a resource type this server serves") }
                profile.createRules[type] = try parseCreateRule(item)
            }
            if let item = writes["duplicatePatients"] {
                let text = try item.string()
                switch text {
                case "certain": profile.duplicatePatientScore = 90
                case "probable": profile.duplicatePatientScore = 70
                case "off": profile.duplicatePatientScore = nil
                default: throw item.fail("must be certain, probable or off, not '\(text)'")
                }
            }
            profile.writes.appointments = try named(writes["appointments"], among: Strategies.appointments.keys) ?? "r4"
            if let item = writes["emptyCreate"] { profile.writes.emptyCreate = try item.bool() }
            if let item = writes["emptyUpdateContentType"] { profile.writes.emptyUpdateContentType = try item.string() }
            if let item = writes["versionInLocation"] { profile.writes.versionInLocation = try item.bool() }
            if let item = writes["requireIfMatch"] {
                let names = try item.strings()
                for name in names where !["update", "patch"].contains(name) { throw item.fail("'\(name)' must be update or patch") }
                profile.writes.requireIfMatch = Set(names)
            }
            if let item = writes["versionOffset"] {
                profile.writes.versions.offset = try item.int()
                guard (-1...0).contains(profile.writes.versions.offset) else { throw item.fail("must be 0 or -1") }
            }
            if let item = writes["versionSuffix"] {
                let suffix = try item.mapping(keys: ["suffix", "types"])
                let text = try suffix.required("suffix").string()
                guard let first = text.first, !first.isNumber, !text.contains("\""), !text.contains(" ") else {
                    throw try suffix.required("suffix").fail("must be a non-empty suffix that does not start with a digit (like -1)")
                }
                profile.writes.versions.suffix = text
                profile.writes.versions.suffixed = Set(try knownTypes(try suffix.required("types")))
            }
        }
        if let resources = try map["resources"]?.mapping(keys: ["exclude", "interactions", "operations", "system"]) {
            if let exclude = resources["exclude"] { profile.excludedTypes = try knownTypes(exclude) }
            profile.rules.interactions = try parseInteractions(resources["interactions"])
            if let operations = resources["operations"] { profile.rules.operations = try parseOperations(operations) }
            if let item = resources["system"] {
                let names = try item.strings()
                let known = CapabilityStatementBuilder.systemInteractions
                for name in names where !known.contains(name) {
                    throw item.fail("'\(name)' is not a system interaction (\(known.joined(separator: ", ")))")
                }
                profile.rules.systemInteractions = known.filter(names.contains)
            }
        }
        if let context = try map["context"]?.mapping(keys: ["parameter", "value", "status", "body", "contentType"]) {
            let status = try context["status"]?.int() ?? 400
            guard (400...599).contains(status) else { throw try context.required("status").fail("must be 400-599") }
            profile.context = .init(
                parameter: try context.required("parameter").string(), value: try context.required("value").string(), status: status,
                body: try context.required("body").string(), contentType: try context["contentType"]?.string() ?? "application/json")
        }
        if let proprietary = try map["proprietary"]?.mapping(keys: ["style", "path", "scope"]) {
            let style = try named(proprietary.required("style"), among: Strategies.proprietary.keys) ?? ""
            profile.proprietary = .init(
                style: style, path: try mountPath(proprietary.required("path")), scope: try proprietary["scope"]?.string())
        }
        if let subscriptions = try map["subscriptions"]?.mapping(keys: ["style"]) {
            profile.topicSubscriptions = try named(subscriptions.required("style"), among: Strategies.subscriptions.keys)
        }
        if let hl7 = try map["hl7"]?.mapping(keys: ["outbound", "inboundPort", "application", "facility"]) {
            if let outbound = hl7["outbound"] {
                let destinations = try outbound.strings()
                for destination in destinations {
                    guard let colon = destination.lastIndex(of: ":"), colon != destination.startIndex,
                        let port = Int(destination[destination.index(after: colon)...]), (1...65535).contains(port)
                    else { throw outbound.fail("'\(destination)' is not HOST:PORT") }
                }
                profile.hl7Outbound = destinations
            }
            if let item = hl7["inboundPort"] {
                let port = try item.int()
                guard (0...65535).contains(port) else { throw item.fail("must be a port, 0-65535 (0: a free one)") }
                profile.hl7InboundPort = port
            }
            for key in ["application", "facility"] {
                guard let item = hl7[key] else { continue }
                let text = try item.string()
                guard !text.isEmpty, !text.contains(where: { "|^~\\&\r\n".contains($0) }) else {
                    throw item.fail("must be non-empty text without HL7 delimiters (| ^ ~ \\ &)")
                }
                if key == "application" { profile.hl7Application = text } else { profile.hl7Facility = text }
            }
        }
        profile.rateLimits = try parseRateLimits(map["rateLimits"])
        if let latency = map["latency"] { profile.latency = try parseLatency(latency) }
        for item in try map["deviations"]?.list() ?? [] {
            let entry = try item.mapping(keys: ["id", "reference", "what"])
            let id = try entry.required("id").string()
            guard !id.isEmpty, id.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }) else {
                throw try entry.required("id").fail("deviation ids are lowercase letters, digits and '-'")
            }
            guard !profile.deviations.contains(where: { $0.id == id }) else {
                throw try entry.required("id").fail("'\(id)' is declared twice")
            }
            profile.deviations.append(
                .init(id: id, reference: try entry.required("reference").string(), what: try entry.required("what").string()))
        }
        if let render = try map["render"]?.mapping(keys: ["Patient", "Slot", "Appointment", "idIdentifiers"]) {
            for item in try render["idIdentifiers"]?.list() ?? [] {
                let entry = try item.mapping(keys: ["type", "system", "prefix"])
                let type = try entry.required("type").string()
                guard SearchRegistry.r4.supports(type) else {
                    throw try entry.required("type").fail("'\(type)' is not a resource type this server serves")
                }
                profile.idIdentifiers.append(
                    .init(type: type, system: try entry.required("system").string(), prefix: try entry.required("prefix").string()))
            }
            if let appointment = try render["Appointment"]?.mapping(keys: ["identifier"]),
                let identifier = try appointment["identifier"]?.mapping(keys: ["system", "label"])
            {
                profile.appointmentIdentifier = .init(
                    system: try identifier.required("system").string(), label: try identifier.required("label").string())
            }
            if let patient = render["Patient"] { profile.patientRendering = try parsePatientRendering(patient) }
            if let slot = try render["Slot"]?.mapping(keys: ["locationExtension"]), let url = slot["locationExtension"] {
                profile.slotLocationExtension = try url.string()
                guard profile.slotLocationExtension!.hasPrefix("http") else { throw url.fail("must be an extension URL") }
            }
        }
        for item in try map["otherBases"]?.list() ?? [] {
            let entry = try item.mapping(keys: [
                "fhirBase", "fhirVersion", "resources", "search", "operationParameters", "onlyListedOperationParameters",
            ])
            var other = Profile.Base(fhirBase: try mountPath(entry.required("fhirBase")))
            guard other.fhirBase != base, !profile.otherBases.contains(where: { $0.fhirBase == other.fhirBase }) else {
                throw try entry.required("fhirBase").fail("'\(other.fhirBase)' is already a base of this profile")
            }
            other.release = try choice(entry["fhirVersion"], FHIRRelease.self) ?? .r4
            if let resources = try entry["resources"]?.mapping(keys: ["include", "interactions", "operations", "advertiseOperations"]) {
                if let include = resources["include"] { other.types = try knownTypes(include) }
                other.interactions = try parseInteractions(resources["interactions"])
                if let operations = resources["operations"] { other.operations = try parseOperations(operations) }
                if let item = resources["advertiseOperations"] { other.advertiseOperations = try item.bool() }
            }
            if let search = try entry["search"]?.mapping(keys: ["parameters"]) {
                other.searchParameters = try parseSearchParameters(search["parameters"])
            }
            for (operation, aliases) in try entry["operationParameters"]?.entries() ?? [] {
                guard other.operations.contains(operation) else {
                    throw aliases.fail("'\(operation)' is not one of this base's operations (\(other.operations.joined(separator: ", ")))")
                }
                other.operationParameters[operation] = try aliases.entries().map { (alias, canonical) throws(YAMLError) in
                    OperationParameters.Alias(alias, try canonical.string())
                }
            }
            if let item = entry["onlyListedOperationParameters"] { other.onlyListedOperationParameters = try item.bool() }
            profile.otherBases.append(other)
        }
        if let item = map["visitTypes"] { profile.visitTypeCodes = try parseCodeAliases(item) }
        if let item = map["serviceTypes"] { profile.serviceTypeCodes = try parseCodeAliases(item) }
        if let content = try map["content"]?.mapping(keys: ["strictAccept", "metadataXMLByDefault", "utcTimes"]) {
            if let item = content["utcTimes"] { profile.utcTimes = try item.bool() }
            if let strict = content["strictAccept"] { profile.strictAccept = try strict.bool() }
            if let xml = content["metadataXMLByDefault"] { profile.metadataXMLByDefault = try xml.bool() }
        }
        return profile
    }

    /// A mount path: absolute, no trailing slash, not under `/_`.
    static func mountPath(_ item: YAMLValue) throws(YAMLError) -> String {
        let base = try item.string()
        guard base.hasPrefix("/"), !base.hasSuffix("/"), !base.hasPrefix("/_"), !base.contains("//"), base.count > 1 else {
            throw item.fail("must be an absolute path like /fhir/r4 without a trailing slash, not under /_")
        }
        let bare = Profile.pathPlaceholders.reduce(base) { $0.replacingOccurrences(of: $1, with: "") }
        guard !bare.contains("{"), !bare.contains("}") else {
            throw item.fail("may hold only the placeholder \(Profile.pathPlaceholders.joined(separator: ", ")) (the seed's practice code)")
        }
        return base
    }

    static func knownTypes(_ item: YAMLValue) throws(YAMLError) -> [String] {
        let types = try item.strings()
        for type in types where !SearchRegistry.r4.supports(type) { throw item.fail("'\(type)' is not a resource type this server serves") }
        return types
    }

    /// `resources.interactions`: per type, interaction codes.
    static func parseInteractions(_ item: YAMLValue?) throws(YAMLError) -> [String: [String]] {
        let codes = Set(CapabilityStatementBuilder.typeInteractions)
        var result: [String: [String]] = [:]
        for (type, list) in try item?.entries() ?? [] {
            guard SearchRegistry.r4.supports(type) else { throw list.fail("'\(type)' is not a resource type this server serves") }
            let names = try list.strings()
            for name in names where !codes.contains(name) {
                throw list.fail("'\(name)' is not an interaction (\(CapabilityStatementBuilder.typeInteractions.joined(separator: ", ")))")
            }
            result[type] = names
        }
        return result
    }

    static func parseOperations(_ item: YAMLValue) throws(YAMLError) -> [String] {
        let names = try item.strings()
        for name in names where !name.contains("/$") { throw item.fail("operations are written Type/$name, not '\(name)'") }
        return names
    }

    /// `search.parameters`: per type, the only parameters served.
    static func parseSearchParameters(_ item: YAMLValue?) throws(YAMLError) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for (type, names) in try item?.entries() ?? [] {
            guard SearchRegistry.r4.supports(type) else { throw names.fail("'\(type)' is not a resource type this server serves") }
            let list = try names.strings()
            for name in list where SearchRegistry.r4.parameter(name, of: type) == nil {
                throw names.fail("'\(name)' is not a \(type) search parameter")
            }
            result[type] = list
        }
        return result
    }

    /// A strategy name: one of `names` (a registry's keys).
    static func named(_ item: YAMLValue?, among names: some Collection<String>) throws(YAMLError) -> String? {
        guard let item else { return nil }
        let text = try item.string()
        guard names.contains(text) else { throw item.fail("must be one of \(names.sorted().joined(separator: ", ")), not '\(text)'") }
        return text
    }

    static func choice<T: RawRepresentable & CaseIterable>(_ item: YAMLValue?, _: T.Type) throws(YAMLError) -> T?
    where T.RawValue == String {
        guard let item else { return nil }
        let text = try item.string()
        guard let value = T(rawValue: text) else {
            throw item.fail("must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), not '\(text)'")
        }
        return value
    }

    /// `search.rules`: per resource type, `requireOneOf` (lists of parameter names) and `maxMatches`.
    static func parseSearchRules(_ value: YAMLValue) throws(YAMLError) -> [String: ProfileRules.SearchRule] {
        let registry = SearchRegistry.r4
        var rules: [String: ProfileRules.SearchRule] = [:]
        for (type, item) in try value.entries() {
            guard registry.supports(type) else { throw item.fail("'\(type)' is not a resource type this server serves") }
            let map = try item.mapping(keys: [
                "requireOneOf", "exactlyOneOf", "requires", "once", "oneValue", "ranges", "dateOnly", "implied", "impliedWith",
                "maxMatches", "sort", "aliases", "weightedMatch",
            ])
            var rule = ProfileRules.SearchRule()
            func known(_ names: [String], _ at: YAMLValue) throws(YAMLError) -> [String] {
                for name in names {
                    let base = String(name.split(separator: ".").first?.split(separator: ":").first ?? "")
                    guard registry.parameter(base, of: type) != nil || ["_id", "_lastUpdated"].contains(name) else {
                        throw at.fail("'\(name)' is not a \(type) search parameter")
                    }
                }
                return names
            }
            for set in try map["requireOneOf"]?.list() ?? [] {
                let names = try known(set.strings(), set)
                guard !names.isEmpty else { throw set.fail("an empty parameter set would match every search") }
                rule.requireOneOf.append(names)
            }
            if let value = map["exactlyOneOf"] { rule.exactlyOneOf = try known(value.strings(), value) }
            if let value = map["once"] { rule.once = try known(value.strings(), value) }
            if let value = map["oneValue"] { rule.oneValue = try known(value.strings(), value) }
            if let value = map["dateOnly"] { rule.dateOnly = try known(value.strings(), value) }
            for (trigger, needed) in try map["requires"]?.entries() ?? [] {
                _ = try known([trigger], needed)
                rule.requires[trigger] = try known(needed.strings(), needed)
            }
            for (name, form) in try map["ranges"]?.entries() ?? [] {
                _ = try known([name], form)
                rule.ranges[name] = try choice(form, ProfileRules.RangeForm.self)
            }
            for (name, value) in try map["implied"]?.entries() ?? [] {
                _ = try known([name], value)
                rule.implied.append((name, try value.string()))
            }
            for (trigger, added) in try map["impliedWith"]?.entries() ?? [] {
                _ = try known([trigger], added)
                for (name, value) in try added.entries() {
                    _ = try known([name], value)
                    rule.impliedWith.append((trigger, name, try value.string()))
                }
            }
            for (name, item) in try map["aliases"]?.entries() ?? [] {
                let alias = try item.mapping(keys: ["parameter", "type"])
                let target = try alias.required("parameter")
                let parameter = try target.string()
                _ = try known([parameter], target)
                let referenceType = try alias["type"]?.string()
                if let referenceType, !registry.supports(referenceType) {
                    throw alias["type"]!.fail("'\(referenceType)' is not a resource type")
                }
                rule.aliases[name] = .init(parameter: parameter, type: referenceType)
            }
            if let item = map["weightedMatch"] {
                guard type == "Patient" else { throw item.fail("weightedMatch is for Patient searches") }
                rule.weightedMatch = try item.int()
                guard (45...100).contains(rule.weightedMatch!) else { throw item.fail("must be between 45 and 100") }
            }
            if let item = map["sort"] {
                let order = try item.string()
                _ = try known(order.split(separator: ",").map { String($0.drop { $0 == "-" }) }, item)
                rule.sort = order
            }
            if let item = map["maxMatches"] {
                rule.maxMatches = try item.int()
                guard rule.maxMatches! >= 1 else { throw item.fail("must be at least 1") }
            }
            rules[type] = rule
        }
        return rules
    }

    /// `{system, codes: {clinic code: vendor code, or {code, display}}}`.
    static func parseCodeAliases(_ value: YAMLValue) throws(YAMLError) -> CodeAliases {
        let map = try value.mapping(keys: ["system", "codes"])
        var codes: [String: String] = [:]
        var displays: [String: String] = [:]
        for (clinic, vendor) in try map.required("codes").entries() {
            let code: String
            if let text = try? vendor.string() {
                code = text
            } else {
                let entry = try vendor.mapping(keys: ["code", "display"])
                code = try entry.required("code").string()
                if let display = try entry["display"]?.string() { displays[code] = display }
            }
            guard codes[code] == nil else { throw vendor.fail("'\(code)' already names \(codes[code]!)") }
            codes[code] = clinic
        }
        return CodeAliases(system: try map.required("system").string(), codes: codes, displays: displays)
    }

    /// `errors`: `system` for `issue.details.coding`, and `codes` by error kind.
    static func parseDialect(_ value: YAMLValue) throws(YAMLError) -> ErrorDialect {
        let map = try value.mapping(keys: ["system", "codes"])
        var dialect = ErrorDialect(system: try map["system"]?.string())
        let kinds = Set(FHIRError.Code.table.map(\.name) + ErrorDialect.outcomeKinds)
        for (kind, item) in try map["codes"]?.entries() ?? [] {
            guard kinds.contains(kind) else {
                throw item.fail("'\(kind)' is not an error kind (known: \(kinds.sorted().joined(separator: ", ")))")
            }
            let entry = try item.mapping(keys: ["code", "severity", "text", "status", "body", "issueType"])
            var parsed = ErrorDialect.Entry(code: try entry["code"]?.string(), text: try entry["text"]?.string())
            parsed.body = try choice(entry["body"], ErrorDialect.Body.self) ?? .outcome
            if parsed.body == .text && parsed.text == nil { throw item.fail("body: text needs a text") }
            if let severity = entry["severity"] {
                let text = try severity.string()
                guard ["fatal", "error", "warning", "information"].contains(text) else {
                    throw severity.fail("must be fatal, error, warning or information")
                }
                parsed.severity = text
            }
            if let issueType = entry["issueType"] {
                let text = try issueType.string()
                guard !text.isEmpty, text.allSatisfy({ $0.isLowercase || $0 == "-" }) else {
                    throw issueType.fail("must be an OperationOutcome issue type code such as forbidden or not-found")
                }
                parsed.issueType = text
            }
            if let status = entry["status"] {
                parsed.status = try status.int()
                guard (400...599).contains(parsed.status!) else { throw status.fail("must be an HTTP error status (400-599)") }
            }
            dialect.entries[kind] = parsed
        }
        return dialect
    }
}
