import Foundation
import InletCore
import InletSQLite

/// A SQLite database file in a temporary folder, read through the store's read-only
/// connection.
struct SQLiteTestDatabase: TestDatabase {
    let store: SQLiteStore
    let folder: String

    /// Opens a store on a new file in a new temporary folder.
    static func open(clock: WallClock) async throws -> TestedStore {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-conformance-\(UUID().uuidString)").path
        do {
            let store = try await SQLiteStore.open(path: folder + "/inlet.sqlite", options: .init(clock: clock))
            return TestedStore(store: store, database: SQLiteTestDatabase(store: store, folder: folder))
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

    func remove() async {
        try? FileManager.default.removeItem(atPath: self.folder)
    }

    struct SharingUnsupported: Error, CustomStringConvertible {
        var description: String { "one process writes a SQLite database: a test that shares one runs on Backend.shared" }
    }
}
