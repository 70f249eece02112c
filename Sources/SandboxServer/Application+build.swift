import FHIRCore
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// A built application with the sandbox behind it.
public struct SandboxApplication: Sendable {
    public let application: Application<RouterResponder<BasicRequestContext>>
    public let sandbox: Sandbox

    /// Serves until the calling task is cancelled, without signal handling: for a command that
    /// runs the server in-process (`certify`).
    public func runUntilCancelled() async throws {
        try await application.runService(gracefulShutdownSignals: [])
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully: stops accepting, lets
    /// in-flight requests finish for up to `shutdownGrace` seconds, flushes `--data-dir` and
    /// returns. A request that is still running after the grace period does not hold the process:
    /// a watchdog flushes and exits a few seconds later.
    public func run() async throws {
        let grace = sandbox.configuration.shutdownGrace
        var configuration = ServiceGroupConfiguration(
            services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: application.logger)
        configuration.maximumGracefulShutdownDuration = .seconds(grace)
        try await sandbox.startHL7Listeners()
        let watchdog = ShutdownWatchdog(seconds: grace + 3) { [sandbox] in sandbox.flush() }
        defer { watchdog.cancel() }
        do {
            try await ServiceGroup(configuration: configuration).run()
        } catch {
            sandbox.flush()
            throw error
        }
        sandbox.flush()
    }
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
    router.add(middleware: ErrorMiddleware(bases: sandbox.mounts.flatMap(\.bases)))
    IndexController(sandbox: sandbox).addRoutes(to: router)
    AdminController(sandbox: sandbox).addRoutes(to: router)
    SandboxesController(sandbox: sandbox).addRoutes(to: router)
    for mount in sandbox.mounts { mount.addRoutes(to: router, hosts: sandbox.hosts) }
    var log = logger ?? Logger(label: "fhir-sandbox")
    if logger == nil { log.logLevel = .warning }
    let limits = ConnectionLimits(
        header: .seconds(Int64(configuration.headerTimeout)), body: .seconds(Int64(configuration.bodyTimeout)),
        idle: .seconds(Int64(configuration.idleTimeout)))
    let http = HTTP1Channel.Configuration(
        additionalChannelHandlers: ConnectionGuard.handlers(limits),
        httpDecoderConfiguration: .init(
            maxHeaderFieldSize: ConnectionLimits.maxHeaderBytes, maxHeaderListSize: ConnectionLimits.maxHeaderBytes,
            maxHeaderFieldCount: 200))
    let application = Application(
        router: router, server: .http1(configuration: http),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "fhir-sandbox"),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            sandbox.hosts.listening(on: port)
            await onReady(sandbox, port)
        },
        logger: log)
    return SandboxApplication(application: application, sandbox: sandbox)
}

/// Exits the process `seconds` after the first SIGTERM or SIGINT unless cancelled first (the
/// graceful shutdown finished), after running `flush`.
final class ShutdownWatchdog: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    private let queue = DispatchQueue(label: "fhir-sandbox.shutdown-watchdog")
    private var armed = false
    private var cancelled = false

    init(seconds: Int, flush: @escaping @Sendable () -> Void) {
        // As ServiceLifecycle does: the signals reach dispatch sources, not the default action.
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let queue = queue
        sources = [SIGTERM, SIGINT].map { DispatchSource.makeSignalSource(signal: $0, queue: queue) }
        for source in sources {
            source.setEventHandler { [unowned self] in
                guard !armed else { return }
                armed = true
                queue.asyncAfter(deadline: .now() + .seconds(seconds)) { [unowned self] in
                    guard !cancelled else { return }
                    flush()
                    FileHandle.standardError.write(
                        Data("fhir-sandbox: requests still running \(seconds) s after shutdown began; exiting\n".utf8))
                    exit(0)
                }
            }
            source.resume()
        }
    }

    func cancel() {
        queue.sync { cancelled = true }
        for source in sources { source.cancel() }
    }
}
