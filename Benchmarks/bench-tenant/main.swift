// How cheap another sandbox of a compiled profile is (issue 11: TenantState from the in-memory
// snapshot; the isolated-sandbox issue needs it under 5 ms). Benchmark-only.
//
//   bench-tenant ROOT [ROUNDS]
//
// Per profile: compile once, then ROUNDS times create a TenantState (an empty in-memory store
// that copies the snapshot on first use) and bind it; then the first request's copy of the
// snapshot. Baseline, measured in the same run: creating the empty in-memory store alone.
import FHIRCore
import FHIRInteractions
import FHIRSearch
import FHIRStore
import Foundation
import SandboxAuth
import SandboxProfiles
import SandboxSeed
import Scheduling

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: bench-tenant ROOT [ROUNDS]\n".utf8))
    exit(2)
}
let root = arguments[1]
let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 200 : 200

func milliseconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000
}

func summary(_ samples: [Double]) -> (median: Double, p99: Double) {
    let sorted = samples.sorted()
    return (sorted[sorted.count / 2], sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))])
}

let seed = try SeedLoader.load(directory: root + "/Seeds/default")
let registry = SearchRegistry.r4.restricting("Slot", to: SlotProvider.parameters)
let clock = SandboxClock.fixed(1_776_085_200_000)
let environment = CompileEnvironment(
    seed: seed, registry: registry, clock: clock, random: .seeded(1), clients: ClientRegistry([]), signer: TokenSigner(),
    remoteKeys: { RemoteKeys { _ in throw JOSEError("no fetching") } }, softwareVersion: "bench")
let snapshot = try ClinicSnapshot.make(seed: seed, registry: registry, at: clock.now())
let extractor = IndexExtractor(registry: registry, zone: seed.zone)
let profiles = try ProfileLoader.loadAll(directory: root + "/Profiles")

print("fhir-sandbox tenant creation, \(ProcessInfo.processInfo.activeProcessorCount) cores, \(rounds) rounds per profile (release)")
print("profile   compile ms  store ms (baseline)  state+bind ms  ratio  p99 ms  first request (snapshot copy) ms")
for profile in profiles {
    var compiled: CompiledProfile?
    let compileTime = milliseconds { compiled = ProfileCompiler.compile(profile, environment: environment) }
    var baseline: [Double] = []
    var created: [Double] = []
    var runtimes: [ProfileRuntime] = []
    for _ in 0..<rounds {
        baseline.append(try milliseconds { _ = try ResourceStore(path: nil, extractor: extractor) })
        created.append(
            try milliseconds {
                let store = try ResourceStore(path: nil, extractor: extractor)
                let state = try TenantState(name: profile.name, store: store, snapshot: snapshot, environment: environment)
                runtimes.append(try compiled!.bind(state))
            })
    }
    var firsts: [Double] = []
    for runtime in runtimes.prefix(5) {
        firsts.append(milliseconds { _ = runtime.pipeline.handle(FHIRRequest(method: "GET", segments: ["metadata"], baseURL: "http://b")) })
    }
    let base = summary(baseline)
    let state = summary(created)
    print(
        profile.name.padding(toLength: 9, withPad: " ", startingAt: 0)
            + String(
                format: " %10.2f  %19.3f  %13.3f  %5.2f  %6.3f  %.1f", compileTime, base.median, state.median, state.median / base.median,
                state.p99,
                summary(firsts).median))
}
