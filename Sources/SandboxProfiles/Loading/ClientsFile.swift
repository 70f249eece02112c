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
                object[key] = try value.json()
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
}
