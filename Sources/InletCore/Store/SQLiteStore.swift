internal import Foundation
internal import Synchronization

/// The SQLite implementation of ``InletStore``: one writer connection on its own thread
/// (group commit, see ``SQLiteExecutor``) and one reader connection beside it (WAL lets
/// reads run while the writer commits).
///
/// ```swift
/// let store = try await SQLiteStore.open(path: "./data/inlet.sqlite")
/// let result = try await store.syncLogin(LoginSync(auth0ID: "auth0|1"), payload: "{}", handlers: [])
/// await store.close()
/// ```
public final class SQLiteStore: InletStore {
    public struct Options: Sendable {
        public var synchronous: SQLiteSynchronous
        /// Most jobs committed in one transaction.
        public var maxBatch: Int
        /// WAL frames (pages) that start a background checkpoint.
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
    let writer: SQLiteExecutor
    let reader: SQLiteExecutor
    let checkpointer: SQLiteExecutor
    let clock: WallClock

    private init(path: String, writer: SQLiteExecutor, reader: SQLiteExecutor, checkpointer: SQLiteExecutor, clock: WallClock) {
        self.path = path
        self.writer = writer
        self.reader = reader
        self.checkpointer = checkpointer
        self.clock = clock
    }

    /// Opens the database at `path` (creating it and its folder), applies pending
    /// migrations, and returns the store with the versions applied.
    public static func open(path: String, options: Options = .init()) async throws -> SQLiteStore {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let synchronous = options.synchronous
        let checkpointer = SQLiteExecutor(name: "inlet.sqlite.checkpointer", mode: .reader) {
            try SQLiteConnection(path: path, synchronous: synchronous, setWALMode: false)
        }
        let checkpoints = CheckpointSchedule(every: options.checkpointFrames, checkpointer: checkpointer)
        // synchronous=FULL would fsync the WAL inside each COMMIT, on the writer thread, which
        // would sit idle while the disk flushes. Instead the writer commits without syncing
        // and its second thread fdatasyncs the WAL before answering the batch: as durable
        // when answered, while the writer already runs the next batch.
        let syncWAL = synchronous == .full
        let writer = SQLiteExecutor(
            name: "inlet.sqlite.writer", mode: .writer(maxBatch: options.maxBatch, syncFile: syncWAL ? path + "-wal" : nil),
            afterCommit: checkpoints.afterCommit
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
            _ = try await writer.run { connection in try Migrations.apply(on: connection) }
            let reader = SQLiteExecutor(name: "inlet.sqlite.reader", mode: .reader) {
                try SQLiteConnection(path: path, readOnly: true, synchronous: synchronous)
            }
            do {
                try await reader.run { _ in }
            } catch {
                await reader.close()
                throw error
            }
            return SQLiteStore(path: path, writer: writer, reader: reader, checkpointer: checkpointer, clock: options.clock)
        } catch {
            await writer.close()
            await checkpointer.close()
            throw error
        }
    }

    /// Runs `body` in the writer's current transaction (shared with other jobs).
    public func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await self.writer.run(body)
    }

    /// Runs `body` on the read-only connection.
    public func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await self.reader.run(body)
    }

    public func syncLogin(_ login: LoginSync, payload: String, handlers: [String]) async throws -> LoginSyncResult {
        let clockNow = self.clock.now()
        let now = clockNow.description
        let eventID = EventID.generate(at: clockNow)
        return try await self.writer.run { connection in
            let userID: Int64
            let created: Bool
            if let existing = try connection.row("SELECT id, email FROM users WHERE auth0_id = ?", [.text(login.auth0ID)]),
                case .integer(let id) = existing[0]
            {
                try connection.execute(
                    """
                    UPDATE users SET
                        name = coalesce(?1, name), picture = coalesce(?2, picture),
                        email_verified = coalesce(?3, email_verified), logins_count = logins_count + 1,
                        auth0_logins_count = coalesce(?4, auth0_logins_count), last_ip = coalesce(?5, last_ip),
                        last_login_at = ?6, updated_at = ?6
                    WHERE id = ?7
                    """,
                    [
                        .text(login.name), .text(login.picture), .bool(login.emailVerified),
                        .integer(login.loginsCount), .text(login.ip), .text(now), .integer(id),
                    ]
                )
                // Apart, so that a login with the same email leaves the email index alone. A
                // new address is unverified unless the login says otherwise.
                if let email = login.email, existing[1].string != email {
                    try connection.execute(
                        "UPDATE users SET email = ?, email_verified = ? WHERE id = ?",
                        [.text(email), .bool(login.emailVerified ?? false), .integer(id)]
                    )
                }
                userID = id
                created = false
            } else {
                try connection.execute(
                    """
                    INSERT INTO users (auth0_id, email, name, picture, email_verified, logins_count,
                        auth0_logins_count, last_ip, last_login_at, created_at, updated_at)
                    VALUES (?1, ?2, ?3, ?4, coalesce(?5, 0), 1, ?6, ?7, ?8, ?8, ?8)
                    """,
                    [
                        .text(login.auth0ID), .text(login.email), .text(login.name), .text(login.picture),
                        .bool(login.emailVerified), .integer(login.loginsCount), .text(login.ip), .text(now),
                    ]
                )
                userID = connection.lastInsertRowID
                created = true
            }
            _ = try Self.insertEvent(
                connection, source: "auth0", id: eventID, type: LoginSync.eventType, payload: payload, handlers: handlers, now: clockNow
            )
            return LoginSyncResult(userID: userID, created: created, eventID: eventID)
        }
    }

    public func checkWritable() async throws {
        let now = self.clock.now().description
        try await self.writer.run { connection in
            try connection.execute(
                "INSERT INTO store_meta (key, value) VALUES ('last_write_check', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [.text(now)]
            )
        }
    }

    /// Copies the WAL into the database file (`mode`: PASSIVE or TRUNCATE).
    ///
    /// The checkpointer's connection opens before the writer switches a new database to
    /// WAL, and SQLite (before 3.41) treats a checkpoint on a connection that has not read
    /// the database since as a silent no-op: the WAL would grow without end. Reading the
    /// schema first makes the connection find the WAL.
    static func checkpoint(_ connection: SQLiteConnection, mode: String) {
        _ = try? connection.row("SELECT count(*) FROM sqlite_master")
        _ = try? connection.row("PRAGMA wal_checkpoint(\(mode))")
    }

    public func close() async {
        await self.reader.close()
        await self.writer.close()
        // A last full checkpoint leaves a compact database file behind.
        self.checkpointer.submit { connection in Self.checkpoint(connection, mode: "TRUNCATE") }
        await self.checkpointer.close()
    }
}

/// When the WAL is copied into the database, decided on the writer thread after each commit.
///
/// A checkpoint copies WAL pages into the database file and fsyncs both, so it runs on a
/// thread of its own (PASSIVE: it never blocks the writer), once per `every` new frames: a
/// page written by many commits is copied once, not once per commit. Under steady load the
/// WAL is never idle when a background checkpoint ends, so it would never start over and
/// would grow without end; once it is long, the writer copies the few frames committed
/// since the last background checkpoint itself, with nothing committed in between, and the
/// next transaction rewinds the WAL to its start.
final class CheckpointSchedule: @unchecked Sendable {
    // @unchecked Sendable: everything but `running` is touched only on the writer thread.
    private let every: Int
    private let checkpointer: SQLiteExecutor
    private let running = Atomic<Bool>(false)
    /// WAL frames when the last background checkpoint was asked for.
    private var requestedAt = 0
    /// The writer finishes the job once the background checkpoint running now ends.
    private var finishOnWriter = false

    init(every: Int, checkpointer: SQLiteExecutor) {
        self.every = max(1, every)
        self.checkpointer = checkpointer
    }

    func afterCommit(_ connection: SQLiteConnection) {
        let frames = connection.walFrames
        if frames < self.requestedAt { self.requestedAt = 0 }  // the WAL started over
        guard !self.running.load(ordering: .acquiring) else { return }
        if self.finishOnWriter {
            self.finishOnWriter = false
            SQLiteStore.checkpoint(connection, mode: "PASSIVE")
            return
        }
        guard frames >= self.requestedAt + self.every else { return }
        self.requestedAt = frames
        self.finishOnWriter = frames >= 4 * self.every
        self.running.store(true, ordering: .releasing)
        self.checkpointer.submit { connection in
            SQLiteStore.checkpoint(connection, mode: "PASSIVE")
            self.running.store(false, ordering: .releasing)
        }
    }
}
