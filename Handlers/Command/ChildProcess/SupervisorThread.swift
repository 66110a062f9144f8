#if canImport(Glibc)
internal import Glibc
#endif

/// Starts detached threads that run one closure each.
///
/// A ``ChildSupervisor`` blocks in `poll` and `waitpid`, which must never happen on
/// Swift's cooperative pool (two threads on this machine). The stack is 512 KiB: the
/// supervision needs little, and one thread runs per running program.
///
/// ```swift
/// if let code = SupervisorThread.start({ work() }) { print("pthread_create failed: \(code)") }
/// ```
enum SupervisorThread {
    private final class Body: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Starts a thread running `body`; returns the error code if it could not.
    static func start(_ body: @escaping @Sendable () -> Void) -> Int32? {
        // Allocated rather than `pthread_attr_t()`: that initialiser is attributed to
        // whichever C module first included <pthread.h> (CCurl), not to Glibc.
        let attributes = UnsafeMutablePointer<pthread_attr_t>.allocate(capacity: 1)
        pthread_attr_init(attributes)
        defer {
            pthread_attr_destroy(attributes)
            attributes.deallocate()
        }
        pthread_attr_setstacksize(attributes, 512 * 1024)
        pthread_attr_setdetachstate(attributes, Int32(PTHREAD_CREATE_DETACHED))
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread: pthread_t = 0
        let code = pthread_create(&thread, attributes, { context in
            Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
        if code != 0 {
            Unmanaged<Body>.fromOpaque(context).release()
            return code
        }
        return nil
    }
}
