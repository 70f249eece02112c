import FHIRCore

/// A certification run: the kit, the profile, the client and each scenario's outcome, written as
/// JUnit XML, JSON or a self-contained HTML page.
public struct Report: Sendable {
    public var kit: Kit
    public var profile: String
    public var command: [String]
    public var startedAt: String
    public var scenarios: [ScenarioResult]

    public init(kit: Kit, profile: String, command: [String], startedAt: String, scenarios: [ScenarioResult]) {
        self.kit = kit
        self.profile = profile
        self.command = command
        self.startedAt = startedAt
        self.scenarios = scenarios
    }

    /// Every required check of every scenario passed.
    public var passed: Bool { scenarios.allSatisfy(\.passed) }

    /// The terminal summary: one line per scenario, failed checks under it.
    public var summary: String {
        var lines = ["\(kit.name) on \(profile): \(scenarios.filter(\.passed).count) of \(scenarios.count) scenarios passed"]
        for scenario in scenarios {
            let failed = scenario.results.filter { !$0.passed }
            lines.append("  \(scenario.passed ? "PASS" : "FAIL")  \(scenario.scenario.id)  (\(scenario.durationMillis) ms)")
            for result in failed {
                lines.append("        \(result.check.severity == .required ? "✗" : "!") \(result.check.id): \(result.detail)")
            }
        }
        return lines.joined(separator: "\n")
    }

    // MARK: JUnit

    /// One testsuite per scenario, one testcase per check; a failed check's `failure` carries its
    /// message, what was found and the requests that show it. A failed recommended check is a
    /// failure of type `recommended` (the exit status counts required checks only).
    public var junit: String {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        let failures = scenarios.flatMap(\.results).filter { !$0.passed }.count
        let total = scenarios.flatMap(\.results).count
        xml +=
            "<testsuites name=\"fhir-sandbox certify \(Self.xml(kit.name)) \(Self.xml(profile))\" tests=\"\(total)\" failures=\"\(failures)\">\n"
        for scenario in scenarios {
            let failed = scenario.results.filter { !$0.passed }.count
            xml += "  <testsuite name=\"\(Self.xml("\(kit.name).\(profile).\(scenario.scenario.id)"))\" tests=\"\(scenario.results.count)\""
            xml += " failures=\"\(failed)\" errors=\"0\" skipped=\"0\" time=\"\(Double(scenario.durationMillis) / 1000)\""
            xml += " timestamp=\"\(Self.xml(startedAt))\">\n"
            xml += "    <properties><property name=\"profile\" value=\"\(Self.xml(profile))\"/>"
            xml += "<property name=\"title\" value=\"\(Self.xml(scenario.scenario.title))\"/></properties>\n"
            for result in scenario.results {
                xml += "    <testcase classname=\"\(Self.xml("\(kit.name).\(profile).\(scenario.scenario.id)"))\""
                xml += " name=\"\(Self.xml(result.check.id))\" time=\"0\">"
                if !result.passed {
                    let text = ([result.detail, ""] + result.evidence.map(\.summary)).joined(separator: "\n")
                    xml += "\n      <failure type=\"\(result.check.severity.rawValue)\" message=\"\(Self.xml(result.check.message))\">"
                    xml += Self.xml(text) + "</failure>\n    "
                }
                xml += "</testcase>\n"
            }
            let output =
                "client exit: \(scenario.record.timedOut ? "timed out" : scenario.record.clientExit.map(String.init) ?? "?")\n"
                + scenario.record.clientOutput
            xml += "    <system-out>\(Self.xml(output))</system-out>\n  </testsuite>\n"
        }
        return xml + "</testsuites>\n"
    }

    static func xml(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n", "\t", "\r": out.unicodeScalars.append(scalar)
            default:
                // XML 1.0 has no other control characters.
                if scalar.value >= 0x20 && scalar.value != 0xFFFE && scalar.value != 0xFFFF { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    // MARK: JSON

    public var json: JSON {
        .object(
            JSONObject([
                "kit": .string(kit.name), "profile": .string(profile), "command": .array(command.map(JSON.string)),
                "startedAt": .string(startedAt), "passed": .bool(passed),
                "scenarios": .array(scenarios.map(Self.json)),
            ]))
    }

    static func json(_ scenario: ScenarioResult) -> JSON {
        .object(
            JSONObject([
                "id": .string(scenario.scenario.id), "title": .string(scenario.scenario.title), "passed": .bool(scenario.passed),
                "durationMs": .int(scenario.durationMillis), "timedOut": .bool(scenario.record.timedOut),
                "clientExit": scenario.record.clientExit.map { .int(Int($0)) } ?? .null,
                "checks": .array(
                    scenario.results.map { result in
                        .object(
                            JSONObject([
                                "id": .string(result.check.id), "kind": .string(result.check.kind.rawValue),
                                "severity": .string(result.check.severity.rawValue), "passed": .bool(result.passed),
                                "message": .string(result.check.message), "detail": .string(result.detail),
                                "evidence": .array(result.evidence.map { .string($0.summary) }),
                            ]))
                    }),
                "requests": .array(scenario.record.exchanges.map { .string($0.summary) }),
                "clientOutput": .string(scenario.record.clientOutput),
            ]))
    }

    // MARK: HTML

    /// A self-contained page (inline CSS, no scripts, no external resources): per scenario its
    /// checks, then the client's requests in order with the answers they got.
    public var html: String {
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Certification: \(Self.xml(kit.name)) on \(Self.xml(profile))</title>
            <style>
            body{font:15px/1.45 system-ui,sans-serif;margin:2rem;color:#1a1a1a;max-width:70rem}
            h1{font-size:1.5rem} h2{font-size:1.15rem;margin-top:2rem} table{border-collapse:collapse;width:100%}
            th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}
            .pass{color:#0a6b2d;font-weight:600} .fail{color:#a3111d;font-weight:600} .warn{color:#7a4d00;font-weight:600}
            details{margin:.2rem 0} pre{white-space:pre-wrap;word-break:break-all;background:#f5f5f5;padding:.5rem;margin:.3rem 0}
            code{font-size:.9em}
            </style></head><body>
            <h1>Certification: kit <code>\(Self.xml(kit.name))</code> on profile <code>\(Self.xml(profile))</code></h1>
            <p>\(passed ? "<span class=\"pass\">PASSED</span>" : "<span class=\"fail\">FAILED</span>") —
            \(scenarios.filter(\.passed).count) of \(scenarios.count) scenarios passed. Client: <code>\(Self.xml(command.joined(separator: " ")))</code>.
            Started \(Self.xml(startedAt)).</p>
            <nav aria-label="Scenarios"><ul id="scenarios">
            """
        for scenario in scenarios {
            page += "<li><a href=\"#\(Self.xml(scenario.scenario.id))\">\(Self.xml(scenario.scenario.id))</a> "
            page += scenario.passed ? "<span class=\"pass\">pass</span>" : "<span class=\"fail\">fail</span>"
            page += " — \(Self.xml(scenario.scenario.title))</li>\n"
        }
        page += "</ul></nav>\n"
        for scenario in scenarios {
            page +=
                "<section id=\"\(Self.xml(scenario.scenario.id))\"><h2>\(Self.xml(scenario.scenario.id)): \(Self.xml(scenario.scenario.title))</h2>\n"
            page += "<table><thead><tr><th>check</th><th>severity</th><th>result</th><th>what was found</th></tr></thead><tbody>\n"
            for result in scenario.results {
                let verdict =
                    result.passed
                    ? "<span class=\"pass\">pass</span>"
                    : result.check.severity == .required ? "<span class=\"fail\">fail</span>" : "<span class=\"warn\">warn</span>"
                page +=
                    "<tr><td><code>\(Self.xml(result.check.id))</code></td><td>\(result.check.severity.rawValue)</td><td>\(verdict)</td>"
                page += "<td>\(Self.xml(result.detail))"
                if !result.passed { page += "<br><strong>\(Self.xml(result.check.message))</strong>" }
                page += "</td></tr>\n"
            }
            page += "</tbody></table>\n<h3>Requests</h3>\n<ol>\n"
            for exchange in scenario.record.exchanges {
                page += "<li><details><summary><code>\(Self.xml(exchange.summary))</code></summary>"
                if !exchange.requestBody.isEmpty { page += "<pre>\(Self.xml(String(exchange.requestBody.prefix(4000))))</pre>" }
                page += "<pre>\(Self.xml(String(exchange.responseBody.prefix(4000))))</pre></details></li>\n"
            }
            page += "</ol></section>\n"
        }
        return page + "</body></html>\n"
    }
}
