import Foundation
import InletCore
import InletSQLite
import Synchronization

/// A SQLite database file in a temporary folder, read through the store's read-only
/// connection.
final class SQLiteTestDatabase: TestDatabase {
    private let current: Mutex<SQLiteStore>
    let folder: String
    let clock: WallClock

    var store: SQLiteStore { self.current.withLock { $0 } }

    init(store: SQLiteStore, folder: String, clock: WallClock) {
        self.current = Mutex(store)
        self.folder = folder
        self.clock = clock
    }

    /// Opens a store on a new file in a new temporary folder.
    static func open(clock: WallClock) async throws -> TestedStore {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-conformance-\(UUID().uuidString)").path
        do {
            let store = try await SQLiteStore.open(path: folder + "/inlet.sqlite", options: .init(clock: clock))
            return TestedStore(store: store, database: SQLiteTestDatabase(store: store, folder: folder, clock: clock))
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
    }

    func count(_ table: String, where condition: String) async throws -> Int {
        try await self.store.read { try $0.requiredRow("SELECT count(*) AS count FROM \(table) WHERE \(condition)").int("count") }
    }

    func auditRows() async throws -> [AuditRow] {
        try await self.store.read { connection in
            try connection.query(AuditRow.query).map { row in
                AuditRow(
                    eventID: try row.optionalString("event_id"), handler: try row.optionalString("handler"),
                    outcome: try row.string("outcome"), detail: try row.optionalString("detail")
                )
            }
        }
    }

    /// One process writes a SQLite file (``DatabaseLock``): a second store cannot open it.
    func openAnother() async throws -> any StoreBackend {
        throw SharingUnsupported()
    }

    func reopen(closing store: any StoreBackend) async throws -> any StoreBackend {
        await store.close()
        let reopened = try await SQLiteStore.open(path: self.folder + "/inlet.sqlite", options: .init(clock: self.clock))
        self.current.withLock { $0 = reopened }
        return reopened
    }

    func remove() async {
        try? FileManager.default.removeItem(atPath: self.folder)
    }

    struct SharingUnsupported: Error, CustomStringConvertible {
        var description: String { "one process writes a SQLite database: a test that shares one runs on Backend.shared" }
    }
}
