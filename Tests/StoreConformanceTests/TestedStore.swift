import InletCore
import Synchronization

/// A fresh store of one backend, opened for one test, with its database beside it.
///
/// ```swift
/// try await backend.withStore(clock: time.clock) { tested in
///     _ = try await tested.store.appendEvents([event])
///     #expect(try await tested.count("events") == 1)
/// }
/// ```
final class TestedStore: Sendable {
    private let current: Mutex<any StoreBackend>
    let database: any TestDatabase
    private let others = Mutex<[any StoreBackend]>([])

    /// The store under test (a new one after ``reopen()``).
    var store: any StoreBackend { self.current.withLock { $0 } }

    init(store: any StoreBackend, database: any TestDatabase) {
        self.current = Mutex(store)
        self.database = database
    }

    /// Closes the store and opens its database again, as a restart would; returns the new
    /// store (also ``store`` from then on).
    @discardableResult
    func reopen() async throws -> any StoreBackend {
        let store = try await self.database.reopen(closing: self.store)
        self.current.withLock { $0 = store }
        return store
    }

    /// Rows of `table` (matching `condition`), counted by the database itself.
    func count(_ table: String, where condition: String = "TRUE") async throws -> Int {
        try await self.database.count(table, where: condition)
    }

    /// Every audit row, oldest first.
    func auditRows() async throws -> [AuditRow] {
        try await self.database.auditRows()
    }

    /// A second store on the same database (as a second `inlet serve` would open it),
    /// closed with this one.
    func openAnother() async throws -> any StoreBackend {
        let other = try await self.database.openAnother()
        self.others.withLock { $0.append(other) }
        return other
    }

    /// Closes every store on the database, then removes it.
    func close() async {
        for other in self.others.withLock({ $0 }) { await other.close() }
        await self.store.close()
        await self.database.remove()
    }
}
