// swift-tools-version:6.2
import PackageDescription

// Strict concurrency and explicit imports everywhere, like the packages we model ourselves on.
// Warnings are errors in our own targets only (dependencies keep their warnings).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "fhir-sandbox",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fhir-sandbox", targets: ["fhir-sandbox"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // Already built for Hummingbird: typed HTTP parts for the connection guard, and the
        // service group that runs the graceful shutdown.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // JWS verification and token signing (RSA via _CryptoExtras, ECDSA via Crypto).
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        // The system SQLite (libsqlite3-dev). Only FHIRStore imports it.
        .systemLibrary(
            name: "CSQLite",
            path: "Sources/CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .target(name: "FHIRCore", swiftSettings: swiftSettings),
        .target(name: "FHIRSearch", dependencies: ["FHIRCore"], swiftSettings: swiftSettings),
        .target(
            name: "FHIRStore",
            dependencies: ["FHIRCore", "FHIRSearch", "CSQLite"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FHIRInteractions",
            dependencies: ["FHIRCore", "FHIRSearch", "FHIRStore"],
            swiftSettings: swiftSettings
        ),
        // Typed reading of YAML files, with errors naming file, line and key.
        .target(
            name: "YAMLReader", dependencies: ["FHIRCore", .product(name: "Yams", package: "Yams")], swiftSettings: swiftSettings),
        .target(
            name: "SandboxSeed",
            dependencies: ["FHIRCore", "YAMLReader"],
            swiftSettings: swiftSettings
        ),
        // Templates -> slots, booking, holds and $find/$hold/$book.
        .target(
            name: "Scheduling", dependencies: ["FHIRCore", "FHIRSearch", "FHIRStore", "FHIRInteractions", "SandboxSeed"],
            swiftSettings: swiftSettings),
        // SMART on FHIR authorization server: clients, JWS, tokens, scopes.
        .target(
            name: "SandboxAuth",
            dependencies: [
                "FHIRCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Fault rules, rate limits and latency models: the pure decision of what to inject.
        .target(name: "SandboxFaults", dependencies: ["FHIRCore"], swiftSettings: swiftSettings),
        // R4 Subscriptions (rest-hook) fed by the store's committed changes.
        .target(
            name: "ChangeFeeds", dependencies: ["FHIRCore", "FHIRSearch", "FHIRStore", "FHIRInteractions"],
            swiftSettings: swiftSettings),
        // Scenario kits, checks over a run's journal and state, JUnit/HTML/JSON reports (vendor-free).
        .target(name: "Certification", dependencies: ["FHIRCore", "FHIRSearch", "YAMLReader"], swiftSettings: swiftSettings),
        // The vendor layer: profile files, the edge steps, and the strategies profiles name.
        .target(
            name: "SandboxProfiles",
            dependencies: [
                "SandboxFaults", "FHIRCore", "FHIRSearch", "FHIRStore", "FHIRInteractions", "Scheduling", "SandboxSeed", "SandboxAuth",
                "YAMLReader", "ChangeFeeds",
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SandboxServer",
            dependencies: [
                "FHIRCore", "FHIRSearch", "FHIRStore", "FHIRInteractions", "SandboxSeed", "SandboxProfiles", "Scheduling", "SandboxAuth",
                "SandboxFaults", "ChangeFeeds", "Certification",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "fhir-sandbox",
            dependencies: [
                "SandboxServer", "FHIRCore", "SandboxProfiles", "SandboxAuth", "Certification",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // Benchmark-only: the framework's ceiling (returns the same bytes from memory).
        .executableTarget(
            name: "bench-ceiling",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/bench-ceiling",
            swiftSettings: swiftSettings
        ),
        // Benchmark-only: the cost of another sandbox of a compiled profile.
        .executableTarget(
            name: "bench-tenant",
            dependencies: [
                "FHIRCore", "FHIRInteractions", "FHIRSearch", "FHIRStore", "SandboxAuth", "SandboxProfiles", "SandboxSeed", "Scheduling",
            ],
            path: "Benchmarks/bench-tenant",
            swiftSettings: swiftSettings
        ),
        // Test-only: seeded random inputs from the committed corpus (Tests/Fuzz/corpus) for the parser fuzz tests.
        .target(name: "FuzzSupport", path: "Tests/FuzzSupport", swiftSettings: swiftSettings),
        .testTarget(name: "FHIRCoreTests", dependencies: ["FHIRCore", "FuzzSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "FHIRSearchTests", dependencies: ["FHIRSearch", "FHIRCore", "FuzzSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "FHIRStoreTests",
            dependencies: ["FHIRStore", "FHIRSearch", "FHIRCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FHIRInteractionsTests",
            dependencies: ["FHIRInteractions", "FHIRStore", "FHIRSearch", "FHIRCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SandboxSeedTests",
            dependencies: ["SandboxSeed", "FHIRCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SandboxAuthTests",
            dependencies: [
                "SandboxAuth", "FHIRCore", "FuzzSupport", .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChangeFeedsTests",
            dependencies: ["ChangeFeeds", "FHIRInteractions", "FHIRStore", "FHIRSearch", "FHIRCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "CertificationTests", dependencies: ["Certification", "FHIRCore"], swiftSettings: swiftSettings),
        .testTarget(name: "SandboxFaultsTests", dependencies: ["SandboxFaults", "FHIRCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SchedulingTests",
            dependencies: ["Scheduling", "SandboxSeed", "FHIRCore", "FHIRStore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SandboxProfilesTests",
            dependencies: [
                "SandboxProfiles", "FHIRCore", "FHIRSearch", "FHIRStore", "FHIRInteractions", "Scheduling", "SandboxSeed", "SandboxAuth",
                "FuzzSupport",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SandboxServerTests",
            dependencies: [
                "SandboxServer", "FHIRCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
