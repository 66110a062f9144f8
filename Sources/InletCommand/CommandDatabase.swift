import InletCore
import InletPostgres
import InletServer
import InletSQLite
import Logging

/// How the subcommands reach the configured database: the one place that chooses between
/// SQLite and PostgreSQL for them.
///
/// A SQLite file has one writer: a command that only reads opens it read-only (beside a
/// server, without locking or checkpointing it), and one that writes goes through the
/// admin API of the `inlet serve` holding the file, or opens it itself when none does.
/// A PostgreSQL database has any number of writers: every command opens it directly, with
/// a small pool and without listening for wake-ups.
///
/// ```swift
/// let records = try await CommandDatabase.reading(configuration) { store in
///     try await store.listEvents(state: nil, type: nil, limit: 10)
/// }
/// ```
enum CommandDatabase {
    /// Runs `body` on the database, opened to read.
    static func reading<T>(_ configuration: Configuration, _ body: (any StoreBackend) async throws -> T) async throws -> T {
        switch configuration.database {
        case .sqlite(let path):
            return try await using(try await SQLiteStore.openReadOnly(path: path), body)
        case .postgres(let location):
            return try await using(try await Self.openPostgres(location, configuration), body)
        }
    }

    /// Runs a change: `direct` on the database opened for writing, or `server` through the
    /// admin API of the `inlet serve` that holds a SQLite file.
    static func writing<T>(
        _ configuration: Configuration,
        direct: (any StoreBackend) async throws -> T,
        server: (AdminAPI) async throws -> T
    ) async throws -> T {
        switch configuration.database {
        case .sqlite(let path):
            if let pid = DatabaseLock.currentHolder(databasePath: path) {
                return try await server(AdminAPI(configuration: configuration, serverPID: pid))
            }
            let store = try await SQLiteStore.open(path: path, options: .init(synchronous: configuration.synchronous))
            return try await using(store, direct)
        case .postgres(let location):
            return try await using(try await Self.openPostgres(location, configuration), direct)
        }
    }

    /// A PostgreSQL store for one command: two connections, no LISTEN (the command wakes
    /// nothing up and is woken by nothing), migrations applied under the advisory lock.
    static func openPostgres(_ location: PostgresLocation, _ configuration: Configuration) async throws -> PostgresStore {
        try await PostgresStore.open(location, options: Self.postgresOptions, logger: Self.logger(configuration))
    }

    /// Two connections, no LISTEN; 30 s for each call (a person waits for
    /// the answer, where a request would rather have its 503 quickly).
    static var postgresOptions: PostgresStore.Options {
        PostgresStore.Options(maximumConnections: 2, operationTimeout: .seconds(30), listen: false)
    }

    /// Standard error at the configured level; the process's logging system is left alone
    /// (only `inlet serve` bootstraps it).
    static func logger(_ configuration: Configuration) -> Logger {
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        return Logger(label: "inlet") { label in StandardErrorLogHandler(label: label, logLevel: level) }
    }

    /// Runs `body` with `store`, and closes it whatever `body` does.
    static func using<Store: StoreBackend, T>(_ store: Store, _ body: (any StoreBackend) async throws -> T) async throws -> T {
        do {
            let value = try await body(store)
            await store.close()
            return value
        } catch {
            await store.close()
            throw error
        }
    }
}

/// ``CommandDatabase/reading(_:_:)`` on the database of `common`, with its configuration.
func withStore<T>(_ common: CommonOptions, _ body: (any StoreBackend, Configuration) async throws -> T) async throws -> T {
    let configuration = try common.load()
    return try await CommandDatabase.reading(configuration) { try await body($0, configuration) }
}

/// ``CommandDatabase/writing(_:direct:server:)`` on the database of `common`.
func withWriter<T>(
    _ common: CommonOptions,
    direct: (any StoreBackend) async throws -> T,
    server: (AdminAPI) async throws -> T
) async throws -> T {
    try await CommandDatabase.writing(try common.load(), direct: direct, server: server)
}
