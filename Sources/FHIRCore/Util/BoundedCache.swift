import Synchronization

/// A thread-safe map from string keys to values that keeps at most `capacity` entries,
/// dropping the least recently used first. Search result pages and `$find` proposals use it.
/// Every operation is amortised O(1): a use appends to a queue of (key, stamp) records and
/// eviction skips records whose stamp is no longer the key's latest.
public final class BoundedCache<Value: Sendable>: Sendable {
    private struct State {
        var entries: [String: (value: Value, stamp: UInt64)] = [:]
        /// Uses from oldest to newest; `head` is the first record not yet consumed.
        var uses: [(key: String, stamp: UInt64)] = []
        var head = 0
        var clock: UInt64 = 0

        mutating func touch(_ key: String, _ value: Value) {
            clock += 1
            entries[key] = (value, clock)
            uses.append((key, clock))
        }

        mutating func evict(to capacity: Int) {
            while entries.count > capacity, head < uses.count {
                let use = uses[head]
                head += 1
                if entries[use.key]?.stamp == use.stamp { entries[use.key] = nil }
            }
            // Drop consumed and superseded records once they outnumber the live ones.
            if head > 64 && head * 2 > uses.count {
                uses.removeFirst(head)
                head = 0
            }
            if uses.count > 4 * max(capacity, 16) {
                uses = uses.filter { entries[$0.key]?.stamp == $0.stamp }
                head = 0
            }
        }
    }

    private let state = Mutex(State())
    public let capacity: Int

    public init(capacity: Int) { self.capacity = capacity }

    public func store(_ value: Value, for key: String) {
        state.withLock { state in
            state.touch(key, value)
            state.evict(to: capacity)
        }
    }

    /// The value for `key`, which becomes the most recently used.
    public func value(for key: String) -> Value? {
        state.withLock { state in
            guard let value = state.entries[key]?.value else { return nil }
            state.touch(key, value)
            state.evict(to: capacity)
            return value
        }
    }

    public func removeAll() { state.withLock { $0 = State() } }
}
