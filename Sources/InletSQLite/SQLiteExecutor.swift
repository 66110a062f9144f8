internal import InletCore
internal import CSQLite3
internal import Foundation
internal import InletThreads
internal import Synchronization

/// A dedicated thread that owns one ``SQLiteConnection`` and runs work on it.
///
/// `sqlite3_step` blocks, sometimes for an fsync; on a two-core machine one blocking
/// call on the cooperative pool stalls half the server. So every statement runs here,
/// and callers `await` the result.
///
/// As a writer, the executor groups whatever jobs are waiting into one transaction
/// (group commit): a failing job rolls back only its own changes (the batch then runs
/// again with a SAVEPOINT per job), and a job's caller is answered only after the COMMIT
/// that made its changes durable. Under load many requests share one fsync; alone, a job
/// costs one transaction as usual.
///
/// The first I/O error of a commit, a sync or a checkpoint stops a writer for good: Linux
/// reports a failed writeback once and may then report success for data that never
/// reached the disk, so nothing committed after it could be trusted. Every queued and
/// later job is answered with that error, and `onFailure` is told once.
///
/// ```swift
/// let writer = try SQLiteExecutor(name: "inlet.sqlite.writer", mode: .writer) {
///     try SQLiteConnection(path: path)
/// }
/// let id = try await writer.run { connection in
///     try connection.execute("INSERT INTO t(x) VALUES (?)", [.integer(1)])
///     return connection.lastInsertRowID
/// }
/// ```
public final class SQLiteExecutor: @unchecked Sendable {
    // @unchecked Sendable: the connection and `syncer` are touched only by `thread`; `jobs`
    // is a WorkQueue (locked), `state` a Mutex, `mode` and `hooks` are immutable.

    public enum Mode: Sendable {
        /// Group waiting jobs into one transaction (group commit). With `syncWAL` (a
        /// connection that commits without syncing), a second thread fdatasyncs the
        /// connection's WAL after each commit and only then answers the batch: the writer
        /// runs the next batch meanwhile, and batches committed during one sync share the next.
        case writer(maxBatch: Int, syncWAL: Bool = false)
        /// Run jobs one by one, each in autocommit mode.
        case reader
    }

    private struct Job: Sendable {
        /// Runs the caller's body on the executor thread; returns how to answer it.
        let run: @Sendable (SQLiteConnection) -> Outcome
        /// Answers the caller with `error` without running the body.
        let reject: @Sendable (any Error) -> Void
    }

    fileprivate struct Outcome: Sendable {
        let succeeded: Bool
        /// Resumes the caller with the body's result or error.
        let answer: @Sendable () -> Void
        /// Resumes the caller with `error` instead (the batch's commit failed).
        let fail: @Sendable (any Error) -> Void
    }

    /// Hooks of a writer, run on its thread.
    public struct Hooks: Sendable {
        /// After each successful COMMIT, outside any transaction (checkpoints). An I/O error
        /// it throws stops the writer.
        public var afterCommit: (@Sendable (SQLiteConnection) throws -> Void)?
        /// Once the queue is drained at close, before the connection closes.
        public var beforeClose: (@Sendable (SQLiteConnection) -> Void)?
        /// Told once, from the writer's threads, of the error that stopped the writer.
        public var onFailure: (@Sendable (SQLiteError) -> Void)?

        public init(
            afterCommit: (@Sendable (SQLiteConnection) throws -> Void)? = nil, beforeClose: (@Sendable (SQLiteConnection) -> Void)? = nil,
            onFailure: (@Sendable (SQLiteError) -> Void)? = nil
        ) {
            self.afterCommit = afterCommit
            self.beforeClose = beforeClose
            self.onFailure = onFailure
        }
    }

    private let thread: WorkerThread
    /// Closed by `close()` and when the thread ends; refusing after an I/O error.
    private let jobs = WorkQueue<Job>()
    private let mode: Mode
    private let hooks: Hooks
    private struct State {
        /// Why the connection could not be opened, once known.
        var openError: (any Error)?
        /// The I/O error that stopped the writer, once one happened.
        var failure: SQLiteError?
    }
    private let state = Mutex(State())
    /// Makes commits durable before they are answered (writer mode with `syncWAL`); made
    /// once the connection is open and knows where its WAL is. Touched only by the thread.
    private var syncer: CommitSyncer?

    /// Starts the thread, which opens the connection; if opening fails, every job is
    /// answered with that error (so the first `run` reports it).
    public init(name: String, mode: Mode, hooks: Hooks = Hooks(), open: @escaping @Sendable () throws -> SQLiteConnection) {
        self.mode = mode
        self.hooks = hooks
        self.thread = WorkerThread(name: name, stackSize: 1 << 20)
        // The thread keeps the executor alive until it ends.
        do {
            try self.thread.start { [self] in
                self.serve(name: name, open: open)
                self.finish()
            }
        } catch {
            preconditionFailure("\(error)")
        }
    }

    /// The I/O error that stopped this writer, if one did.
    public var stoppedBy: SQLiteError? {
        self.state.withLock { $0.failure }
    }

    /// Why a job is refused: the I/O error that stopped the writer, the connection that
    /// could not be opened, or the executor being closed.
    private var refusal: any Error {
        self.state.withLock { $0.failure ?? $0.openError ?? SQLiteError.closed }
    }

    /// Runs `body` on the executor's connection and returns its result. For a writer,
    /// returns only after the enclosing transaction committed; `body` may run twice (its
    /// first run rolled back because another job of its batch failed), so it must touch
    /// nothing but the connection.
    public func run<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(run: { connection in
                do {
                    let value = try body(connection)
                    return Outcome(
                        succeeded: true,
                        answer: { continuation.resume(returning: value) },
                        fail: { continuation.resume(throwing: $0) }
                    )
                } catch {
                    return Outcome(
                        succeeded: false,
                        answer: { continuation.resume(throwing: error) },
                        fail: { _ in continuation.resume(throwing: error) }
                    )
                }
            }, reject: { continuation.resume(throwing: $0) })
            if !self.jobs.append(job) {
                continuation.resume(throwing: self.refusal)
            }
        }
    }

    /// Queues `body` without waiting for it (background maintenance); errors are dropped.
    public func submit(_ body: @escaping @Sendable (SQLiteConnection) -> Void) {
        let job = Job(run: { connection in
            body(connection)
            return Outcome(succeeded: true, answer: {}, fail: { _ in })
        }, reject: { _ in })
        _ = self.jobs.append(job)
    }

    /// Finishes the queued jobs, closes the connection and ends the thread. The thread
    /// keeps the executor alive until this is called.
    public func close() async {
        self.jobs.close()
        await self.thread.join()
    }

    /// Stops the writer for good after an I/O error: answers everything queued with it,
    /// refuses every later job, and tells `onFailure` (once). The thread goes on (refusing
    /// whatever it still holds) until `close()`.
    fileprivate func fail(_ error: SQLiteError) {
        // The failure is recorded before the queue refuses, so a refused job reports it.
        let first = self.state.withLock { state in
            guard state.failure == nil else { return false }
            state.failure = error
            return true
        }
        for job in self.jobs.refuseAll() { job.reject(error) }
        if first { self.hooks.onFailure?(error) }
    }

    /// The thread's last act: answers anything still queued (the connection could not be
    /// opened). `close()` callers are answered when the thread's body has returned.
    private func finish() {
        self.syncer?.stop()
        self.jobs.close()
        let orphans = self.jobs.refuseAll()
        let error = self.refusal
        for job in orphans { job.reject(error) }
    }

    /// Opens the connection and runs jobs until closed; the connection is closed when
    /// this frame ends, before ``finish()`` answers the callers of ``close()``.
    private func serve(name: String, open: () throws -> SQLiteConnection) {
        let connection: SQLiteConnection
        do {
            connection = try open()
        } catch {
            self.state.withLock { $0.openError = error }
            return
        }
        if case .writer(_, true) = self.mode {
            self.syncer = CommitSyncer(path: connection.walPath, name: name + ".sync", executor: self)
        }
        self.loop(connection)
    }

    private func loop(_ connection: SQLiteConnection) {
        let maxBatch: Int
        switch self.mode {
        case .writer(let max, _): maxBatch = max
        case .reader: maxBatch = 1
        }
        while let batch = self.jobs.next(max: maxBatch) {
            switch self.mode {
            case .writer:
                guard let committed = self.runTransaction(batch, on: connection) else { continue }
                if let syncer = self.syncer {
                    syncer.submit(committed)
                } else {
                    for outcome in committed { outcome.answer() }
                }
                guard self.stoppedBy == nil else { continue }  // no checkpoint after an I/O error
                do {
                    try self.hooks.afterCommit?(connection)
                } catch let error as SQLiteError where error.isIOError {
                    self.fail(error)
                } catch {}
            case .reader: batch[0].run(connection).answer()
            }
        }
        // Closed and drained. Answer what waits on a sync while the connection is still open.
        self.syncer?.stop()
        if self.stoppedBy == nil {
            self.hooks.beforeClose?(connection)
        } else {
            connection.disableCheckpointOnClose()
        }
    }

    /// Runs `batch` in one transaction. Answers the jobs that failed, and every job when the
    /// transaction fails; returns the committed jobs, still to be answered.
    ///
    /// Jobs rarely fail, so the batch first runs without savepoints (a savepoint copies
    /// every page a job changes into a statement journal). When a job fails, that attempt
    /// is rolled back and the batch runs again with a savepoint per job, so that only the
    /// failing job's changes are undone: a job's body may therefore run twice. An I/O
    /// error anywhere stops the writer.
    private func runTransaction(_ batch: [Job], on connection: SQLiteConnection, savepoints: Bool = false) -> [Outcome]? {
        if let failure = self.stoppedBy {
            for job in batch { job.reject(failure) }
            return nil
        }
        do {
            try connection.execute("BEGIN IMMEDIATE")
        } catch {
            for job in batch { job.reject(error) }
            if error.isIOError { self.fail(error) }
            return nil
        }
        var outcomes: [Outcome] = []
        outcomes.reserveCapacity(batch.count)
        for job in batch {
            guard savepoints else {
                let outcome = job.run(connection)
                guard outcome.succeeded else {
                    try? connection.execute("ROLLBACK")
                    if batch.count == 1 {
                        outcome.answer()
                        return nil
                    }
                    return self.runTransaction(batch, on: connection, savepoints: true)
                }
                outcomes.append(outcome)
                continue
            }
            do {
                try connection.execute("SAVEPOINT job")
                let outcome = job.run(connection)
                if outcome.succeeded {
                    try connection.execute("RELEASE job")
                } else {
                    try connection.execute("ROLLBACK TO job")
                    try connection.execute("RELEASE job")
                }
                outcomes.append(outcome)
            } catch {
                // The savepoint machinery itself failed (disk full, I/O error): the
                // transaction cannot be trusted; fail the whole batch.
                try? connection.execute("ROLLBACK")
                for outcome in outcomes { outcome.fail(error) }
                for remaining in batch.dropFirst(outcomes.count) { remaining.reject(error) }
                if error.isIOError { self.fail(error) }
                return nil
            }
        }
        do {
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            for outcome in outcomes {
                if outcome.succeeded { outcome.fail(error) } else { outcome.answer() }
            }
            if error.isIOError { self.fail(error) }
            return nil
        }
        for outcome in outcomes where !outcome.succeeded { outcome.answer() }
        return outcomes.filter(\.succeeded)
    }
}

/// The writer's second thread: fdatasync of the WAL, then the callers of the batches it
/// covers are answered. A batch is handed over only after its COMMIT wrote its frames, so
/// the sync that follows makes it durable, as `synchronous=FULL` would, without holding
/// the writer while the disk flushes.
///
/// The WAL's path is the one SQLite uses (``SQLiteConnection/walPath``); before each sync
/// the open descriptor is checked against the file at that path and reopened when another
/// file took its place. The first failed sync stops the writer: that batch and every one
/// after it is answered with the error, never with success.
private final class CommitSyncer: @unchecked Sendable {
    // @unchecked Sendable: `descriptor` and `failure` are touched only by the thread;
    // `pending` is a WorkQueue (locked); the rest is immutable.
    private let path: String
    private unowned let executor: SQLiteExecutor
    private let thread: WorkerThread
    private let pending = WorkQueue<SQLiteExecutor.Outcome>()
    private var descriptor: Int32 = -1
    private var failure: SQLiteError?

    init(path: String, name: String, executor: SQLiteExecutor) {
        self.path = path
        self.executor = executor
        self.thread = WorkerThread(name: name, stackSize: 1 << 18)
        do {
            try self.thread.start { [self] in self.loop() }
        } catch {
            preconditionFailure("\(error)")
        }
    }

    /// Called by the writer thread only, before `stop()`.
    func submit(_ outcomes: [SQLiteExecutor.Outcome]) {
        if !self.pending.append(contentsOf: outcomes) {
            for outcome in outcomes { outcome.fail(SQLiteError.closed) }
        }
    }

    /// Syncs and answers what is pending, ends the thread, and returns once it ended.
    func stop() {
        self.pending.close()
        self.thread.join()
    }

    private func loop() {
        while let batch = self.pending.next() {
            if let error = self.failure ?? self.sync() {
                for outcome in batch { outcome.fail(error) }
                if self.failure == nil {
                    self.failure = error
                    self.executor.fail(error)
                }
            } else {
                for outcome in batch { outcome.answer() }
            }
        }
        if self.descriptor >= 0 { close(self.descriptor) }
    }

    /// nil when the file's data reached the disk.
    private func sync() -> SQLiteError? {
        if self.descriptor >= 0 && !self.isOpenFileAtPath() {
            close(self.descriptor)
            self.descriptor = -1
        }
        if self.descriptor < 0 {
            self.descriptor = open(self.path, O_RDWR | O_CLOEXEC)
            guard self.descriptor >= 0 else {
                return SQLiteError(code: SQLiteError.fsyncCode, message: "cannot open \(self.path) to sync it: \(String(cString: strerror(errno)))")
            }
        }
        guard fdatasync(self.descriptor) == 0 else {
            return SQLiteError(code: SQLiteError.fsyncCode, message: "fdatasync of \(self.path) failed: \(String(cString: strerror(errno)))")
        }
        return nil
    }

    /// Whether the open descriptor is still the file at `path` (same device and inode).
    private func isOpenFileAtPath() -> Bool {
        var open = stat()
        var named = stat()
        guard fstat(self.descriptor, &open) == 0, stat(self.path, &named) == 0 else { return false }
        return open.st_dev == named.st_dev && open.st_ino == named.st_ino
    }
}
