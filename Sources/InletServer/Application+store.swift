internal import InletCore
internal import InletPostgres
internal import InletSQLite
internal import Logging

/// Opens the store `buildApplication` runs on, at ``Configuration/database``, applying
/// pending migrations, and logs what it opened. The only place the server chooses a
/// backend: everything above it sees the store protocols.
///
/// SQLite: the file for writing (its process lock taken), on `clock`. PostgreSQL: a
/// connection pool that listens for the other instances' wake-ups; leases on the
/// database's clock unless a test gives `clock`.
func openStore(_ configuration: Configuration, clock: WallClock?, logger: Logger) async throws -> any StoreBackend & ConsoleSessionStore {
    switch configuration.database {
    case .sqlite(let path):
        let store = try await SQLiteStore.open(path: path, options: .init(synchronous: configuration.synchronous, clock: clock ?? .system))
        logger.info(
            "database open",
            metadata: [
                "database.path": "\(path)",
                "database.synchronous": "\(configuration.synchronous.rawValue)",
                "database.schema": "\(Migrations.latestVersion)",
                "database.retention_days": "\(configuration.retentionDays)",
                "sqlite.version": "\(SQLiteConnection.libraryVersion)",
                "sqlite.checkpoints": "\(SQLiteStore.checkpointMode)",
            ]
        )
        if SQLiteConnection.libraryVersionNumber < 3_051_003 {
            logger.notice(
                "this SQLite has the WAL-reset bug (fixed in 3.51.3): only this process writes the database, and only its writer connection checkpoints",
                metadata: ["sqlite.version": "\(SQLiteConnection.libraryVersion)"]
            )
        }
        return store

    case .postgres(let location):
        if configuration.passwordInDatabaseURL {
            logger.notice(
                "the database URL holds the password; move it to INLET_DATABASE_PASSWORD or INLET_DATABASE_PASSWORD_FILE, where it is not copied with the URL",
                metadata: ["database.url": "\(location)"]
            )
        }
        var options = PostgresStore.Options()
        options.clock = clock
        let store = try await PostgresStore.open(location, options: options, logger: logger)
        let server: (version: String, synchronousCommit: String)
        do {
            server = try await store.serverSettings()
        } catch {
            await store.close()
            throw error
        }
        logger.info(
            "database open",
            metadata: [
                "database.url": "\(location)",
                "database.schema": "\(PostgresStore.latestVersion)",
                "database.retention_days": "\(configuration.retentionDays)",
                "postgresql.version": "\(server.version)",
                "postgresql.synchronous_commit": "\(server.synchronousCommit)",
            ]
        )
        // `on` and `remote_apply` wait for the commit record on disk; the others answer
        // before it is there (`local` and `remote_write`: before a standby has it).
        if !["on", "remote_apply"].contains(server.synchronousCommit) {
            logger.warning(
                "PostgreSQL's synchronous_commit is not on: an event acknowledged just before a database crash or failover may be lost",
                metadata: ["postgresql.synchronous_commit": "\(server.synchronousCommit)"]
            )
        }
        return store
    }
}
