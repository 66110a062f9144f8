import ArgumentParser
import Foundation
import InletCore
import InletPostgres
import InletServer
import InletSQLite

/// `inlet copy --from FILE --to URL`: moves a SQLite database into an empty PostgreSQL one.
///
/// The SQLite side is read in one read transaction on a read-only connection, so a
/// server may still be running on the file (what it receives after the snapshot is not
/// copied: stop it first to move everything). The PostgreSQL side is written in one
/// transaction: all of it lands, or none.
struct Copy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a SQLite database into an empty PostgreSQL database, then print what it copied.",
        discussion: """
            Copies users, employees (with their Auth0 state), events (keeping their sequence numbers), \
            deliveries (with their state, attempts, due times, leases and errors), their attempt history, \
            the events' stored headers and search subjects, paused handlers and audit rows, in one \
            PostgreSQL transaction: everything or nothing. The destination must hold no such rows; its \
            schema is created or migrated first. The password comes from the URL or from \
            INLET_DATABASE_PASSWORD (or INLET_DATABASE_PASSWORD_FILE). Stop the inlet serve of the SQLite \
            file first: events it receives during the copy are not copied.
            """
    )

    @Option(help: "The SQLite file to copy from (read only).")
    var from: String

    @Option(help: "The postgres:// URL of the database to copy into.")
    var to: String

    @Option(help: "Rows read and written per batch.")
    var batchSize = 1_000

    func validate() throws {
        guard (1...PostgresImporter.batchLimit).contains(self.batchSize) else {
            throw ValidationError("--batch-size must be from 1 to \(PostgresImporter.batchLimit)")
        }
    }

    func run() async throws {
        let configuration = try Configuration.load(environment: ProcessInfo.processInfo.environment)
        var source = configuration
        try source.setDatabase(self.from, source: "--from")
        var destination = configuration
        try destination.setDatabase(self.to, source: "--to")
        guard case .sqlite(let path) = source.database, case .postgres(let location) = destination.database else {
            throw ValidationError("inlet copy copies a SQLite file (--from PATH) into PostgreSQL (--to postgres://...)")
        }
        if let pid = DatabaseLock.currentHolder(databasePath: path) {
            FileHandle.standardError.write(Data(
                "note: inlet serve (pid \(pid)) is running on \(path); what it receives after the copy starts is not copied\n".utf8
            ))
        }
        let reader = try await SQLiteStore.openReadOnly(path: path)
        let counts: StoreRows.Counts
        do {
            let writer = try await CommandDatabase.openPostgres(location, destination)
            do {
                counts = try await reader.withSnapshot { snapshot in
                    try await writer.importRows { importer in try await Self.copy(from: snapshot, to: importer, batchSize: self.batchSize) }
                }
                await writer.close()
            } catch {
                await writer.close()
                throw error
            }
            await reader.close()
        } catch {
            await reader.close()
            throw error
        }
        printJSON([
            "from": .string(path), "to": .string(location.description), "users": .int(counts.users), "employees": .int(counts.employees),
            "events": .int(counts.events), "deliveries": .int(counts.deliveries), "audit_rows": .int(counts.auditRows), "attempts": .int(counts.attempts),
            "event_headers": .int(counts.eventHeaders), "subjects": .int(counts.subjects), "paused_handlers": .int(counts.pauses),
        ])
    }

    /// Every table, batch after batch in key order; events before the deliveries that
    /// reference them. Fails when a table's count differs from the snapshot's.
    static func copy(from snapshot: SQLiteSnapshot, to importer: PostgresImporter, batchSize: Int) async throws {
        let expected = try await snapshot.counts()
        var lastUser: Int64 = 0
        while case let rows = try await snapshot.users(after: lastUser, limit: batchSize), let last = rows.last {
            try await importer.insert(rows)
            lastUser = last.id
        }
        var lastEmployee = ""
        while case let rows = try await snapshot.employees(after: lastEmployee, limit: batchSize), let last = rows.last {
            try await importer.insert(rows)
            lastEmployee = last.employeeID
        }
        var lastEvent: Int64 = 0
        while case let rows = try await snapshot.events(after: lastEvent, limit: batchSize), let last = rows.last {
            try await importer.insert(rows)
            lastEvent = last.seq
        }
        var lastDelivery: Int64 = 0
        while case let rows = try await snapshot.deliveries(after: lastDelivery, limit: batchSize), let last = rows.last {
            try await importer.insert(rows)
            lastDelivery = last.id
        }
        var lastHeaders: Int64 = 0
        while case let rows = try await snapshot.eventHeaders(after: lastHeaders, limit: batchSize), let last = rows.last {
            try await importer.insert(rows)
            lastHeaders = last.eventSeq
        }
        var lastSubject: StoreRows.Subject? = nil
        while case let rows = try await snapshot.subjects(after: lastSubject, limit: batchSize), let last = rows.last {
            try await importer.insert(rows)
            lastSubject = last
        }
        var lastAttempt: StoreRows.Attempt? = nil
        while case let rows = try await snapshot.attempts(after: lastAttempt, limit: batchSize), let last = rows.last {
            try await importer.insert(rows)
            lastAttempt = last
        }
        try await importer.insert(try await snapshot.pauses())
        var lastAudit: Int64 = 0
        while case let rows = try await snapshot.auditRows(after: lastAudit, limit: batchSize), let last = rows.last {
            try await importer.insert(rows)
            lastAudit = last.id
        }
        guard importer.counts == expected else {
            throw ValidationError("the copy read other row counts than the source holds (\(importer.counts) of \(expected)); nothing was copied")
        }
    }
}
