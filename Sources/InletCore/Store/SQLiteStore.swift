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
        public var clock: WallClock

        public init(synchronous: SQLiteSynchronous = .full, maxBatch: Int = 512, clock: WallClock = .system) {
            self.synchronous = synchronous
            self.maxBatch = maxBatch
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
        // Checkpoints copy the WAL into the database and fsync it; on the writer they would
        // stall every commit behind them, so a thread of their own runs them (PASSIVE: they
        // never block the writer), one at a time, after commits.
        let checkpointer = SQLiteExecutor(name: "inlet.sqlite.checkpointer", mode: .reader) {
            try SQLiteConnection(path: path, synchronous: synchronous, setWALMode: false)
        }
        let checkpointPending = Atomic<Bool>(false)
        let writer = SQLiteExecutor(
            name: "inlet.sqlite.writer", mode: .writer(maxBatch: options.maxBatch),
            afterCommit: {
                guard !checkpointPending.exchange(true, ordering: .acquiringAndReleasing) else { return }
                checkpointer.submit { connection in
                    try? connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    checkpointPending.store(false, ordering: .releasing)
                }
            }
        ) {
            let connection = try SQLiteConnection(path: path, synchronous: synchronous)
            try connection.execute("PRAGMA wal_autocheckpoint = 0")
            return connection
        }
        do {
            try await writer.run { connection in try Migrations.apply(on: connection) }
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
        let eventID = EventID.generate()
        return try await self.writer.run { connection in
            let userID: Int64
            let created: Bool
            if let existing = try connection.row("SELECT id FROM users WHERE auth0_id = ?", [.text(login.auth0ID)]),
                case .integer(let id) = existing[0]
            {
                try connection.execute(
                    """
                    UPDATE users SET
                        email = coalesce(?1, email), name = coalesce(?2, name), picture = coalesce(?3, picture),
                        email_verified = coalesce(?4, email_verified), logins_count = logins_count + 1,
                        auth0_logins_count = coalesce(?5, auth0_logins_count), last_ip = coalesce(?6, last_ip),
                        last_login_at = ?7, updated_at = ?7
                    WHERE id = ?8
                    """,
                    [
                        .text(login.email), .text(login.name), .text(login.picture), .bool(login.emailVerified),
                        .integer(login.loginsCount), .text(login.ip), .text(now), .integer(id),
                    ]
                )
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

    public func close() async {
        await self.reader.close()
        await self.writer.close()
        // A last full checkpoint leaves a compact database file behind.
        self.checkpointer.submit { connection in try? connection.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
        await self.checkpointer.close()
    }
}
