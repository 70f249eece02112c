import FHIRCore
import FHIRInteractions
import SandboxAuth
import SandboxFaults

extension Profile {
    /// The profile's effective settings as (key, value) lines: what `profiles show` prints and
    /// what `profiles table` (the README's vendor-differences table) compares.
    public var facts: [(key: String, value: String)] {
        var facts: [(String, String)] = [
            ("fhirBase", fhirBase),
            (
                "ids",
                ids
                    + (ids == "identity"
                        ? "" : " (pat-0001 → \(Strategies.idScheme(self, seed: nil).external("pat-0001", type: "Patient")))")
            ),
            ("search.defaultPageSize", String(defaultPageSize)),
            ("search.maxPageSize", String(maxPageSize)),
            ("search.unknownParameters", unknownParameters.rawValue),
            ("search.total", rules.total.rawValue),
            ("search.emptyResult", rules.emptyResult.rawValue),
            ("search.expiredPages", rules.expiredPages.rawValue),
            ("search.maxIncludes", rules.maxIncludes.map(String.init) ?? "-"),
            ("search.criteriaMessage", rules.criteriaMessage ?? "-"),
            ("search.includeNeedsScope", String(rules.includeNeedsScope)),
        ]
        if let paging {
            func describe(_ style: PagingStyle.Style) -> String {
                if style.numbered { return "\(style.parameter)=<number from 1> (with the search's parameters)" }
                return "\(style.parameter)=<context>" + (style.direction.map { "&\($0)=NEXT" } ?? "")
                    + (style.keepParameters ? " (with the search's parameters)" : " (without the search's parameters)")
            }
            facts.append(
                ("search.paging", (paging.links.map { "links " + $0.joined(separator: ", ") + "; " } ?? "") + describe(paging.style)))
            for (type, style) in paging.byType.sorted(by: { $0.key < $1.key }) { facts.append(("search.paging.\(type)", describe(style))) }
        } else {
            facts.append(("search.paging", "_page_token/_page_offset; links self, first, next, previous, last"))
        }
        for (type, names) in searchParameters.sorted(by: { $0.key < $1.key }) {
            facts.append(("search.parameters.\(type)", names.joined(separator: ", ")))
        }
        for (type, rule) in rules.search.sorted(by: { $0.key < $1.key }) {
            var parts: [String] = []
            if !rule.requireOneOf.isEmpty {
                parts.append("one of " + rule.requireOneOf.map { $0.joined(separator: "+") }.joined(separator: " / "))
            }
            if !rule.exactlyOneOf.isEmpty { parts.append("exactly one of " + rule.exactlyOneOf.joined(separator: "/")) }
            for (trigger, needed) in rule.requires.sorted(by: { $0.key < $1.key }) {
                parts.append("\(trigger) needs \(needed.joined(separator: "+"))")
            }
            for (name, form) in rule.ranges.sorted(by: { $0.key < $1.key }) { parts.append("\(name) as \(form.rawValue)") }
            if !rule.once.isEmpty { parts.append("once: " + rule.once.joined(separator: ", ")) }
            if !rule.oneValue.isEmpty { parts.append("one value: " + rule.oneValue.joined(separator: ", ")) }
            if !rule.dateOnly.isEmpty { parts.append("no time: " + rule.dateOnly.joined(separator: ", ")) }
            for (name, value) in rule.implied { parts.append("always \(name)=\(value)") }
            for (trigger, name, value) in rule.impliedWith { parts.append("with \(trigger): \(name)=\(value)") }
            if let limit = rule.maxMatches { parts.append("max \(limit) matches") }
            if let order = rule.sort { parts.append("sorted by \(order)") }
            if let minimum = rule.weightedMatch { parts.append("demographics as a weighted match (score ≥ \(minimum))") }
            for (name, alias) in rule.aliases.sorted(by: { $0.key < $1.key }) {
                parts.append("\(name) = \(alias.parameter)\(alias.type.map { " (bare ids: \($0))" } ?? "")")
            }
            facts.append(("search.rules.\(type)", parts.joined(separator: "; ")))
        }
        facts.append(("resources.exclude", excludedTypes.isEmpty ? "-" : excludedTypes.joined(separator: ", ")))
        for (type, names) in rules.interactions.sorted(by: { $0.key < $1.key }) {
            facts.append(("resources.interactions.\(type)", names.joined(separator: ", ")))
        }
        facts.append(("resources.operations", rules.operations.map { $0.isEmpty ? "none" : $0.joined(separator: ", ") } ?? "all"))
        facts.append(
            ("resources.system", rules.systemInteractions.map { $0.isEmpty ? "none" : $0.joined(separator: ", ") } ?? "all"))
        if otherBases.isEmpty { facts.append(("otherBases", "-")) }
        for base in otherBases {
            let types = base.types.map { type in
                base.interactions[type].map { "\(type) \($0.joined(separator: "+"))" } ?? type
            }
            let operations =
                base.operations.isEmpty
                ? "" : "; " + base.operations.joined(separator: ", ") + (base.advertiseOperations ? "" : " (not advertised)")
            let aliases = base.operationParameters.sorted(by: { $0.key < $1.key }).flatMap {
                $0.value.map { "\($0.alias)→\($0.canonical)" }
            }
            facts.append(
                (
                    "otherBases",
                    "\(base.fhirBase) (\(base.release.rawValue)): \(types.joined(separator: ", "))\(operations)"
                        + (aliases.isEmpty ? "" : "; names " + aliases.joined(separator: ", "))
                        + (base.onlyListedOperationParameters ? " (only these)" : "")
                ))
        }
        let render = patientRendering
        facts.append(
            (
                "render.Patient.identifiers",
                render.identifiers.isEmpty
                    ? "as stored"
                    : render.identifiers.map { rule in
                        let label = rule.type.flatMap { $0["text"]?.stringValue } ?? rule.system
                        return rule.value == "{value}" ? "\(label) \(rule.system)" : "\(label) \(rule.system) = \"\(rule.value)\""
                    }.joined(separator: "; ")
            ))
        facts.append(
            (
                "render.Patient.extensions",
                render.extensions.isEmpty
                    ? "-"
                    : render.extensions.compactMap {
                        ($0.always ?? $0.byGender.values.first)?["url"]?.stringValue?.split(separator: "/").last
                    }
                    .joined(separator: ", ")
            ))
        facts.append(("render.Patient.usualNameCopies", String(render.usualNameCopies)))
        facts.append(("render.Patient.identifierSearchNeedsType", String(render.identifierSearchNeedsType)))
        facts.append(("render.Patient.currentNamesOnly", String(render.currentNamesOnly)))
        facts.append(("render.Patient.mergedByIdOnly", String(render.mergedByIdOnly)))
        facts.append(("render.Patient.mergedReadRedirects", String(render.mergedReadRedirects)))
        facts.append(("render.Patient.dataAbsent", render.dataAbsent.isEmpty ? "-" : render.dataAbsent.joined(separator: ", ")))
        facts.append(("render.Slot.locationExtension", slotLocationExtension ?? "-"))
        let telecom = render.telecom
        facts.append(
            (
                "render.Patient.telecom",
                [
                    telecom.phoneDigits ? "raw digits" : nil, telecom.telAddressExtension ? "iso21090-TEL-address" : nil,
                    telecom.elementID.map { "ids \($0)" }, telecom.rank ? "rank" : nil,
                    telecom.expiredDuplicateEvery.map { "expired duplicate every \($0)" },
                ].compactMap { $0 }.joined(separator: ", ").nonEmpty ?? "as stored"
            ))
        func aliases(_ codes: CodeAliases?) -> String {
            codes.map { vendor in
                vendor.system + ": "
                    + vendor.codes.sorted(by: { $0.value < $1.value }).map { "\($0.value)=\($0.key)" }.joined(separator: ", ")
            } ?? "-"
        }
        facts.append(("render.Appointment.identifier", appointmentIdentifier.map { "\($0.label) in \($0.system)" } ?? "-"))
        facts.append(
            (
                "render.idIdentifiers",
                idIdentifiers.isEmpty
                    ? "-" : idIdentifiers.map { "\($0.type): \($0.system) = id without \($0.prefix)" }.joined(separator: "; ")
            ))
        facts.append(("visitTypes", aliases(visitTypeCodes)))
        facts.append(("serviceTypes", aliases(serviceTypeCodes)))
        facts.append(("content.strictAccept", String(strictAccept)))
        facts.append(("content.metadataXMLByDefault", String(metadataXMLByDefault)))
        facts.append(("content.utcTimes", String(utcTimes)))
        facts.append(("otherTenants", otherTenants.map { "\($0.pathPrefix)/*: HTTP \($0.status) \($0.body)" } ?? "-"))
        facts.append(("writes.emptyCreate", String(writes.emptyCreate)))
        facts.append(("writes.emptyUpdateContentType", writes.emptyUpdateContentType ?? "-"))
        facts.append(
            ("writes.requireIfMatch", writes.requireIfMatch.isEmpty ? "-" : writes.requireIfMatch.sorted().joined(separator: ", ")))
        facts.append(("writes.versionOffset", String(writes.versions.offset)))
        facts.append(
            (
                "writes.versionSuffix",
                writes.versions.suffixed.isEmpty
                    ? "-" : "\(writes.versions.suffix) on \(writes.versions.suffixed.sorted().joined(separator: ", "))"
            ))
        facts.append(("writes.versionInLocation", String(writes.versionInLocation)))
        facts.append(("context", context.map { "\($0.parameter)=\($0.value) on every call, else HTTP \($0.status) \($0.body)" } ?? "-"))
        facts.append(("search.countAliases", rules.countAliases.isEmpty ? "-" : rules.countAliases.joined(separator: ", ") + " = _count"))
        facts.append(("proprietary", proprietary.map { "\($0.style) at \($0.path) (\($0.scopeNeeded))" } ?? "-"))
        facts.append(("subscriptions", topicSubscriptions.map { "\($0) (R5 backport topics)" } ?? "-"))
        facts.append(("hl7.inboundPort", hl7InboundPort.map { $0 == 0 ? "a free port" : String($0) } ?? "-"))
        facts.append(("hl7.application", hl7Application ?? "FHIR-SANDBOX"))
        facts.append(("hl7.facility", hl7Facility ?? "the seed's"))
        facts.append(("hl7.outbound", hl7Outbound.isEmpty ? "-" : hl7Outbound.joined(separator: ", ")))
        if rateLimits.isEmpty { facts.append(("rateLimits", "none")) }
        for limit in rateLimits {
            facts.append(
                (
                    "rateLimits.\(limit.name)",
                    "\(limit.requests) \(limit.counts.map(\.rawValue).sorted().joined(separator: "+")) calls / \(limit.windowSeconds) s "
                        + "per \(limit.per.rawValue) → \(limit.status)\(limit.retryAfter ? " + Retry-After" : ""), "
                        + (limit.enabledByDefault ? "on" : "off") + " by default"
                ))
        }
        facts.append(
            (
                "latency",
                latency.map { model in
                    LatencyModel.Class.allCases.compactMap { kind in
                        model.ranges[kind].map { "\(kind.rawValue) \($0.minMs)-\($0.maxMs) ms" }
                    }.joined(separator: ", ")
                } ?? "-"
            ))
        facts.append(("writes.appointments", writes.appointments))
        facts.append(("writes.duplicatePatients", duplicatePatientScore.map { $0 >= 90 ? "certain" : "probable" } ?? "off"))
        for (type, rule) in createRules.sorted(by: { $0.key < $1.key }) {
            var parts: [String] = []
            if !rule.required.isEmpty { parts.append("needs " + rule.required.joined(separator: ", ")) }
            for (path, values) in rule.values.sorted(by: { $0.key < $1.key }) {
                parts.append("\(path) in \(values.joined(separator: " or "))")
            }
            for (path, codes) in rule.codes.sorted(by: { $0.key < $1.key }) {
                parts.append("\(path) coded \(codes.joined(separator: " or "))")
            }
            for (path, count) in rule.count.sorted(by: { $0.key < $1.key }) { parts.append("\(count) \(path)") }
            for (path, types) in rule.references.sorted(by: { $0.key < $1.key }) {
                parts.append("\(path) → \(types.joined(separator: " or "))")
            }
            if !rule.withTime.isEmpty { parts.append("times on " + rule.withTime.joined(separator: ", ")) }
            for (path, text) in rule.contains.sorted(by: { $0.key < $1.key }) { parts.append("\(path) contains \(text)") }
            for conditional in rule.requiredWhen { parts.append("\(conditional.path) when \(conditional.when)=\(conditional.code)") }
            facts.append(("writes.createRules.\(type)", parts.joined(separator: "; ")))
        }
        facts.append(("errors.system", rules.dialect.system ?? "-"))
        for (kind, entry) in rules.dialect.entries.sorted(by: { $0.key < $1.key }) {
            let parts = [
                entry.code, entry.severity, entry.status.map { "HTTP \($0)" }, entry.body == .outcome ? nil : "\(entry.body.rawValue) body",
            ].compactMap { $0 }
            facts.append(("errors.codes.\(kind)", parts.joined(separator: ", ")))
        }
        facts.append(("limits.maxBodyBytes", String(maxBodyBytes)))
        facts.append(("deviations", deviations.isEmpty ? "-" : deviations.map(\.id).joined(separator: ", ")))
        facts += [
            ("auth.mode", auth.mode.rawValue),
            ("auth.tokenPath", auth.tokenPath),
            ("auth.jwksPath", auth.jwksPath),
            ("auth.revokePath", auth.revokePath),
            ("auth.issuer", auth.issuerIsFHIRBase ? "the FHIR base" : auth.issuer ?? "the token endpoint's base"),
            ("auth.allowListedJwksOnly", String(auth.allowListedJwksOnly)),
            ("auth.serviceScopes", auth.serviceScopes.isEmpty ? "-" : auth.serviceScopes.sorted().joined(separator: ", ")),
            ("auth.tokenFormat", auth.tokenFormat.rawValue),
            ("auth.tokenSeconds", String(auth.tokenSeconds)),
            ("auth.tokenType", auth.tokenType),
            ("auth.disabledClient", auth.disabledClient.rawValue),
            ("auth.scopeSyntax", auth.scopeSyntax.rawValue),
            ("auth.wildcardScopes", String(auth.wildcardScopes)),
            ("auth.advertisedScopes", auth.advertisedScopes?.joined(separator: " ") ?? "derived"),
            ("auth.extraCapabilities", auth.extraCapabilities.isEmpty ? "-" : auth.extraCapabilities.joined(separator: ", ")),
            ("auth.unregisteredScopes", auth.unregisteredScopes.rawValue),
            ("auth.scopeResponse", auth.scopeResponse),
            ("auth.clientAuthMethods", auth.clientAuthMethods.map(\.rawValue).sorted().joined(separator: ", ")),
            ("auth.assertionAlgorithms", auth.assertionAlgorithms.map(\.rawValue).sorted().joined(separator: ", ")),
            ("auth.ecdsaRequiresJwksUri", String(auth.ecdsaRequiresJwksUri)),
            ("auth.assertionMaxSeconds", String(auth.assertionMaxSeconds)),
            ("auth.maxJTILength", auth.maxJTILength.map(String.init) ?? "none"),
            ("auth.errorStyle", auth.errorStyle),
            ("auth.codeSeconds", String(auth.codeSeconds)),
            ("auth.refreshDays", String(auth.refreshDays)),
            ("auth.rotateRefreshTokens", String(auth.rotateRefreshTokens)),
            ("auth.pkcePlain", String(auth.pkcePlain)),
        ]
        return facts
    }

    /// A Markdown table comparing profiles fact by fact (rows where every profile agrees are
    /// kept: the table documents the defaults too).
    public static func table(_ profiles: [Profile]) -> String {
        var keys: [String] = []
        var values: [String: [String: String]] = [:]
        for profile in profiles {
            for (key, value) in profile.facts {
                if values[key] == nil {
                    // Beside its siblings (errors.codes.*, search.rules.*), not at the end.
                    let group = key.split(separator: ".").dropLast().joined(separator: ".")
                    if let last = keys.lastIndex(where: { $0.split(separator: ".").dropLast().joined(separator: ".") == group }) {
                        keys.insert(key, at: last + 1)
                    } else {
                        keys.append(key)
                    }
                }
                values[key, default: [:]][profile.name] = value
            }
        }
        func cell(_ text: String) -> String { text.isEmpty ? "" : "`" + text.replacing("|", with: "\\|").replacing("`", with: "'") + "`" }
        var lines = ["| setting | " + profiles.map(\.name).joined(separator: " | ") + " |"]
        lines.append("|---|" + String(repeating: "---|", count: profiles.count))
        for key in keys {
            lines.append("| \(key) | " + profiles.map { cell(values[key]?[$0.name] ?? "") }.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
