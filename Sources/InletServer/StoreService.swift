internal import InletCore
internal import InletSQLite
internal import Logging
internal import ServiceLifecycle

/// Keeps the store open while the application runs and closes it after the server has
/// stopped (services shut down in reverse order, the server first).
///
/// When the store stops for good (SQLite: an I/O error stopped its writer, a failed
/// fdatasync or commit), nothing more can be acknowledged: it logs a critical line naming
/// the error, leaves `drain` for the requests in flight to be answered 503 (and `/readyz`
/// to say so), then throws, which ends every service and the process with a non-zero
/// status, so that the supervisor restarts it and SQLite recovers from what is on disk.
/// A PostgreSQL store never stops so: while the database is unreachable its calls fail as
/// unavailable (503) and it recovers by itself when PostgreSQL is back.
struct StoreService: Service {
    let store: any InletStore
    let logger: Logger
    var drain: Duration = .seconds(2)

    func run() async throws {
        let failure = await withTaskGroup(of: (any Error)?.self) { group in
            group.addTask { await self.store.waitForFailure() }
            group.addTask {
                try? await gracefulShutdown()
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if let failure {
            self.logger.critical(
                "the database's storage failed; nothing more is acknowledged and the process exits so that it restarts and recovers",
                metadata: ["error": "\(failure)"]
            )
            try? await Task.sleep(for: self.drain)
            await self.store.close()
            throw failure
        }
        await self.store.close()
        if let sqlite = self.store as? SQLiteStore {
            // Read by the benchmarks (Benchmarks/load.sh) for the WAL bytes per request.
            self.logger.info("store closed", metadata: ["wal_bytes_written": "\(sqlite.walBytesWritten)"])
        }
    }
}
