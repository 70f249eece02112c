/// Checks a resource against the R4 element tables: unknown elements, JSON types, cardinality,
/// required elements, required-binding codes, primitive formats and reference syntax. Every
/// problem is reported with a FHIRPath-like expression (`Appointment.participant[0].status`).
public struct StructuralValidator: Sendable {
    public let model: R4Model

    public init(model: R4Model = .shared) { self.model = model }

    /// Problems found in `resource`; empty when it is structurally valid R4.
    public func validate(_ resource: JSON) -> [FHIRError.Issue] {
        var issues: [FHIRError.Issue] = []
        validateResource(resource, path: nil, issues: &issues)
        return issues
    }

    /// Throws an `invalidResource` error listing every problem, if any.
    public func check(_ resource: JSON) throws(FHIRError) {
        let issues = validate(resource)
        if !issues.isEmpty { throw FHIRError(.invalidResource, issues: issues) }
    }

    private func issue(_ message: String, _ path: String, code: String = "structure") -> FHIRError.Issue {
        FHIRError.Issue(code: code, message: message, expression: [path])
    }

    private func validateResource(_ value: JSON, path: String?, issues: inout [FHIRError.Issue]) {
        guard case .object(let object) = value else {
            issues.append(issue("a resource must be a JSON object, not \(value.typeName)", path ?? "Resource"))
            return
        }
        guard let type = object["resourceType"]?.stringValue else {
            issues.append(issue("resourceType is missing", path ?? "Resource", code: "required"))
            return
        }
        guard model.resourceTypes.contains(type), let definition = model.types[type] else {
            issues.append(issue("resource type '\(type)' is not supported here", path ?? type, code: "not-supported"))
            return
        }
        validateObject(object, as: definition, path: path ?? type, skipping: "resourceType", issues: &issues)
    }

    private func validateObject(
        _ object: JSONObject, as definition: R4Model.ComplexType, path: String, skipping: String? = nil,
        issues: inout [FHIRError.Issue]
    ) {
        if object.isEmpty {
            issues.append(issue("an element must have content; empty objects are not allowed", path))
            return
        }
        var chosen: [String: String] = [:]
        for member in object where member.key != skipping {
            let key = member.key
            // R4 JSON: a choice element appears under one type only (deceasedBoolean or
            // deceasedDateTime, never both).
            let base = key.hasPrefix("_") ? String(key.dropFirst()) : key
            if let stem = definition.choices[base] {
                if let other = chosen[stem], other != base {
                    issues.append(
                        issue("\(stem)[x] may have one type only, not both \(other) and \(base)", "\(path).\(stem)[x]", code: "structure"))
                } else {
                    chosen[stem] = base
                }
            }
            if key.hasPrefix("_") {
                let base = String(key.dropFirst())
                guard let element = definition.elements[base], isPrimitive(element.type) else {
                    issues.append(issue("unknown element '\(key)'", "\(path).\(key)"))
                    continue
                }
                validatePrimitiveExtension(member.value, isArray: element.isArray, path: "\(path).\(key)", issues: &issues)
                continue
            }
            guard let element = definition.elements[key] else {
                issues.append(issue("unknown element '\(key)'", "\(path).\(key)"))
                continue
            }
            let elementPath = "\(path).\(key)"
            if element.isArray {
                guard case .array(let values) = member.value else {
                    issues.append(issue("\(key) must be an array, not \(member.value.typeName)", elementPath))
                    continue
                }
                if values.isEmpty {
                    issues.append(issue("arrays must not be empty", elementPath))
                }
                for (offset, item) in values.enumerated() {
                    if case .null = item, object["_\(key)"] != nil { continue }
                    validateValue(item, element: element, path: "\(elementPath)[\(offset)]", issues: &issues)
                }
            } else {
                if case .array = member.value {
                    issues.append(issue("\(key) must be a single value, not an array", elementPath))
                    continue
                }
                validateValue(member.value, element: element, path: elementPath, issues: &issues)
            }
        }
        for required in definition.required {
            if required.hasSuffix("[x]") {
                let stem = String(required.dropLast(3))
                let present = object.keys.contains { key in
                    key.hasPrefix(stem) && key.count > stem.count
                        && key[key.index(key.startIndex, offsetBy: stem.count)].isUppercase
                }
                if !present {
                    issues.append(issue("\(stem)[x] is required", "\(path).\(stem)[x]", code: "required"))
                }
            } else if object[required] == nil && object["_\(required)"] == nil {
                issues.append(issue("\(required) is required", "\(path).\(required)", code: "required"))
            }
        }
    }

    private func isPrimitive(_ type: String) -> Bool { PrimitiveCheck.isPrimitive(type) }

    private func validatePrimitiveExtension(
        _ value: JSON, isArray: Bool, path: String, issues: inout [FHIRError.Issue]
    ) {
        guard let elementType = model.types["Element"] else { return }
        for (offset, item) in (isArray ? (value.arrayValue ?? [value]) : [value]).enumerated() {
            let itemPath = isArray ? "\(path)[\(offset)]" : path
            switch item {
            case .object(let object): validateObject(object, as: elementType, path: itemPath, issues: &issues)
            case .null where isArray: continue
            default: issues.append(issue("\(itemPath) must be an object", itemPath))
            }
        }
    }

    private func validateValue(_ value: JSON, element: R4Model.Element, path: String, issues: inout [FHIRError.Issue]) {
        switch element.type {
        case "Resource":
            validateResource(value, path: path, issues: &issues)
        case "xhtml":
            guard case .string(let text) = value, text.hasPrefix("<div"), text.hasSuffix("</div>") || text.hasSuffix("/>")
            else {
                issues.append(issue("narrative div must be an XHTML <div> element as a string", path))
                return
            }
        case let type where PrimitiveCheck.isPrimitive(type):
            if let problem = PrimitiveCheck.problem(value, type: type) {
                let structural = !PrimitiveCheck.hasJSONType(value, for: type)
                issues.append(issue(problem, path, code: structural ? "structure" : "value"))
                return
            }
            if let codes = element.codes, case .string(let code) = value, !codes.contains(code) {
                let allowed = codes.count <= 12 ? ": one of " + codes.sorted().joined(separator: ", ") : ""
                issues.append(issue("'\(code)' is not a valid code for this element\(allowed)", path, code: "code-invalid"))
            }
        default:
            guard let definition = model.types[element.type] else { return }
            guard case .object(let object) = value else {
                issues.append(issue("expected a \(element.type) object, not \(value.typeName)", path))
                return
            }
            validateObject(object, as: definition, path: path, issues: &issues)
            if element.type == "Reference", let reference = object["reference"]?.stringValue,
                let problem = ReferenceSyntax.problem(reference)
            {
                issues.append(issue(problem, "\(path).reference", code: "value"))
            }
        }
    }
}
