import FHIRCore
import Hummingbird
import Logging
import NIOCore

/// A built application with the sandbox behind it.
public struct SandboxApplication: Sendable {
    public let application: Application<RouterResponder<BasicRequestContext>>
    public let sandbox: Sandbox
}

/// The one way to build the app: the CLI and every server test call this.
///
/// `onReady` receives the bound port once the server listens (not called under the
/// in-process test framework).
public func buildApplication(
    configuration: SandboxConfiguration, clock: SandboxClock, random: RandomSource = .system(), logger: Logger? = nil,
    onReady: @escaping @Sendable (Sandbox, Int) async -> Void = { _, _ in }
) throws(SandboxError) -> SandboxApplication {
    let sandbox = try Sandbox(configuration: configuration, clock: clock, random: random)
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    IndexController(sandbox: sandbox).addRoutes(to: router)
    AdminController(sandbox: sandbox).addRoutes(to: router)
    for mount in sandbox.mounts {
        AuthController(mount: mount, publicURL: configuration.publicURL).addRoutes(to: router)
        FHIRController(mount: mount, publicURL: configuration.publicURL).addRoutes(to: router)
    }
    var log = logger ?? Logger(label: "fhir-sandbox")
    if logger == nil { log.logLevel = .warning }
    let application = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "fhir-sandbox"),
        onServerRunning: { channel in await onReady(sandbox, channel.localAddress?.port ?? configuration.port) },
        logger: log)
    return SandboxApplication(application: application, sandbox: sandbox)
}
