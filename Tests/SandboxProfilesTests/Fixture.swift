import FHIRCore
import FHIRInteractions
import FHIRSearch
import FHIRStore
import Foundation
import SandboxAuth
import SandboxProfiles
import SandboxSeed
import Scheduling

/// The real profile files and default seed, compiled once; each test binds a fresh tenant to
/// a compiled profile (a real in-memory store copied from the seeded snapshot).
enum Fixture {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// 2026-04-13T08:00:00-05:00 (a Monday morning at the clinic).
    static let now: Int64 = 1_776_085_200_000
    static let clock = SandboxClock.fixed(now)
    static let registry = SearchRegistry.r4.restricting("Slot", to: SlotProvider.parameters)

    static let seed: Seed = try! SeedLoader.load(directory: root.appendingPathComponent("Seeds/default").path)
    static let profiles: [String: Profile] = Dictionary(
        uniqueKeysWithValues: try! ProfileLoader.loadAll(directory: root.appendingPathComponent("Profiles").path).map {
            ($0.name, $0.filled(practiceCode: seed.practiceCode))
        })
    static let environment = CompileEnvironment(
        seed: seed, registry: registry, clock: clock, random: .seeded(11), clients: ClientRegistry([]), signer: TokenSigner(),
        remoteKeys: { RemoteKeys { _ in throw JOSEError("no fetching in tests") } }, softwareVersion: "test")
    static let snapshot: ResourceStore = try! ClinicSnapshot.make(seed: seed, registry: registry, at: now)
    static let compiled: [String: CompiledProfile] = profiles.mapValues { ProfileCompiler.compile($0, environment: environment) }

    /// A new sandbox of `profile`: its own store, copied from the snapshot on first use.
    static func runtime(_ profile: String) throws -> ProfileRuntime {
        let store = try ResourceStore(path: nil, extractor: IndexExtractor(registry: registry, zone: seed.zone))
        let state = try TenantState(name: profile, store: store, snapshot: snapshot, environment: environment)
        return try compiled[profile]!.bind(state)
    }
}

extension FHIRPipeline {
    /// One request through the edge and the engine.
    func call(
        _ method: String, _ path: String, query: [(String, String)] = [], body: String? = nil, headers: FHIRRequest.Headers = .init()
    ) -> FHIRResponse {
        var headers = headers
        if body != nil, headers.contentType == nil { headers.contentType = "application/fhir+json" }
        let parts = path.split(separator: "?", maxSplits: 1)
        let query = query.map { (name: $0.0, value: $0.1) } + (parts.count > 1 ? QueryString.parse(String(parts[1])) : [])
        return handle(
            FHIRRequest(
                method: method, segments: parts[0].split(separator: "/").map(String.init), query: query, headers: headers,
                body: body.map { Array($0.utf8) }, baseURL: "http://test/base"))
    }
}

extension FHIRResponse {
    /// The body as JSON (fails the test when it is not JSON).
    func json() throws -> JSONObject {
        guard case .object(let object) = try JSONParser.parse(body) else { throw FixtureError("not a JSON object: \(status)") }
        return object
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Fixture {
    /// What a profile's proprietary API is built from, on a new sandbox of it.
    static func proprietaryContext(_ profile: String) throws -> ProprietaryContext {
        let runtime = try runtime(profile)
        return ProprietaryContext(
            service: runtime.pipeline.service, ehr: runtime.ehr, seed: seed, profile: runtime.profile, ids: runtime.ids,
            horizon: runtime.state.horizon)
    }
}
