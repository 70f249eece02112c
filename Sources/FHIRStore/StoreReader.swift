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
}
