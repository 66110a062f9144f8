import Foundation
import InletCore
import InletPostgres
import Logging

/// A schema of its own for one test, in the PostgreSQL server of the test run (`make test`
/// starts a throwaway one and exports `INLET_TEST_POSTGRES_URL` and
/// `INLET_TEST_POSTGRES_PASSWORD`): tests run side by side without seeing each other's rows.
struct TestPostgresSchema {
    /// The database with the password and this test's schema (created on first open).
    let location: PostgresLocation

    /// A new, unused schema on the test server; throws, saying what to set, when the
    /// variables are missing: a PostgreSQL test never passes by skipping.
    init() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["INLET_TEST_POSTGRES_URL"], let password = environment["INLET_TEST_POSTGRES_PASSWORD"] else {
            throw Missing()
        }
        var location = try PostgresLocation(url: url)
        location.password = password
        location.schema = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        self.location = location
    }

    /// What `inlet --database` takes: the URL with the schema, without the password.
    var url: String { self.location.description }

    /// The environment that gives a subprocess the password.
    var passwordEnvironment: [String: String] { ["INLET_DATABASE_PASSWORD": self.location.password ?? ""] }

    /// The store on this test's schema, its migrations applied: listening off, a small
    /// pool, leases on `clock` when given (else the database's clock), and 30 s for a call,
    /// since the whole suite shares two cores with the server.
    func open(clock: WallClock? = nil, logger: Logger = Logger(label: "inlet-test", factory: { _ in SwiftLogNoOpLogHandler() })) async throws -> PostgresStore {
        var options = PostgresStore.Options()
        options.schema = self.location.schema
        options.clock = clock
        options.maximumConnections = 4
        options.listen = false
        options.operationTimeout = .seconds(30)
        return try await PostgresStore.open(self.location, options: options, logger: logger)
    }

    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "INLET_TEST_POSTGRES_URL and INLET_TEST_POSTGRES_PASSWORD are not set: run the suite with `make test`, which starts a throwaway PostgreSQL (scripts/test-postgres.sh) and sets them"
        }
    }
}
