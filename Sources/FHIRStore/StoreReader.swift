import FHIRCore
import FHIRSearch

/// Reads available inside `ResourceStore.read`, all under one lock acquisition.
public struct StoreReader {
    let db: SQLiteConnection

    public func search(_ query: SearchQuery) throws(FHIRError) -> [VersionKey] {
        do { return try Queries.search(db, query) } catch { throw error.fhir }
    }

    public func bodies(_ keys: [VersionKey]) throws(FHIRError) -> [(VersionKey, [UInt8])] {
        do { return try Queries.bodies(db, keys) } catch { throw error.fhir }
    }

    public func included(from keys: [VersionKey], parameter: String, targetType: String?) throws(FHIRError) -> [VersionKey] {
        do { return try Queries.included(db, keys, parameter: parameter, targetType: targetType) } catch { throw error.fhir }
    }

    public func revIncluded(_ keys: [VersionKey], sourceType: String, parameter: String) throws(FHIRError) -> [VersionKey] {
        do { return try Queries.revIncluded(db, keys, sourceType: sourceType, parameter: parameter) } catch { throw error.fhir }
    }

    public func slots(_ filter: SlotFilter) throws(FHIRError) -> [SlotRow] {
        do { return try Queries.slots(db, filter) } catch { throw error.fhir }
    }

    public func slots(ids: [String]) throws(FHIRError) -> [SlotRow] {
        do { return try Queries.slots(db, ids: ids) } catch { throw error.fhir }
    }

    /// Current versions of `type` resources with these ids (for includes), skipping missing ones.
    public func keys(_ type: String, ids: [String]) throws(FHIRError) -> [VersionKey] {
        do {
            let statement = try db.prepare("SELECT rid, version FROM resource WHERE type = ? AND id = ? AND deleted = 0")
            var keys: [VersionKey] = []
            for id in ids {
                try statement.bind([.text(type), .text(id)])
                if try statement.step() {
                    keys.append(VersionKey(rid: statement.int(0), type: type, id: id, version: Int(statement.int(1))))
                }
                statement.reset()
            }
            return keys
        } catch {
            throw error.fhir
        }
    }

    /// Ids of `targetType` resources that `keys` refer to through `parameter`.
    public func referencedIDs(from keys: [VersionKey], parameter: String, targetType: String) throws(FHIRError) -> [String] {
        guard !keys.isEmpty else { return [] }
        do {
            let placeholders = Array(repeating: "?", count: keys.count).joined(separator: ",")
            let statement = try db.prepare(
                "SELECT DISTINCT target_id FROM idx_reference WHERE rid IN (\(placeholders)) AND param = ? AND target_type = ? ORDER BY target_id"
            )
            try statement.bind(keys.map { .int($0.rid) } + [.text(parameter), .text(targetType)])
            var ids: [String] = []
            while try statement.step() { ids.append(statement.text(0)) }
            return ids
        } catch {
            throw error.fhir
        }
    }
}
