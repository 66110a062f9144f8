import Foundation
import Hummingbird
import HummingbirdTesting
import InletCore
import InletPostgres
import InletServer
import InletTestSupport
import Testing

/// `inlet serve` on a PostgreSQL `INLET_DATABASE`: what start-up logs (the URL without
/// its password, the server's version and `synchronous_commit`, a notice for a password in
/// the URL), and that readiness, a login and the metrics work through it.
@Suite(.timeLimit(.minutes(2))) struct PostgresServeTests {
    /// Starts the application from `environment` (read as `inlet serve` reads it), runs a
    /// readiness probe, a login and a metrics scrape, and returns the log lines.
    static func serve(_ environment: [String: String], database: TestPostgresSchema) async throws -> [String] {
        // The schema first, without the server's 5 s deadline (the suite runs many tests at
        // once on two cores): the server's start then finds it up to date.
        await (try await database.open()).close()
        var configuration = try Configuration.load(environment: environment)
        configuration.listenPort = 0
        configuration.internalAPIToken = Secret(internalToken)
        let logs = LogCapture()
        let app = try await buildApplication(configuration: configuration, logger: logs.logger)
        try await app.test(.live) { client in
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
            let login = try await client.syncUser(#"{"auth0Id":"auth0|pg","email":"pg@example.com","name":"Pat","emailVerified":true}"#)
            #expect(login.status == .ok, "\(login.text)")
            #expect(try login.json["created"] == true)
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok && metrics.text.contains("inlet_queue_depth"))
        }
        // The login went to PostgreSQL, in the URL's schema.
        let store = try await database.open()
        #expect(try await store.user(auth0ID: "auth0|pg")?.email == "pg@example.com")
        await store.close()
        return logs.all
    }

    @Test func thePasswordFromTheSettingIsNeverLogged() async throws {
        let database = try TestPostgresSchema()
        let password = try #require(database.location.password)
        let lines = try await Self.serve(
            ["INLET_DATABASE": database.url, "INLET_DATABASE_PASSWORD": password], database: database
        )
        let opened = try #require(lines.first { $0.contains("database open") })
        #expect(opened.contains("(key: \"database.url\", value: \(database.url))"))
        #expect(opened.contains("(key: \"postgresql.synchronous_commit\", value: on)") && opened.contains("(key: \"postgresql.version\", value: 15"))
        #expect(opened.contains("(key: \"database.schema\", value: \(PostgresStore.latestVersion))"))
        #expect(!opened.contains("sqlite"))
        #expect(!lines.contains { $0.contains("synchronous_commit is not on") })
        #expect(!lines.contains { $0.contains("holds the password") })
        #expect(!lines.contains { $0.contains(password) }, "a log line holds the password")
    }

    @Test func aPasswordInTheURLWorksWithANoticeToMoveIt() async throws {
        let database = try TestPostgresSchema()
        let password = try #require(database.location.password)
        let url = database.url.replacingOccurrences(of: "://\(database.location.username)@", with: "://\(database.location.username):\(password)@")
        #expect(url != database.url)
        let lines = try await Self.serve(["INLET_DATABASE": url], database: database)
        let notice = try #require(lines.first { $0.contains("holds the password") })
        #expect(notice.hasPrefix("notice") && notice.contains("INLET_DATABASE_PASSWORD"))
        #expect(lines.contains { $0.contains("database open") && $0.contains("(key: \"database.url\", value: \(database.url))") })
        #expect(!lines.contains { $0.contains(password) }, "a log line holds the password")
    }

    /// A wrong password fails the start (within the store's operation timeout) with an
    /// error that names the database, and neither it nor a log line holds the password.
    @Test func aWrongPasswordFailsTheStartClearly() async throws {
        let database = try TestPostgresSchema()
        var configuration = try Configuration.load(environment: ["INLET_DATABASE": database.url, "INLET_DATABASE_PASSWORD": "not-the-password"])
        configuration.listenPort = 0
        let logs = LogCapture()
        let error = await #expect(throws: (any Error).self) {
            _ = try await buildApplication(configuration: configuration, logger: logs.logger)
        }
        let text = "\(error.map { "\($0)" } ?? "")"
        #expect(text.contains(database.url), "\(text)")
        #expect(!text.contains("not-the-password") && !logs.all.contains { $0.contains("not-the-password") })
    }
}
