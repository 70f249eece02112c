import FHIRCore

/// RFC 6902 JSON Patch over `JSON` values, with RFC 6901 pointers.
public enum JSONPatch {
    public struct Operation: Sendable {
        public let op: String
        /// The RFC 6901 pointer, unescaped, one element per step.
        public let path: [String]
        public let from: [String]?
        public let value: JSON?
        /// Its position in the document (for messages).
        public let index: Int
    }

    /// Reads and checks a patch document; malformed documents are 400.
    static func operations(_ document: JSON) throws(FHIRError) -> [Operation] {
        guard let items = document.arrayValue else {
            throw FHIRError(.malformedRequest, "a JSON Patch document is an array of operations")
        }
        var result: [Operation] = []
        for (index, item) in items.enumerated() {
            guard let op = item["op"]?.stringValue, ["add", "remove", "replace", "move", "copy", "test"].contains(op) else {
                throw FHIRError(.malformedRequest, "operation \(index): 'op' must be add, remove, replace, move, copy or test")
            }
            guard let pathText = item["path"]?.stringValue else {
                throw FHIRError(.malformedRequest, "operation \(index): 'path' is required")
            }
            let path = try pointer(pathText, index: index)
            var from: [String]?
            if op == "move" || op == "copy" {
                guard let fromText = item["from"]?.stringValue else {
                    throw FHIRError(.malformedRequest, "operation \(index): '\(op)' needs 'from'")
                }
                from = try pointer(fromText, index: index)
            }
            let value = item["value"]
            if ["add", "replace", "test"].contains(op) && value == nil {
                throw FHIRError(.malformedRequest, "operation \(index): '\(op)' needs 'value'")
            }
            result.append(Operation(op: op, path: path, from: from, value: value, index: index))
        }
        return result
    }

    static func pointer(_ text: String, index: Int) throws(FHIRError) -> [String] {
        if text.isEmpty { return [] }
        guard text.hasPrefix("/") else {
            throw FHIRError(.malformedRequest, "operation \(index): '\(text)' is not a JSON Pointer (it must start with /)")
        }
        return text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingTildes()
        }
    }

    static func apply(_ operations: [Operation], to document: JSON) throws(FHIRError) -> JSON {
        var result = document
        for operation in operations {
            let fail = { (message: String) -> FHIRError in
                FHIRError(
                    .invalidResource,
                    "patch operation \(operation.index) (\(operation.op) /\(operation.path.joined(separator: "/"))): \(message)")
            }
            switch operation.op {
            case "add": result = try set(result, operation.path[...], operation.value!, insert: true, fail: fail)
            case "replace":
                _ = try get(result, operation.path[...], fail: fail)
                result = try set(result, operation.path[...], operation.value!, insert: false, fail: fail)
            case "remove": result = try remove(result, operation.path[...], fail: fail)
            case "move":
                let value = try get(result, operation.from![...], fail: fail)
                result = try remove(result, operation.from![...], fail: fail)
                result = try set(result, operation.path[...], value, insert: true, fail: fail)
            case "copy":
                let value = try get(result, operation.from![...], fail: fail)
                result = try set(result, operation.path[...], value, insert: true, fail: fail)
            default:
                let actual = try get(result, operation.path[...], fail: fail)
                if actual != operation.value! { throw fail("test failed: the value differs") }
            }
        }
        return result
    }

    private static func get(_ node: JSON, _ path: ArraySlice<String>, fail: (String) -> FHIRError) throws(FHIRError) -> JSON {
        guard let key = path.first else { return node }
        switch node {
        case .object(let object):
            guard let child = object[key] else { throw fail("no member '\(key)'") }
            return try get(child, path.dropFirst(), fail: fail)
        case .array(let values):
            guard let index = Int(key), values.indices.contains(index) else { throw fail("no array index '\(key)'") }
            return try get(values[index], path.dropFirst(), fail: fail)
        default:
            throw fail("cannot descend into a \(node.typeName)")
        }
    }

    private static func set(
        _ node: JSON, _ path: ArraySlice<String>, _ value: JSON, insert: Bool, fail: (String) -> FHIRError
    ) throws(FHIRError) -> JSON {
        guard let key = path.first else { return value }
        let last = path.count == 1
        switch node {
        case .object(var object):
            if last {
                object[key] = value
            } else {
                guard let child = object[key] else { throw fail("no member '\(key)'") }
                object[key] = try set(child, path.dropFirst(), value, insert: insert, fail: fail)
            }
            return .object(object)
        case .array(var values):
            if last && key == "-" && insert {
                values.append(value)
                return .array(values)
            }
            guard let index = Int(key), index >= 0 else { throw fail("'\(key)' is not an array index") }
            if last {
                if insert {
                    guard index <= values.count else { throw fail("index \(index) is out of bounds") }
                    values.insert(value, at: index)
                } else {
                    guard values.indices.contains(index) else { throw fail("index \(index) is out of bounds") }
                    values[index] = value
                }
            } else {
                guard values.indices.contains(index) else { throw fail("index \(index) is out of bounds") }
                values[index] = try set(values[index], path.dropFirst(), value, insert: insert, fail: fail)
            }
            return .array(values)
        default:
            throw fail("cannot descend into a \(node.typeName)")
        }
    }

    private static func remove(_ node: JSON, _ path: ArraySlice<String>, fail: (String) -> FHIRError) throws(FHIRError) -> JSON {
        guard let key = path.first else { throw fail("cannot remove the whole document") }
        let last = path.count == 1
        switch node {
        case .object(var object):
            guard let child = object[key] else { throw fail("no member '\(key)'") }
            object[key] = last ? nil : try remove(child, path.dropFirst(), fail: fail)
            return .object(object)
        case .array(var values):
            guard let index = Int(key), values.indices.contains(index) else { throw fail("no array index '\(key)'") }
            if last {
                values.remove(at: index)
            } else {
                values[index] = try remove(values[index], path.dropFirst(), fail: fail)
            }
            return .array(values)
        default:
            throw fail("cannot descend into a \(node.typeName)")
        }
    }
}

extension Substring {
    func replacingTildes() -> String {
        var result = ""
        var iterator = makeIterator()
        while let character = iterator.next() {
            if character == "~" {
                switch iterator.next() {
                case "0": result.append("~")
                case "1": result.append("/")
                case let other?: result.append("~"); result.append(other)
                case nil: result.append("~")
                }
            } else {
                result.append(character)
            }
        }
        return result
    }
}
