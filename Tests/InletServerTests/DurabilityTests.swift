import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InletCore
@testable import InletServer
import InletSQLite
import InletTestSupport
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// Concurrency, restarts and readiness: what the platform team relies on in production.
@Suite struct DurabilityTests {
    /// Runs `perConnection` requests on each of `connections` separate keep-alive
    /// connections at once.
    static func concurrently(
        port: Int, connections: Int, perConnection: Int,
        body: @escaping @Sendable (_ connection: Int, _ index: Int) -> String
    ) async throws -> [HTTPResponse.Status] {
        try await withThrowingTaskGroup(of: [HTTPResponse.Status].self) { group in
            for connection in 0..<connections {
                group.addTask {
                    try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
                        var statuses: [HTTPResponse.Status] = []
                        for index in 0..<perConnection {
                            let response = try await client.post(
                                "/internal/auth/sync-user",
                                headers: [.contentType: "application/json", .authorization: "Bearer \(internalToken)"],
                                body: ByteBuffer(string: body(connection, index))
                            )
                            statuses.append(response.status)
                        }
                        return statuses
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }

    @Test func concurrentLoginsOfManyUsersAreAllStored() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        try await withInlet(folder: folder) { client in
            let port = try #require(client.port)
            let statuses = try await Self.concurrently(port: port, connections: 16, perConnection: 25) { connection, index in
                #"{"auth0Id":"auth0|c\#(connection)-\#(index)","email":"u\#(connection)-\#(index)@example.com"}"#
            }
            #expect(statuses.count == 400)
            #expect(statuses.allSatisfy { $0 == .ok })
            #expect(try count(db, "users") == 400)
            #expect(try count(db, "events") == 400)
        }
    }

    @Test func concurrentLoginsOfOneUserLoseNoUpdate() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        try await withInlet(folder: folder) { client in
            let port = try #require(client.port)
            let statuses = try await Self.concurrently(port: port, connections: 16, perConnection: 20) { _, _ in
                #"{"auth0Id":"auth0|hot","email":"hot@example.com"}"#
            }
            #expect(statuses.allSatisfy { $0 == .ok })
            let rows = try query(db, "SELECT logins_count FROM users")
            #expect(try rows.map { try $0.int("logins_count") } == [320])
            #expect(try count(db, "events") == 320)
        }
    }

    @Test func acknowledgedLoginsSurviveARestart() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let userID = try await withInlet(folder: folder) { client in
            try await client.syncUser(#"{"auth0Id":"auth0|durable","name":"Before"}"#).json["user_id"]?.intValue
        }
        try await withInlet(folder: folder) { client in
            let json = try await client.syncUser(#"{"auth0Id":"auth0|durable"}"#).json
            #expect(json["created"] == false)
            #expect(json["user_id"]?.intValue == userID)
        }
        let rows = try query(db, "SELECT name, logins_count FROM users")
        #expect(rows.count == 1)
        #expect(try rows.first?.optionalString("name") == "Before")
        #expect(try rows.first?.int("logins_count") == 2)
    }

    @Test func healthAndReadiness() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        try await withInlet(folder: folder) { client in
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
            #expect(try health.json["status"] == "ok")
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            #expect(try ready.json["checks"]?["database"] == "ok")
            // A flood of probes is not a flood of commits: one write a second at most.
            let started = ContinuousClock.now
            let first = try query(db, "SELECT value FROM store_meta WHERE key = 'last_write_check'").map { try $0.string("value") }
            for _ in 0..<20 {
                #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
            }
            let after = try query(db, "SELECT value FROM store_meta WHERE key = 'last_write_check'").map { try $0.string("value") }
            if ContinuousClock.now - started < .milliseconds(900) {
                #expect(first == after, "a probe within the second wrote again")
            }
        }
    }

    @Test func readinessFailsWhileTheDatabaseIsNotWritable() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        try await withInlet(folder: folder) { client in
            // Another process holds the write lock longer than the busy timeout.
            let blocker = try SQLiteConnection(path: db, busyTimeoutMilliseconds: 100)
            try blocker.execute("BEGIN EXCLUSIVE")
            let blocked = try await client.execute(uri: "/readyz", method: .get)
            #expect(blocked.status == .serviceUnavailable)
            #expect(try blocked.json["error"] == "unavailable")
            // A login meanwhile is refused with 503, not a 500, and nothing is half-written.
            let login = try await client.syncUser(#"{"auth0Id":"auth0|blocked"}"#)
            #expect(login.status == .serviceUnavailable)
            #expect(login.headers[.retryAfter] != nil)
            try blocker.execute("ROLLBACK")

            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            #expect(try await client.syncUser(#"{"auth0Id":"auth0|blocked"}"#).status == .ok)
        }
        #expect(try count(db, "users") == 1)
    }

    @Test func aFailedSyncStopsEveryLaterWriteAndFailsReadiness() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let logs = LogCapture()
        let finished = Mutex(false)
        // The application ends with the storage error once it has drained (two seconds).
        _ = try? await withInlet(folder: folder, logs: logs) { client in
            #expect(try await client.syncUser(#"{"auth0Id":"auth0|before"}"#).status == .ok)
            // The WAL vanishes under the writer: the next commit cannot be synced.
            try FileManager.default.removeItem(atPath: db + "-wal")
            let failed = try await client.syncUser(#"{"auth0Id":"auth0|during"}"#)
            #expect(failed.status == .serviceUnavailable)
            #expect(try failed.json["error"] == "unavailable")
            // Nothing is acknowledged after it, and readiness says so without writing.
            let after = try await client.syncUser(#"{"auth0Id":"auth0|after"}"#)
            #expect(after.status == .serviceUnavailable)
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .serviceUnavailable)
            #expect(try ready.json["checks"]?["database"] == "failing")
            try await eventually("a critical log line naming the failure") {
                logs.all.contains { $0.hasPrefix("critical") && $0.contains("to sync it") }
            }
            finished.withLock { $0 = true }
        }
        #expect(finished.withLock { $0 })
    }
}
