import FHIRCore
import SandboxAuth
import YAMLReader

extension OAuthClient {
    /// The clients of a seed's `clients.yaml`; errors name file, line and key.
    public static func load(file: String) throws(YAMLError) -> [OAuthClient] {
        let root = try YAMLValue.load(file: file).mapping(keys: ["clients"])
        var clients: [OAuthClient] = []
        for item in try root["clients"]?.list() ?? [] {
            let map = try item.mapping(keys: keys)
            var object = JSONObject()
            for (key, value) in try item.entries() {
                object[key] = try yamlJSON(value)
            }
            do throws(JOSEError) {
                let client = try OAuthClient.from(json: object)
                if clients.contains(where: { $0.id == client.id }) { throw JOSEError("id: '\(client.id)' is registered twice") }
                clients.append(client)
            } catch {
                let key = error.description.split(separator: ":").first.map(String.init) ?? "id"
                throw (map[key] ?? item).fail(error.description)
            }
        }
        return clients
    }

    /// YAML as JSON: mappings, lists, and scalars (true/false and integers typed).
    static func yamlJSON(_ value: YAMLValue) throws(YAMLError) -> JSON {
        if let entries = try? value.entries() {
            var object = JSONObject()
            for (key, item) in entries { object[key] = try yamlJSON(item) }
            return .object(object)
        }
        if let items = try? value.list() {
            var array: [JSON] = []
            for item in items { array.append(try yamlJSON(item)) }
            return .array(array)
        }
        let text = try value.string()
        if text == "true" || text == "false" { return .bool(text == "true") }
        if let number = Int(text) { return .int(number) }
        return .string(text)
    }
}
