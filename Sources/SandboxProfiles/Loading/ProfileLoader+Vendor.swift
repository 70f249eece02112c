import FHIRCore
import FHIRInteractions
import FHIRSearch
import Foundation
import SandboxAuth
import YAMLReader

/// Profile sections that shape the vendor's data: create rules, paging links, Patient rendering.
extension ProfileLoader {
    /// `writes.createRules.<Type>`: required elements, values, codes, counts, reference targets,
    /// dateTimes with a time, substrings, and conditionally required elements.
    static func parseCreateRule(_ value: YAMLValue) throws(YAMLError) -> CreateRules.Rule {
        let map = try value.mapping(keys: ["required", "values", "codes", "count", "references", "withTime", "contains", "requiredWhen"])
        var rule = CreateRules.Rule()
        if let item = map["required"] { rule.required = try item.strings() }
        if let item = map["withTime"] { rule.withTime = try item.strings() }
        for (path, item) in try map["values"]?.entries() ?? [] { rule.values[path] = try item.strings() }
        for (path, item) in try map["codes"]?.entries() ?? [] { rule.codes[path] = try item.strings() }
        for (path, item) in try map["count"]?.entries() ?? [] {
            let count = try item.int()
            guard count >= 1 else { throw item.fail("must be at least 1") }
            rule.count[path] = count
        }
        for (path, item) in try map["references"]?.entries() ?? [] {
            let types = try item.strings()
            for type in types where type.first?.isUppercase != true { throw item.fail("'\(type)' is not a resource type") }
            rule.references[path] = types
        }
        for (path, item) in try map["contains"]?.entries() ?? [] { rule.contains[path] = try item.string() }
        for (path, item) in try map["requiredWhen"]?.entries() ?? [] {
            let condition = try item.mapping(keys: ["path", "code"])
            rule.requiredWhen.append(
                .init(path: path, when: try condition.required("path").string(), code: try condition.required("code").string()))
        }
        return rule
    }

    /// `search.paging`: the vendor's link relations and context parameters.
    static func parsePaging(_ value: YAMLValue) throws(YAMLError) -> PagingStyle.Settings {
        let map = try value.mapping(keys: ["links", "parameter", "direction", "keepParameters", "byType", "numbered"])
        var settings = PagingStyle.Settings()
        if let links = map["links"] {
            let names = try links.strings()
            for name in names where !["self", "first", "next", "previous", "last"].contains(name) {
                throw links.fail("'\(name)' is not a paging link (self, first, next, previous, last)")
            }
            settings.links = names
        }
        func style(_ map: YAMLMapping, _ base: PagingStyle.Style) throws(YAMLError) -> PagingStyle.Style {
            var style = base
            if let item = map["parameter"] {
                style.parameter = try item.string()
                guard !style.parameter.isEmpty, !style.parameter.hasPrefix("_") else {
                    throw item.fail("must be a parameter name not starting with _")
                }
            }
            if let item = map["direction"] { style.direction = try item.string() }
            if let item = map["keepParameters"] { style.keepParameters = try item.bool() }
            if let item = map["numbered"] { style.numbered = try item.bool() }
            return style
        }
        settings.style = try style(map, settings.style)
        for (type, item) in try map["byType"]?.entries() ?? [] {
            guard SearchRegistry.r4.supports(type) else { throw item.fail("'\(type)' is not a resource type this server serves") }
            settings.byType[type] = try style(item.mapping(keys: ["parameter", "direction", "keepParameters", "numbered"]), settings.style)
        }
        return settings
    }

    /// `render.Patient`: identifiers, extensions, names and telecom in the vendor's shape.
    static func parsePatientRendering(_ value: YAMLValue) throws(YAMLError) -> PatientRendering.Rules {
        let map = try value.mapping(keys: [
            "identifiers", "keepOtherIdentifiers", "extensions", "usualNameCopies", "telecom", "identifierSearchNeedsType", "dataAbsent",
            "currentNamesOnly", "mergedByIdOnly", "mergedReadRedirects",
        ])
        var rules = PatientRendering.Rules()
        for item in try map["identifiers"]?.list() ?? [] {
            let entry = try item.mapping(keys: ["from", "system", "type", "use", "value", "searchLabels"])
            var identifier = PatientRendering.Identifier(
                from: try entry.required("from").string(), system: try entry.required("system").string())
            if let type = entry["type"] { identifier.type = try jsonObject(type) }
            if let use = entry["use"] {
                identifier.use = try use.string()
                guard ["usual", "official", "temp", "secondary", "old"].contains(identifier.use!) else {
                    throw use.fail("must be usual, official, temp, secondary or old")
                }
            }
            if let text = entry["value"] { identifier.value = try text.string() }
            if let labels = entry["searchLabels"] { identifier.searchLabels = try labels.strings() }
            rules.identifiers.append(identifier)
        }
        if let item = map["keepOtherIdentifiers"] { rules.keepOtherIdentifiers = try item.bool() }
        for item in try map["extensions"]?.list() ?? [] {
            let entry = try item.mapping(keys: ["always", "byGender"])
            var extensionRule = PatientRendering.Extension()
            if let always = entry["always"] { extensionRule.always = try jsonObject(always, extension: true) }
            for (gender, json) in try entry["byGender"]?.entries() ?? [] {
                guard ["male", "female", "other", "unknown"].contains(gender) else {
                    throw json.fail("'\(gender)' is not an administrative gender (male, female, other, unknown)")
                }
                extensionRule.byGender[gender] = try jsonObject(json, extension: true)
            }
            guard extensionRule.always != nil || !extensionRule.byGender.isEmpty else { throw item.fail("needs always or byGender") }
            rules.extensions.append(extensionRule)
        }
        if let item = map["usualNameCopies"] { rules.usualNameCopies = try item.bool() }
        if let item = map["identifierSearchNeedsType"] { rules.identifierSearchNeedsType = try item.bool() }
        if let item = map["currentNamesOnly"] { rules.currentNamesOnly = try item.bool() }
        if let item = map["mergedByIdOnly"] { rules.mergedByIdOnly = try item.bool() }
        if let item = map["mergedReadRedirects"] { rules.mergedReadRedirects = try item.bool() }
        if let item = map["dataAbsent"] {
            rules.dataAbsent = try item.strings()
            for name in rules.dataAbsent
            where R4Model.shared.types["Patient"]?.elements[name].map({ PrimitiveCheck.isPrimitive($0.type) }) != true {
                throw item.fail("'\(name)' is not a primitive element of Patient")
            }
        }
        if let telecom = try map["telecom"]?.mapping(keys: [
            "phoneDigits", "telAddressExtension", "elementId", "rank", "expiredDuplicateEvery",
        ]) {
            if let item = telecom["phoneDigits"] { rules.telecom.phoneDigits = try item.bool() }
            if let item = telecom["telAddressExtension"] { rules.telecom.telAddressExtension = try item.bool() }
            if let item = telecom["elementId"] { rules.telecom.elementID = try item.string() }
            if let item = telecom["rank"] { rules.telecom.rank = try item.bool() }
            if let item = telecom["expiredDuplicateEvery"] {
                rules.telecom.expiredDuplicateEvery = try item.int()
                guard rules.telecom.expiredDuplicateEvery! >= 1 else { throw item.fail("must be at least 1") }
            }
        }
        return rules
    }

    /// A JSON object written as a JSON string in the YAML (exact types, no YAML guessing).
    static func jsonObject(_ item: YAMLValue, extension: Bool = false) throws(YAMLError) -> JSON {
        let text = try item.string()
        guard let json = try? JSONParser.parse(Array(text.utf8)), case .object(let object) = json else {
            throw item.fail("must be a JSON object written as a string, e.g. '{\"text\": \"MRN\"}'")
        }
        if `extension`, object["url"]?.stringValue == nil { throw item.fail("an extension needs a url") }
        return json
    }
}
