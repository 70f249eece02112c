import FHIRCore
import FHIRSearch
import FHIRStore
import Foundation
import SandboxSeed

/// Offline maintenance on a data directory.
public enum Maintenance {
    /// Rebuilds the search indexes of every tenant database in `dataDirectory`; returns
    /// (tenant, resources reindexed) pairs. Search results are unchanged by construction.
    public static func reindex(dataDirectory: String, seedDirectory: String) throws(SandboxError) -> [(String, Int)] {
        let seed: Seed
        do {
            seed = try SeedLoader.load(directory: seedDirectory)
        } catch {
            throw SandboxError("cannot load seed: \(error.message)")
        }
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: dataDirectory) else {
            throw SandboxError("cannot read data directory '\(dataDirectory)'")
        }
        let extractor = IndexExtractor(registry: .r4, zone: seed.zone)
        var result: [(String, Int)] = []
        for file in files.sorted() where file.hasSuffix(".sqlite") {
            do {
                let store = try ResourceStore(path: "\(dataDirectory)/\(file)", extractor: extractor)
                result.append((String(file.dropLast(7)), try store.reindex()))
            } catch {
                throw SandboxError("\(file): \(error.message)")
            }
        }
        if result.isEmpty { throw SandboxError("no tenant databases (*.sqlite) in '\(dataDirectory)'") }
        return result
    }
}
