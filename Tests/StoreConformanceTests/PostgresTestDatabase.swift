import Foundation
import InletCore
import InletPostgres
import Logging
import PostgresNIO

/// A schema of its own, in the throwaway PostgreSQL that `make test` starts
/// (`scripts/test-postgres.sh`), for one test: created by the store's migrations, read by a
/// connection of the test's own, dropped (`DROP SCHEMA ... CASCADE`) at the end.
struct PostgresTestDatabase: TestDatabase {
    let location: PostgresLocation
    let schema: String
    let clock: WallClock
    let admin: PostgresConnection
    let logger: Logger

    /// Where the test cluster is: `INLET_TEST_POSTGRES_URL` and `INLET_TEST_POSTGRES_PASSWORD`.
    /// Missing, the test fails and says how to start one: never a silent skip.
    static func location() throws -> PostgresLocation {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["INLET_TEST_POSTGRES_URL"], let password = environment["INLET_TEST_POSTGRES_PASSWORD"] else {
            throw ClusterMissing()
        }
        var location = try PostgresLocation(url: url)
        location.password = password
        return location
    }

    struct ClusterMissing: Error, CustomStringConvertible {
        var description: String {
            """
            INLET_TEST_POSTGRES_URL and INLET_TEST_POSTGRES_PASSWORD are not set: the PostgreSQL cases need the test cluster. \
            Run `make test`, or start one with `eval "$(scripts/test-postgres.sh start /tmp/inlet-pg)"` and run swift test in that shell \
            (`scripts/test-postgres.sh stop /tmp/inlet-pg` afterwards).
            """
        }
    }

    /// Opens a store on a new schema with a random name.
    static func open(clock: WallClock) async throws -> TestedStore {
        let location = try Self.location()
        let schema = "conformance_" + Crypto.randomHex(byteCount: 8)
        var logger = Logger(label: "conformance.postgres")
        logger.logLevel = .warning
        let admin = try await PostgresConnection.connect(
            configuration: .init(
                host: location.host, port: location.port, username: location.username, password: location.password,
                database: location.database, tls: .disable
            ),
            id: 1, logger: logger
        )
        let database = PostgresTestDatabase(location: location, schema: schema, clock: clock, admin: admin, logger: logger)
        do {
            return TestedStore(store: try await database.openStore(), database: database)
        } catch {
            await database.remove()
            throw error
        }
    }

    func openStore() async throws -> PostgresStore {
        var options = PostgresStore.Options()
        options.clock = self.clock
        options.schema = self.schema
        options.maximumConnections = 8
        return try await PostgresStore.open(self.location, options: options, logger: self.logger)
    }

    var quotedSchema: String { "\"\(self.schema)\"" }

    func count(_ table: String, where condition: String) async throws -> Int {
        let rows = try await self.admin.query(
            PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(self.quotedSchema).\(table) WHERE \(condition)"), logger: self.logger
        ).collect()
        return Int(try rows[0].decode(Int64.self))
    }

    func auditRows() async throws -> [AuditRow] {
        let sql = AuditRow.query.replacingOccurrences(of: "FROM audit_log", with: "FROM \(self.quotedSchema).audit_log")
        return try await self.admin.query(PostgresQuery(unsafeSQL: sql), logger: self.logger).collect().map { row in
            let (eventID, handler, outcome, detail) = try row.decode((String?, String?, String, String?).self)
            return AuditRow(eventID: eventID, handler: handler, outcome: outcome, detail: detail)
        }
    }

    func openAnother() async throws -> any StoreBackend {
        try await self.openStore()
    }

    func remove() async {
        _ = try? await self.admin.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \(self.quotedSchema) CASCADE"), logger: self.logger)
        try? await self.admin.close()
    }
}
