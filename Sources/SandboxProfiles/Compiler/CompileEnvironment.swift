import ChangeFeeds
import FHIRCore
import FHIRSearch
import SandboxAuth
import SandboxSeed

/// What every profile of one server is compiled against: the seed, the shared services (clock,
/// random source, OAuth clients and signing key) and the server's choices.
public struct CompileEnvironment: Sendable {
    /// The seed with its resources (strategies read coverages; the snapshot is written from it).
    public let seed: Seed
    /// Display texts of the seed's codes.
    public let displays: [String: String]
    /// The R4 registry indexes are extracted with (Slot limited to what the slot table serves).
    public let registry: SearchRegistry
    /// The server's clock (the default sandbox's; an isolated sandbox's state has its own).
    public let clock: SandboxClock
    public let random: RandomSource
    public let clients: ClientRegistry
    public let signer: TokenSigner
    /// Fetches a client's `jwksUri` (the server module's HTTP client and allow-list).
    public let remoteKeys: @Sendable () -> RemoteKeys
    /// The `softwareVersion` CapabilityStatements carry.
    public let softwareVersion: String
    /// Sends Subscription notifications (the server module's HTTP client); nil: a profile that
    /// serves Subscription stores them but notifies nobody (tools that never serve traffic).
    public var webhooks: (any WebhookTransport)?

    public init(
        seed: Seed, registry: SearchRegistry, clock: SandboxClock, random: RandomSource, clients: ClientRegistry, signer: TokenSigner,
        remoteKeys: @escaping @Sendable () -> RemoteKeys, softwareVersion: String
    ) {
        self.seed = seed
        displays = seed.codeDisplays()
        self.registry = registry
        self.clock = clock
        self.random = random
        self.clients = clients
        self.signer = signer
        self.remoteKeys = remoteKeys
        self.softwareVersion = softwareVersion
    }
}
