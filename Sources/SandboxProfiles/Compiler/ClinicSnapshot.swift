import FHIRCore
import FHIRSearch
import FHIRStore
import Foundation
import SandboxSeed
import Scheduling

/// The seeded clinic as a store: written once per server, copied into each sandbox.
public enum ClinicSnapshot {
    /// An in-memory store holding the seed's clinic as of `now` (every profile's tenants are copies).
    public static func make(seed: Seed, registry: SearchRegistry, at now: Int64) throws(FHIRError) -> ResourceStore {
        let snapshot = try ResourceStore(path: nil, extractor: IndexExtractor(registry: registry, zone: seed.zone))
        try load(seed: seed, into: snapshot, at: now)
        return snapshot
    }

    /// Patients offered on the sign-in page's picker: the first 50 by id.
    public static func pickerPatients(_ store: ResourceStore) -> [(id: String, name: String)] {
        var query = SearchQuery(type: "Patient")
        query.count = 50
        guard let keys = try? store.search(query), let bodies = try? store.bodies(Array(keys.sorted { $0.id < $1.id }.prefix(50)))
        else { return [] }
        return bodies.compactMap { key, body in
            guard let patient = (try? JSONParser.parse(body))?.objectValue else { return nil }
            let name = patient["name"]?.arrayValue?.first?.objectValue
            let given = name?["given"]?.arrayValue?.compactMap(\.stringValue).joined(separator: " ") ?? ""
            let family = name?["family"]?.stringValue ?? ""
            let birth = patient["birthDate"]?.stringValue.map { " (born \($0))" } ?? ""
            return (key.id, "\(given) \(family)\(birth)".trimmingCharacters(in: .whitespaces))
        }
    }

    /// Writes the seed's resources into an empty store.
    public static func load(seed: Seed, into store: ResourceStore, at now: Int64) throws(FHIRError) {
        let clinic = ClinicRenderer(seed: seed).seeded(at: now)
        let resources = clinic.resources
        try store.write { tx throws(FHIRError) in
            try tx.insertSlots(clinic.slots)
            for resource in resources {
                guard case .object(let object) = resource, let type = object["resourceType"]?.stringValue,
                    let id = object["id"]?.stringValue
                else { continue }
                var stamped = object
                var meta = JSONObject()
                meta["versionId"] = .string("1")
                meta["lastUpdated"] = .string(InstantFormat.iso(now))
                stamped.set("meta", .object(meta), after: "id")
                let json = JSON.object(stamped)
                try tx.put(type, id, version: 1, lastUpdated: now, method: "POST", resource: json, body: json.bytes)
            }
        }
        try store.analyze()
        try store.setMetadata("seed", seed.name)
        try store.setMetadata("seededAt", InstantFormat.iso(now))
    }

}
