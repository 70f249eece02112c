import FHIRCore
import Foundation
import Yams

/// A problem in a YAML file, located by file, line and key path.
public struct YAMLError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let path: String
    public let message: String

    public init(file: String, line: Int, path: String, message: String) {
        self.file = file
        self.line = line
        self.path = path
        self.message = message
    }

    public var description: String {
        path.isEmpty ? "\(file):\(line): \(message)" : "\(file):\(line): \(path): \(message)"
    }
}

/// A YAML node with the file and key path it came from, read through typed accessors that
/// fail with a located `YAMLError`. Mappings are read with an explicit key set, so a misspelt
/// key is an error rather than silently ignored.
public struct YAMLValue {
    let node: Node
    public let file: String
    public let path: String

    public var line: Int { (node.mark?.line ?? 0) }

    /// Parses a file.
    public static func load(file: String) throws(YAMLError) -> YAMLValue {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw YAMLError(file: file, line: 0, path: "", message: "cannot read file (\(error.localizedDescription))")
        }
        return try parse(text, file: file)
    }

    /// Parses text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(YAMLError) -> YAMLValue {
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw YAMLError(file: file, line: 1, path: "", message: "the file is empty")
            }
            return YAMLValue(node: node, file: file, path: "")
        } catch let error as YAMLError {
            throw error
        } catch let error as YamlError {
            throw YAMLError(file: file, line: Self.line(of: error), path: "", message: "invalid YAML: \(error)")
        } catch {
            throw YAMLError(file: file, line: 0, path: "", message: "invalid YAML: \(error)")
        }
    }

    private static func line(of error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        default: return 0
        }
    }

    public func fail(_ message: String) -> YAMLError {
        YAMLError(file: file, line: line, path: path, message: message)
    }

    private func child(_ node: Node, _ key: String) -> YAMLValue {
        YAMLValue(node: node, file: file, path: path.isEmpty ? key : "\(path).\(key)")
    }

    /// The node as a mapping whose keys must all be in `keys`.
    public func mapping(keys: Set<String>) throws(YAMLError) -> YAMLMapping {
        guard case .mapping(let mapping) = node else { throw fail("expected a mapping") }
        var values: [String: YAMLValue] = [:]
        var order: [String] = []
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.string else { throw fail("mapping keys must be strings") }
            guard keys.contains(key) else {
                let located = YAMLError(
                    file: file, line: keyNode.mark?.line ?? line, path: path.isEmpty ? key : "\(path).\(key)",
                    message: "unknown key '\(key)' (allowed: \(keys.sorted().joined(separator: ", ")))")
                throw located
            }
            values[key] = child(valueNode, key)
            order.append(key)
        }
        return YAMLMapping(owner: self, values: values, order: order)
    }

    /// The node as a mapping with arbitrary string keys, in file order.
    public func entries() throws(YAMLError) -> [(key: String, value: YAMLValue)] {
        guard case .mapping(let mapping) = node else { throw fail("expected a mapping") }
        var result: [(key: String, value: YAMLValue)] = []
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.string else { throw fail("mapping keys must be strings") }
            result.append((key, child(valueNode, key)))
        }
        return result
    }

    public func list() throws(YAMLError) -> [YAMLValue] {
        guard case .sequence(let sequence) = node else { throw fail("expected a list") }
        return sequence.enumerated().map { offset, item in
            YAMLValue(node: item, file: file, path: "\(path)[\(offset)]")
        }
    }

    public func string() throws(YAMLError) -> String {
        guard case .scalar(let scalar) = node else { throw fail("expected a string") }
        return scalar.string
    }

    public func int() throws(YAMLError) -> Int {
        guard let value = node.int else { throw fail("expected an integer, not '\(node.string ?? "a collection")'") }
        return value
    }

    public func bool() throws(YAMLError) -> Bool {
        guard let value = node.bool else { throw fail("expected true or false, not '\(node.string ?? "a collection")'") }
        return value
    }

    /// The node as JSON: mappings, lists, and scalars typed as YAML resolves them (plain `30` an
    /// integer, `true` a boolean; a quoted `"30"` stays a string).
    public func json() throws(YAMLError) -> JSON {
        switch node {
        case .mapping:
            var object = JSONObject()
            for (key, item) in try entries() { object[key] = try item.json() }
            return .object(object)
        case .sequence:
            var array: [JSON] = []
            for item in try list() { array.append(try item.json()) }
            return .array(array)
        default:
            if let number = node.int { return .int(number) }
            if let flag = node.bool { return .bool(flag) }
            return .string(try string())
        }
    }

    public func strings() throws(YAMLError) -> [String] {
        var result: [String] = []
        for item in try list() { result.append(try item.string()) }
        return result
    }
}

/// A mapping read with a known key set.
public struct YAMLMapping {
    public let owner: YAMLValue
    let values: [String: YAMLValue]
    /// Keys in file order.
    public let order: [String]

    public subscript(key: String) -> YAMLValue? { values[key] }

    public func required(_ key: String) throws(YAMLError) -> YAMLValue {
        guard let value = values[key] else { throw owner.fail("missing required key '\(key)'") }
        return value
    }
}
