import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InletCore
@testable import InletServer
import InletSQLite
import InletTestSupport
import NIOCore
import Testing

let logStreamToken = "lstok_" + String(repeating: "5", count: 40)

extension TestClientProtocol {
    /// POSTs `body` to the log-stream route with the stream's token (or `token`).
    func postLogs(_ body: String, token: String? = logStreamToken) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await self.execute(uri: "/hooks/auth0-logs", method: .post, headers: headers, body: ByteBuffer(string: body))
    }
}

/// POST /hooks/auth0-logs end to end over loopback HTTP against a real SQLite file: the
/// three content formats of a custom-webhook log stream, redeliveries, malformed entries,
/// and the users both channels report.
@Suite(.timeLimit(.minutes(2))) struct Auth0LogStreamTests {
    /// The fixture's entries, each serialised on its own.
    static func entries() throws -> [String] {
        guard case .array(let items) = try JSONDocument.parse(try fixture("auth0-logs/batch.json")).root.value else { return [] }
        return items.map(\.serializedString)
    }

    static func withLogStream<Value: Sendable>(
        folder: borrowing TemporaryFolder, configure: @escaping (inout Configuration) -> Void = { _ in },
        _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        try await withInlet(folder: folder, configure: { configuration in
            configuration.auth0LogStreamToken = Secret(logStreamToken)
            configure(&configuration)
        }, body)
    }

    static func storedEvents(_ db: String) throws -> [(source: String, id: String, type: String)] {
        try query(db, "SELECT source, id, type FROM events ORDER BY seq").map { (try $0.string("source"), try $0.string("id"), try $0.string("type")) }
    }

    @Test(arguments: ["array", "lines", "object"]) func eachContentFormatIsStored(_ format: String) async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let entries = try Self.entries()
        let body = switch format {
        case "array": "[" + entries.joined(separator: ",") + "]"
        case "lines": entries.joined(separator: "\n") + "\n"
        default: entries[1]
        }
        try await Self.withLogStream(folder: folder) { client async throws in
            let response = try await client.postLogs(body)
            #expect(response.status == .ok)
            let json = try response.json
            let expected = format == "object" ? 1 : 3
            #expect(json["received"]?.intValue == expected && json["stored"]?.intValue == expected)
            #expect(json["rejected"]?.intValue == 0 && json["duplicates"]?.intValue == 0)
        }
        let events = try Self.storedEvents(db)
        let all = [
            ("auth0-logs", "90020261201063000123000000000000000000000000000001", "auth0.log.ss"),
            ("auth0-logs", "90020261201063001456000000000000000000000000000002", "auth0.log.s"),
            ("auth0-logs", "90020261201063105789000000000000000000000000000003", "auth0.log.fp"),
        ]
        let expected = format == "object" ? [all[1]] : all
        #expect(events.map { "\($0.source) \($0.id) \($0.type)" } == expected.map { "\($0.0) \($0.1) \($0.2)" })
        let user = try #require(try query(db, "SELECT email, logins_count, auth0_logins_count, last_ip FROM users WHERE auth0_id = 'auth0|6745a1f0c2d94e0012ab34cd'").first)
        #expect(try user.optionalString("email") == "maria.lopez@example.com")
        #expect(try user.optionalInt("auth0_logins_count") == 1)
        #expect(try user.optionalString("last_ip") == "203.0.113.24")
        // A failed login (fp) changes no user.
        #expect(try count(db, "users") == 1)
        // The payload is the entry as sent.
        let payload = try #require(try query(db, "SELECT payload FROM events WHERE type = 'auth0.log.s'").first).string("payload")
        #expect(try JSONDocument.parse(payload).root.value == JSONDocument.parse(entries[1]).root.value)
    }

    @Test func aRedeliveredBatchIsAnswered200AndStoredOnce() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let body = "[" + (try Self.entries()).joined(separator: ",") + "]"
        try await Self.withLogStream(folder: folder) { client async throws in
            #expect(try await client.postLogs(body).json["stored"]?.intValue == 3)
            let again = try await client.postLogs(body)
            #expect(again.status == .ok)
            let json = try again.json
            #expect(json["duplicates"]?.intValue == 3 && json["stored"]?.intValue == 0)
        }
        #expect(try count(db, "events") == 3)
        #expect(try sqlCount(db, "SELECT logins_count AS count FROM users") == 1)
    }

    @Test func aBatchLargerThanTheSingleEventBodyLimitIsStored() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let failed = try Self.entries()[2]
        let original = "90020261201063105789000000000000000000000000000003"
        let lines = (0..<300).map { index in
            failed.replacingOccurrences(of: original, with: String(original.dropLast(6)) + String(format: "%06d", index))
        }
        let body = lines.joined(separator: "\n") + "\n"
        // Larger than INLET_BODY_LIMIT's default: a stream's delivery is a batch, not one event.
        #expect(body.utf8.count > Configuration().bodyLimit)
        try await Self.withLogStream(folder: folder) { client async throws in
            let response = try await client.postLogs(body)
            #expect(response.status == .ok)
            #expect(try response.json["stored"]?.intValue == 300)
        }
        #expect(try count(db, "events") == 300)
    }

    @Test func aMalformedEntryIsKeptAsRejectedAndTheRestIsStored() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let entries = try Self.entries()
        let noLogID = #"{"data":{"type":"s","date":"2026-12-01T06:40:00.000Z","user_id":"auth0|x"}}"#
        let array = "[" + entries[0] + "," + noLogID + "," + entries[2] + "]"
        let lines = entries[1] + "\n{\"log_id\": \"9003\", \"data\": {broken\n"
        try await Self.withLogStream(folder: folder) { client async throws in
            var response = try await client.postLogs(array)
            #expect(response.status == .ok)
            var json = try response.json
            #expect(json["stored"]?.intValue == 2 && json["rejected"]?.intValue == 1)
            response = try await client.postLogs(lines)
            #expect(response.status == .ok)
            json = try response.json
            #expect(json["stored"]?.intValue == 1 && json["rejected"]?.intValue == 1)
            // The same malformed entry again is kept once.
            #expect(try await client.postLogs(array).json["rejected"]?.intValue == 1)

            let metrics = try await client.execute(uri: "/metrics", method: .get).text
            #expect(metrics.contains(#"inlet_events_received_total{source="auth0-logs",type="unknown",outcome="rejected"} 3"#))
        }
        let rejected = try query(db, "SELECT payload FROM events WHERE type = 'auth0.log_rejected' ORDER BY seq")
        #expect(rejected.count == 2)
        let first = try JSONDocument.parse(try rejected[0].string("payload")).root.value
        #expect(first["error"]?.stringValue == "the entry has no log_id")
        #expect(first["entry"]?.stringValue?.contains("auth0|x") == true)
        #expect(try sqlCount(db, "SELECT count(*) AS count FROM users WHERE auth0_id = 'auth0|x'") == 0)
    }

    @Test func guessesAtTheStreamTokenMeetTheFailureGuard() async throws {
        let folder = try TemporaryFolder()
        try await Self.withLogStream(folder: folder) { client async throws in
            var statuses: [HTTPResponse.Status] = []
            for attempt in 0..<22 {
                statuses.append(try await client.postLogs("[]", token: "lstok_guess\(attempt)").status)
            }
            #expect(statuses.prefix(20).allSatisfy { $0 == .unauthorized }, "\(statuses)")
            #expect(statuses.suffix(2).allSatisfy { $0 == .tooManyRequests }, "\(statuses)")
        }
    }

    @Test func aBodyThatIsNotJSONIs400AndAMissingTokenIs401() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        try await Self.withLogStream(folder: folder) { client async throws in
            #expect(try await client.postLogs("log_id=1&type=s").status == .badRequest)
            #expect(try await client.postLogs("[]", token: nil).status == .unauthorized)
            #expect(try await client.postLogs("[]", token: "lstok_" + String(repeating: "6", count: 40)).status == .unauthorized)
            #expect(try await client.postLogs("[]").status == .ok)
        }
        #expect(try count(db, "events") == 0)
        // Unset, the route is off.
        let other = try TemporaryFolder()
        try await withInlet(folder: other) { client async throws in
            #expect(try await client.postLogs("[]").status == .unauthorized)
        }
    }

    @Test func onlyTheConfiguredTypesAreStored() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let body = "[" + (try Self.entries()).joined(separator: ",") + "]"
        try await Self.withLogStream(folder: folder, configure: { $0.auth0LogTypes = try! Auth0LogTypes(parsing: "s,ss", setting: "test") }) { client async throws in
            let json = try await client.postLogs(body).json
            #expect(json["stored"]?.intValue == 2 && json["skipped"]?.intValue == 1)
        }
        #expect(try Self.storedEvents(db).map(\.type) == ["auth0.log.ss", "auth0.log.s"])
    }

    @Test func aLoginReportedByTheActionAndTheStreamIsCountedOnce() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        // The Action's post (Auth0's count 42), then the stream's entry of the same login.
        let now = WallClock.system.now().description
        let entry = """
            {"log_id":"90020261201090000000000000000000000000000000000042","data":{"date":"\(now)","type":"s",\
            "user_id":"auth0|6745a1f0c2d94e0012ab34cd","user_name":"maria.lopez@example.com","ip":"203.0.113.24",\
            "details":{"stats":{"loginsCount":42}}}}
            """
        try await Self.withLogStream(folder: folder) { client async throws in
            #expect(try await client.syncUser(try fixture("auth0-action/login.json")).status == .ok)
            #expect(try await client.postLogs(entry).json["stored"]?.intValue == 1)
        }
        let row = try #require(try query(db, "SELECT logins_count, auth0_logins_count FROM users").first)
        #expect(try row.int("logins_count") == 1)
        #expect(try row.optionalInt("auth0_logins_count") == 42)
        let store = try await SQLiteStore.openReadOnly(path: db)
        let user = try #require(try await store.user(auth0ID: "auth0|6745a1f0c2d94e0012ab34cd"))
        await store.close()
        #expect(user.loginsTotal == 42)
        #expect(try count(db, "users") == 1)
    }
}

/// A `du` entry flags the user deleted: `GET /auth/verify` no longer reports them as active.
@Suite(.timeLimit(.minutes(2))) struct Auth0LogStreamDeletionTests {
    @Test func aDeletedUserIsNotActiveForAuthVerify() async throws {
        let folder = try TemporaryFolder()
        let sub = "auth0|65f1c0ffee0000000000dead"
        let token = RouteTenant.token(sub: sub)
        let deletedAt = Timestamp(millisecondsSinceEpoch: (Int64(RouteTenant.now) + 30) * 1000).description
        let entry = """
            {"log_id":"90020261201090000000000000000000000000000000000099","data":{"date":"\(deletedAt)","type":"du",\
            "user_id":"\(sub)","user_name":"gone@example.com","description":"Deleted user"}}
            """
        try await withAuthInlet(folder: folder, configure: { $0.auth0LogStreamToken = Secret(logStreamToken) }) { client async throws in
            #expect(try await client.authSync(token, #"{"email":"gone@example.com"}"#).status == .ok)
            #expect(try await client.authVerify(token).status == .ok)
            #expect(try await client.postLogs(entry).json["stored"]?.intValue == 1)
            let after = try await client.authVerify(token)
            #expect(after.status == .forbidden)
            #expect(try after.json["message"] == "this user was deleted in Auth0")
        }
        let row = try #require(try query(folder.databasePath, "SELECT deleted_at FROM users").first)
        #expect(try row.optionalString("deleted_at") == deletedAt)
    }
}
