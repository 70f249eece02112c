/// Builds OperationOutcome resources.
public enum OperationOutcome {
    /// The OperationOutcome for an error.
    public static func from(_ error: FHIRError) -> JSON {
        make(error.issues)
    }

    /// The most issues one OperationOutcome lists; the rest are counted in a last issue.
    public static let maxIssues = 100

    /// An OperationOutcome with the given issues (at most `maxIssues`, then one that says how
    /// many more were found).
    public static func make(_ issues: [FHIRError.Issue]) -> JSON {
        var body = JSONObject()
        body["resourceType"] = .string("OperationOutcome")
        var listed = Array(issues.prefix(maxIssues))
        if issues.count > maxIssues {
            listed.append(
                .init(
                    severity: "information", code: "too-costly",
                    message: "\(issues.count - maxIssues) more issues were found and are not listed (at most \(maxIssues) are)"))
        }
        body["issue"] = .array(
            listed.map { issue in
                var object = JSONObject()
                object["severity"] = .string(issue.severity)
                object["code"] = .string(issue.code)
                if let details = issue.details {
                    var coding = JSONObject()
                    if let system = details.system { coding["system"] = .string(system) }
                    coding["code"] = .string(details.code)
                    if let text = details.text { coding["display"] = .string(text) }
                    var concept = JSONObject(["coding": .array([.object(coding)])])
                    if let text = details.text { concept["text"] = .string(text) }
                    object["details"] = .object(concept)
                }
                object["diagnostics"] = .string(issue.message)
                if !issue.expression.isEmpty { object["expression"] = .array(issue.expression.map(JSON.string)) }
                return .object(object)
            })
        return .object(body)
    }

    /// A single informational issue (e.g. "All OK" for `Prefer: return=OperationOutcome`).
    public static func information(_ message: String, code: String = "informational") -> JSON {
        make([.init(severity: "information", code: code, message: message)])
    }
}
