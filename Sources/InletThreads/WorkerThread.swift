internal import Foundation

#if canImport(Glibc)
internal import Glibc
#endif

/// A thread of its own for blocking work: started once with a name and a stack size, and
/// waited for, blocking or `async`, until its body has returned.
///
/// Blocking calls (`sqlite3_step`, `fdatasync`, `curl_multi_poll`, `poll` and `waitpid`)
/// never run on Swift's cooperative pool, which has two threads on this machine: each
/// owner of such work runs it on a `WorkerThread`. The owner tells the body to end in its
/// own way (a closed ``WorkQueue``, a flag and `curl_multi_wakeup`, a cancellation flag)
/// and then calls ``join()``, which returns once the body has returned, so whatever the
/// body cleans up on its way out (a connection, a multi handle) is gone by then.
///
/// The thread is detached: nothing has to join it, and ``join()`` may be called any number
/// of times, from any thread but its own. Its name is `Thread.current.name`, and the
/// kernel's (`top -H`, `gdb`) when it fits in the 15 bytes Linux keeps.
///
/// ```swift
/// let jobs = WorkQueue<@Sendable () -> Void>()
/// let worker = WorkerThread(name: "inlet.example", stackSize: 1 << 18)
/// try worker.start { while let batch = jobs.next() { for job in batch { job() } } }
/// _ = jobs.append { print("on the worker") }
/// jobs.close()
/// await worker.join()   // the job ran and the body returned
/// ```
public final class WorkerThread: @unchecked Sendable {
    // @unchecked Sendable: `name` and `stackSize` are immutable; `started`, `finished` and
    // `joiners` are guarded by `condition`.

    /// `pthread_create` failed (for instance EAGAIN: too many threads); the body never runs.
    public struct StartError: Error, Sendable, CustomStringConvertible {
        /// The thread's name.
        public let name: String
        /// `pthread_create`'s error number.
        public let code: Int32

        public var description: String {
            "cannot start thread \(self.name): pthread_create failed (\(self.code): \(String(cString: strerror(self.code))))"
        }
    }

    public let name: String
    public let stackSize: Int
    private let condition = NSCondition()
    private var started = false
    private var finished = false
    private var joiners: [CheckedContinuation<Void, Never>] = []

    /// A thread not started yet: an owner keeps it in a `let` and starts it at the end of
    /// its initialiser, once the body may capture `self`.
    public init(name: String, stackSize: Int) {
        self.name = name
        self.stackSize = stackSize
    }

    /// Starts the thread running `body`. Call it once. If the thread cannot be started,
    /// throws and counts as finished (``join()`` returns at once).
    public func start(_ body: @escaping @Sendable () -> Void) throws(StartError) {
        self.condition.lock()
        precondition(!self.started, "WorkerThread \(self.name) started twice")
        self.started = true
        self.condition.unlock()

        // Allocated rather than `pthread_attr_t()`: that initialiser is attributed to
        // whichever C module first included <pthread.h>, not necessarily Glibc.
        let attributes = UnsafeMutablePointer<pthread_attr_t>.allocate(capacity: 1)
        pthread_attr_init(attributes)
        defer {
            pthread_attr_destroy(attributes)
            attributes.deallocate()
        }
        pthread_attr_setstacksize(attributes, self.stackSize)
        pthread_attr_setdetachstate(attributes, Int32(PTHREAD_CREATE_DETACHED))
        let context = Unmanaged.passRetained(Launch(thread: self, body: body)).toOpaque()
        var thread = pthread_t()
        let code = pthread_create(&thread, attributes, { context in
            WorkerThread.main(context!)
            return nil
        }, context)
        if code != 0 {
            Unmanaged<Launch>.fromOpaque(context).release()
            self.markFinished()
            throw StartError(name: self.name, code: code)
        }
    }

    /// Whether the body has returned (or the thread could not be started).
    public var isFinished: Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        return self.finished
    }

    /// Blocks the calling thread until the body has returned. Never call it from the
    /// thread itself, nor from an async context (use `await join()`).
    public func join() {
        self.condition.lock()
        while !self.finished { self.condition.wait() }
        self.condition.unlock()
    }

    /// Suspends, without blocking a thread, until the body has returned.
    public func join() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            self.condition.lock()
            if self.finished {
                self.condition.unlock()
                continuation.resume()
                return
            }
            self.joiners.append(continuation)
            self.condition.unlock()
        }
    }

    /// What the new thread is handed: retained across `pthread_create`.
    private final class Launch: Sendable {
        let thread: WorkerThread
        let body: @Sendable () -> Void
        init(thread: WorkerThread, body: @escaping @Sendable () -> Void) {
            self.thread = thread
            self.body = body
        }
    }

    /// The new thread: names itself, runs the body, releases it (and what it captured),
    /// then wakes the joiners.
    private static func main(_ context: UnsafeMutableRawPointer) {
        let thread: WorkerThread
        do {
            let launch = Unmanaged<Launch>.fromOpaque(context).takeRetainedValue()
            thread = launch.thread
            thread.nameCurrentThread()
            launch.body()
        }
        thread.markFinished()
    }

    private func nameCurrentThread() {
        // Foundation passes the name on to the kernel, which keeps it only if it fits in
        // 15 bytes: "inlet.http.curl" shows in `top -H`, "inlet.sqlite.writer" in Swift only.
        Thread.current.name = self.name
    }

    private func markFinished() {
        self.condition.lock()
        self.finished = true
        let joiners = self.joiners
        self.joiners = []
        self.condition.broadcast()
        self.condition.unlock()
        for joiner in joiners { joiner.resume() }
    }
}
