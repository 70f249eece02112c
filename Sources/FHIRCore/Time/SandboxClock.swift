import Synchronization

/// The sandbox's notion of "now", in epoch milliseconds. Either follows the system clock with an
/// offset, or is frozen at an instant. Only the composition root passes the system clock in;
/// everything else asks this value.
public final class SandboxClock: Sendable {
    public struct State: Sendable, Equatable {
        /// Set when frozen: the instant the clock stands at.
        public var frozenAt: Int64?
        /// Added to the system clock when running.
        public var offset: Int64
    }

    private let state: Mutex<State>
    private let system: @Sendable () -> Int64

    /// A clock reading `system`, running (offset 0) or frozen at `frozenAt`.
    public init(system: @escaping @Sendable () -> Int64, frozenAt: Int64? = nil) {
        self.system = system
        state = Mutex(State(frozenAt: frozenAt, offset: 0))
    }

    /// A clock frozen at `instant` with no system clock behind it: for tests.
    public static func fixed(_ instant: Int64) -> SandboxClock {
        SandboxClock(system: { instant }, frozenAt: instant)
    }

    public func now() -> Int64 {
        state.withLock { state in state.frozenAt ?? (system() + state.offset) }
    }

    public var isFrozen: Bool { state.withLock { $0.frozenAt != nil } }

    /// Moves the clock to `instant`, frozen there or running on from it.
    public func set(_ instant: Int64, frozen: Bool) {
        let systemNow = system()
        state.withLock { state in
            if frozen {
                state.frozenAt = instant
            } else {
                state.frozenAt = nil
                state.offset = instant - systemNow
            }
        }
    }

    /// Moves the clock forward (or back, for negative values) by `milliseconds`.
    public func advance(by milliseconds: Int64) {
        state.withLock { state in
            if let frozen = state.frozenAt {
                state.frozenAt = frozen + milliseconds
            } else {
                state.offset += milliseconds
            }
        }
    }
}
