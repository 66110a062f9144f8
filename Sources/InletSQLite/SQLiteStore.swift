public import InletCore
internal import Foundation
internal import Synchronization

/// The SQLite implementation of ``InletStore``: one writer connection on its own thread
/// (group commit, see ``SQLiteExecutor``) and one read-only connection beside it (WAL lets
/// reads run while the writer commits).
///
/// One process writes a database file: `open` takes an exclusive lock on a file beside it
/// (``DatabaseLock``) and fails at once, naming the holder's pid, when another process
/// has it. The writer connection is the only one that writes or checkpoints the file:
/// SQLite before 3.51.3 can lose committed frames when one connection checkpoints while
/// another's commit starts the WAL over (the WAL-reset bug), so every other connection,
/// in this process or another, is opened read-only (``openReadOnly(path:)``).
///
/// ```swift
/// let store = try await SQLiteStore.open(path: "./data/inlet.sqlite")
/// let results = try await store.appendEvents([NewEvent(source: .admin, id: "evt_1", type: "note", payload: "{}")])
/// await store.close()
/// ```
public final class SQLiteStore: InletStore {
    public struct Options: Sendable {
        public var synchronous: SQLiteSynchronous
        /// Most jobs committed in one transaction.
        public var maxBatch: Int
        /// WAL frames (pages) after which the writer copies the WAL into the database.
        public var checkpointFrames: Int
        public var clock: WallClock

        public init(synchronous: SQLiteSynchronous = .full, maxBatch: Int = 512, checkpointFrames: Int = 1000, clock: WallClock = .system) {
            self.synchronous = synchronous
            self.maxBatch = maxBatch
            self.checkpointFrames = checkpointFrames
            self.clock = clock
        }
    }

    public let path: String
    /// nil for a store opened read-only.
    let writer: SQLiteExecutor?
    let reader: SQLiteExecutor
    let clock: WallClock
    private let lock: DatabaseLock?
    private let failureSignal: FailureSignal
    /// The writer's checkpoints, which count the WAL frames written; nil read-only.
    private let checkpoints: CheckpointSchedule?
    /// Bytes of one WAL frame: its 24-byte header and a page.
    private let walFrameBytes: Int
    /// Deliveries pending or running, kept by the writer as it commits (one process
    /// writes the file, so the count it keeps is the file's).
    private let depth = Atomic<Int>(0)

    /// Counts deliveries that entered (positive) or left (negative) the backlog, once
    /// the transaction that moved them committed.
    func adjustDepth(by delta: Int) {
        if delta != 0 { self.depth.add(delta, ordering: .relaxed) }
    }

    /// Deliveries pending or running now.
    var backlog: Int { max(0, self.depth.load(ordering: .relaxed)) }

    private init(
        path: String, writer: SQLiteExecutor?, reader: SQLiteExecutor, clock: WallClock, lock: DatabaseLock?, failure: FailureSignal,
        checkpoints: CheckpointSchedule? = nil, walFrameBytes: Int = 0
    ) {
        self.path = path
        self.checkpoints = checkpoints
        self.walFrameBytes = walFrameBytes
        self.writer = writer
        self.reader = reader
        self.clock = clock
        self.lock = lock
        self.failureSignal = failure
    }

    /// How this build runs checkpoints, for the start-up log: on the writer connection
    /// (the one that commits), the only safe choice before SQLite 3.51.3.
    public static let checkpointMode = "writer connection (PASSIVE every checkpoint_frames frames, TRUNCATE at close)"

    /// Opens the database at `path` for writing (creating it and its folder), takes the
    /// file's process lock, applies pending migrations, and returns the store.
    public static func open(path: String, options: Options = .init()) async throws -> SQLiteStore {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let lock = try DatabaseLock(databasePath: path)
        let synchronous = options.synchronous
        let failure = FailureSignal()
        let checkpoints = CheckpointSchedule(every: options.checkpointFrames)
        // synchronous=FULL would fsync the WAL inside each COMMIT, on the writer thread, which
        // would sit idle while the disk flushes. Instead the writer commits without syncing
        // and its second thread fdatasyncs the WAL before answering the batch: as durable
        // when answered, while the writer already runs the next batch.
        let syncWAL = synchronous == .full
        let writer = SQLiteExecutor(
            name: "inlet.sqlite.writer", mode: .writer(maxBatch: options.maxBatch, syncWAL: syncWAL),
            hooks: .init(
                afterCommit: checkpoints.afterCommit,
                // A last full checkpoint leaves a compact database file behind.
                beforeClose: { connection in try? Self.checkpoint(connection, mode: "TRUNCATE") },
                onFailure: { error in failure.fail(error) }
            )
        ) {
            // The connection's WAL hook replaces SQLite's automatic checkpoints (and
            // `PRAGMA wal_autocheckpoint` would remove it).
            let connection = try SQLiteConnection(path: path, synchronous: syncWAL ? .normal : synchronous)
            // A WAL that grew while a reader held it back shrinks again when it starts over.
            try connection.execute("PRAGMA journal_size_limit = \(64 << 20)")
            // Every login touches the users, events and deliveries indexes: keep them in memory
            // rather than reading pages back from the file (SQLite's default cache is 2 MiB).
            try connection.execute("PRAGMA cache_size = -\(64 << 10)")
            return connection
        }
        do {
            // The count of the backlog, once: from then on the writer keeps it (O(pending)).
            let (depth, pageSize) = try await writer.run { connection in
                try Migrations.apply(on: connection)
                return (
                    try connection.requiredRow("SELECT count(*) AS count FROM deliveries WHERE state IN ('pending', 'running')").int("count"),
                    try connection.requiredRow("PRAGMA page_size").int("page_size")
                )
            }
            let reader = try await Self.openReader(path: path)
            let store = SQLiteStore(
                path: path, writer: writer, reader: reader, clock: options.clock, lock: lock, failure: failure,
                checkpoints: checkpoints, walFrameBytes: 24 + pageSize
            )
            store.depth.store(depth, ordering: .relaxed)
            return store
        } catch {
            await writer.close()
            throw error
        }
    }

    /// Opens the database at `path` read-only, beside a server that may be writing it: no
    /// lock, no migration, no checkpoint; every write is refused. The schema must be this
    /// build's (`inlet migrate` brings it up to date).
    public static func openReadOnly(path: String, clock: WallClock = .system) async throws -> SQLiteStore {
        guard FileManager.default.fileExists(atPath: path) else {
            throw SQLiteError(code: 14, message: "no database at \(path)")  // SQLITE_CANTOPEN
        }
        let reader = try await Self.openReader(path: path)
        let version = try await reader.run { try $0.requiredRow("PRAGMA user_version").int("user_version") }
        guard version == Migrations.latestVersion else {
            await reader.close()
            throw SQLiteError(
                code: 1,
                message: "the database at \(path) is at schema version \(version), this build reads version \(Migrations.latestVersion); run `inlet migrate` with the matching inlet"
            )
        }
        return SQLiteStore(path: path, writer: nil, reader: reader, clock: clock, lock: nil, failure: FailureSignal())
    }

    private static func openReader(path: String) async throws -> SQLiteExecutor {
        let reader = SQLiteExecutor(name: "inlet.sqlite.reader", mode: .reader) {
            try SQLiteConnection(path: path, readOnly: true)
        }
        do {
            try await reader.run { _ in }
        } catch {
            await reader.close()
            throw error
        }
        return reader
    }

    /// The I/O error that stopped the writer, if one did: nothing is written (or
    /// acknowledged) after it, and the process should exit so that SQLite recovers from
    /// what is on disk.
    public var stoppedBy: SQLiteError? { self.writer?.stoppedBy }

    /// Returns the I/O error that stops the writer, when it happens (never, for a healthy
    /// disk); returns nil if the calling task is cancelled first.
    public func fatalError() async -> SQLiteError? {
        await self.failureSignal.wait()
    }

    package var failure: (any Error)? { self.stoppedBy }

    package func waitForFailure() async -> (any Error)? {
        await self.fatalError()
    }

    /// Runs `body` in the writer's current transaction (shared with other jobs).
    public func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        guard let writer = self.writer else {
            throw SQLiteError(code: 8, message: "the database was opened read-only")  // SQLITE_READONLY
        }
        return try await writer.run(body)
    }

    /// Runs `body` on the read-only connection.
    public func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await self.reader.run(body)
    }

    package func checkWritable() async throws {
        let now = self.clock.now().description
        try await self.write { connection in
            try connection.execute(
                "INSERT INTO store_meta (key, value) VALUES ('last_write_check', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [.text(now)]
            )
        }
    }

    /// Copies the WAL into the database file (`mode`: PASSIVE or TRUNCATE), on the writer
    /// connection; an I/O error is thrown (it stops the writer), anything else (a reader
    /// holding frames back) only leaves frames for the next checkpoint.
    static func checkpoint(_ connection: SQLiteConnection, mode: String) throws(SQLiteError) {
        do {
            try connection.execute("PRAGMA wal_checkpoint(\(mode))")
        } catch where error.isIOError {
            throw error
        } catch {}
    }

    /// Bytes the writer's commits appended to the WAL since the store opened (frames of a
    /// 24-byte header and a page each): what the database costs the disk before checkpoints.
    public var walBytesWritten: Int {
        (self.checkpoints?.framesWritten.load(ordering: .relaxed) ?? 0) * self.walFrameBytes
    }

    package func close() async {
        await self.reader.close()
        await self.writer?.close()
        self.lock?.release()
    }
}

/// When the writer copies the WAL into the database, decided on its thread after each
/// commit: once per `every` new frames (PASSIVE: readers are never waited for), so a page
/// written by many commits is copied once, not once per commit; the next transaction after
/// a complete checkpoint rewinds the WAL to its start.
///
/// The checkpoint runs on the writer connection itself, between two batches, and never on
/// a connection of its own: with SQLite before 3.51.3 a checkpoint on one connection racing
/// a WAL reset by another's commit can lose committed frames (the WAL-reset bug).
///
/// It also counts the frames the commits appended to the WAL (``framesWritten``): the WAL
/// hook reports the frames in the WAL after each commit, and a count lower than the last
/// one means the commit started the WAL over, so all of its frames are new.
final class CheckpointSchedule: @unchecked Sendable {
    // @unchecked Sendable: the vars are touched only on the writer thread; `framesWritten`
    // is atomic.
    private let every: Int
    /// WAL frames at the last checkpoint.
    private var checkpointedAt = 0
    /// WAL frames after the last commit.
    private var lastFrames = 0
    /// Frames appended to the WAL by every commit since the store opened.
    let framesWritten = Atomic<Int>(0)

    init(every: Int) {
        self.every = max(1, every)
    }

    func afterCommit(_ connection: SQLiteConnection) throws {
        let frames = connection.walFrames
        self.framesWritten.add(frames >= self.lastFrames ? frames - self.lastFrames : frames, ordering: .relaxed)
        self.lastFrames = frames
        if frames < self.checkpointedAt { self.checkpointedAt = 0 }  // the WAL started over
        guard frames >= self.checkpointedAt + self.every else { return }
        self.checkpointedAt = frames
        try SQLiteStore.checkpoint(connection, mode: "PASSIVE")
    }
}

/// The I/O error that stopped a store's writer, for whoever waits for it (the service
/// that ends the process).
final class FailureSignal: Sendable {
    private struct State {
        var error: SQLiteError?
        var waiters: [Int: CheckedContinuation<SQLiteError?, Never>] = [:]
        var next = 0
    }

    private let state = Mutex(State())

    func fail(_ error: SQLiteError) {
        let waiters = self.state.withLock { state in
            guard state.error == nil else { return [CheckedContinuation<SQLiteError?, Never>]() }
            state.error = error
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: error) }
    }

    /// The error once there is one; nil when the task is cancelled first.
    func wait() async -> SQLiteError? {
        let id = self.state.withLock { state in
            defer { state.next += 1 }
            return state.next
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<SQLiteError?, Never>) in
                let now = self.state.withLock { state -> SQLiteError?? in
                    if let error = state.error { return .some(error) }
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter = self.state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: nil)
        }
    }
}

/// The lock that makes one process at a time the writer of a database file: an exclusive
/// `flock` on `<database>.lock` beside it, held until the store closes (or the process
/// ends: the kernel drops it with the last descriptor, so a crash leaves no stale lock).
/// The file holds the holder's pid, for the message a second writer gets.
public final class DatabaseLock: @unchecked Sendable {
    // @unchecked Sendable: `descriptor` is set once in init and closed once in release,
    // under `released`.
    private let descriptor: Int32
    private let released = Atomic<Bool>(false)
    public let lockPath: String

    /// Takes the lock of the database at `databasePath`, or throws ``DatabaseLockError``
    /// naming the process that holds it.
    public init(databasePath: String) throws {
        self.lockPath = Self.lockPath(databasePath: databasePath)
        let descriptor = open(self.lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw DatabaseLockError(message: "cannot open the lock file \(self.lockPath): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = Self.holder(descriptor)
            close(descriptor)
            throw DatabaseLockError(
                message: "the database \(databasePath) is in use by another inlet process\(holder.map { " (pid \($0))" } ?? ""); "
                    + "only one process may write it (stop it, or run the command against its admin API)",
                holderPID: holder
            )
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = pid.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        self.descriptor = descriptor
    }

    /// The pid written in the lock file of the database at `databasePath` when a process
    /// holds its lock now; nil when none does.
    public static func currentHolder(databasePath: String) -> Int32? {
        let descriptor = open(Self.lockPath(databasePath: databasePath), O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        if flock(descriptor, LOCK_SH | LOCK_NB) == 0 {
            flock(descriptor, LOCK_UN)
            return nil
        }
        return Self.holder(descriptor) ?? -1
    }

    /// Beside the file the database path resolves to, so that two paths to one database
    /// (a symlink) share one lock.
    static func lockPath(databasePath: String) -> String {
        let resolved = (databasePath as NSString).resolvingSymlinksInPath
        return resolved + ".lock"
    }

    private static func holder(_ descriptor: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    public func release() {
        guard !self.released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        close(self.descriptor)
    }

    deinit { self.release() }
}

/// Another process holds a database's write lock.
public struct DatabaseLockError: Error, CustomStringConvertible, Sendable {
    public let message: String
    /// The pid of the process holding the lock, when it wrote one.
    public var holderPID: Int32? = nil
    public var description: String { self.message }
}
