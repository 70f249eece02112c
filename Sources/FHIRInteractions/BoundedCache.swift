import Synchronization

/// A thread-safe map from string keys to values that keeps at most `capacity` entries,
/// dropping the least recently used first. Search result pages and `$find` proposals use it.
public final class BoundedCache<Value: Sendable>: Sendable {
    private struct State {
        var entries: [String: Value] = [:]
        /// Keys from least to most recently used.
        var order: [String] = []

        mutating func touch(_ key: String) {
            if let index = order.firstIndex(of: key) { order.remove(at: index) }
            order.append(key)
        }
    }

    private let state = Mutex(State())
    public let capacity: Int

    public init(capacity: Int) { self.capacity = capacity }

    public func store(_ value: Value, for key: String) {
        state.withLock { state in
            state.entries[key] = value
            state.touch(key)
            while state.order.count > capacity { state.entries[state.order.removeFirst()] = nil }
        }
    }

    /// The value for `key`, which becomes the most recently used.
    public func value(for key: String) -> Value? {
        state.withLock { state in
            guard let value = state.entries[key] else { return nil }
            state.touch(key)
            return value
        }
    }

    public func removeAll() { state.withLock { $0 = State() } }
}
