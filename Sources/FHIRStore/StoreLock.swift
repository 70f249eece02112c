import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A plain pthread mutex guarding one value. `Synchronization.Mutex` on Linux is a
/// priority-inheritance futex whose contended path goes through the kernel's rt_mutex; under
/// 64 concurrent requests that cost ~16% of the search benchmark. A normal mutex spins briefly
/// in user space first.
///
/// Re-entrant on the thread that holds it: a read inside a write transaction (a transaction's
/// GET entries, which must see its writes and roll back with them) runs on the same connection
/// instead of deadlocking.
final class StoreLock<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value
    /// The thread holding the lock (0: none). Only the holder stores its own id, so a thread
    /// that reads its own id here holds the lock.
    private let owner = Atomic<UInt>(0)

    init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        #if canImport(Glibc)
            pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        #endif
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<T, E: Error>(_ body: (Value) throws(E) -> T) throws(E) -> T {
        let me = Self.currentThread()
        if owner.load(ordering: .acquiring) == me { return try body(value) }
        pthread_mutex_lock(mutex)
        owner.store(me, ordering: .releasing)
        defer {
            owner.store(0, ordering: .releasing)
            pthread_mutex_unlock(mutex)
        }
        return try body(value)
    }

    private static func currentThread() -> UInt {
        #if canImport(Glibc)
            UInt(pthread_self())
        #else
            UInt(bitPattern: pthread_self())
        #endif
    }
}
