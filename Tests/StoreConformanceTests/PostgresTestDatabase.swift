import Foundation
import InletCore
import InletPostgres
import Logging
import PostgresNIO
import Synchronization

/// A schema of its own, in the throwaway PostgreSQL that `make test` starts
/// (`scripts/test-postgres.sh`), for one test: created by the store's migrations, read
/// through a small pool that every test shares, dropped (`DROP SCHEMA ... CASCADE`) at the end.
struct PostgresTestDatabase: TestDatabase {
    let location: PostgresLocation
    let schema: String
    let clock: WallClock

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

    static let logger: Logger = {
        var logger = Logger(label: "conformance.postgres")
        logger.logLevel = .warning
        return logger
    }()

    /// The tests' own connections (row counts, audit rows, dropping schemas): one pool of a
    /// few connections for the whole run, beside the stores' pools, so that dozens of tests
    /// at once stay well within the cluster's max_connections.
    private static let adminPool = Mutex<PostgresClient?>(nil)

    static func admin(_ location: PostgresLocation) -> PostgresClient {
        adminPool.withLock { pool in
            if let pool { return pool }
            var configuration = PostgresClient.Configuration(
                host: location.host, port: location.port, username: location.username, password: location.password,
                database: location.database, tls: .disable
            )
            configuration.options.maximumConnections = 4
            let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
            // Runs until the test process exits.
            Task { await client.run() }
            pool = client
            return client
        }
    }

    /// Opens a store on a new schema with a random name.
    static func open(clock: WallClock) async throws -> TestedStore {
        let database = PostgresTestDatabase(location: try Self.location(), schema: "conformance_" + Crypto.randomHex(byteCount: 8), clock: clock)
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
        options.maximumConnections = 6  // dozens of tests run at once in one cluster
        // Under the whole suite (two busy cores), opening — migrations on a new schema — can
        // take longer than production's 5 s; the outage tests, not these, test the deadline.
        options.operationTimeout = .seconds(60)
        return try await PostgresStore.open(self.location, options: options, logger: Self.logger)
    }

    var quotedSchema: String { "\"\(self.schema)\"" }

    func query(_ sql: String) async throws -> [PostgresRow] {
        try await Self.admin(self.location).query(PostgresQuery(unsafeSQL: sql), logger: Self.logger).collect()
    }

    func count(_ table: String, where condition: String) async throws -> Int {
        let rows = try await self.query("SELECT count(*) FROM \(self.quotedSchema).\(table) WHERE \(condition)")
        return Int(try rows[0].decode(Int64.self))
    }

    func auditRows() async throws -> [AuditRow] {
        let sql = AuditRow.query.replacingOccurrences(of: "FROM audit_log", with: "FROM \(self.quotedSchema).audit_log")
        return try await self.query(sql).map { row in
            let (eventID, handler, outcome, detail) = try row.decode((String?, String?, String, String?).self)
            return AuditRow(eventID: eventID, handler: handler, outcome: outcome, detail: detail)
        }
    }

    func openAnother() async throws -> any StoreBackend {
        try await self.openStore()
    }

    func reopen(closing store: any StoreBackend) async throws -> any StoreBackend {
        await store.close()
        return try await self.openStore()
    }

    func remove() async {
        _ = try? await self.query("DROP SCHEMA IF EXISTS \(self.quotedSchema) CASCADE")
    }
}
