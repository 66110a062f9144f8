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

/// POST /internal/auth/sync-user, end to end over loopback HTTP against a real SQLite file.
@Suite struct SyncUserTests {
    @Test func firstLoginCreatesTheUserAndRecordsTheLoginEvent() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let body = try fixture("auth0-action/login.json")
        try await withInlet(folder: folder) { client in
            let response = try await client.syncUser(body)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            let json = try response.json
            #expect(json["success"] == true)
            #expect(json["created"] == true)
            let userID = try #require(json["user_id"]?.intValue)

            let row = try #require(try query(db, "SELECT id, auth0_id, email, name, picture, email_verified, logins_count, auth0_logins_count, last_ip, last_login_at FROM users").first)
            #expect(try row.int("id") == userID)
            #expect(try row.string("auth0_id") == "auth0|6745a1f0c2d94e0012ab34cd")
            #expect(try row.optionalString("email") == "maria.lopez@example.com")
            #expect(try row.optionalString("name") == "Maria Lopez")
            #expect(try row.optionalString("picture")?.hasPrefix("https://s.gravatar.com/") == true)
            #expect(try row.int("email_verified") == 1)
            #expect(try row.int("logins_count") == 1)
            #expect(try row.optionalInt("auth0_logins_count") == 42)
            #expect(try row.optionalString("last_ip") == "203.0.113.24")
            #expect(try row.optionalString("last_login_at") != nil)

            let events = try query(db, "SELECT source, type, payload FROM events")
            #expect(events.count == 1)
            #expect(try events.first?.string("source") == "auth0")
            #expect(try events.first?.string("type") == "auth0.user.login")
            #expect(try events.first?.string("payload") == body)
        }
    }

    @Test func repeatLoginUpdatesTheSameRowAndCountsIt() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        try await withInlet(folder: folder) { client in
            let first = try await client.syncUser(#"{"auth0Id":"auth0|r1","email":"old@example.com","name":"Old","emailVerified":false}"#).json
            // A refresh carries no name: the stored name stays; the new email replaces the old.
            let second = try await client.syncUser(#"{"auth0Id":"auth0|r1","email":"new@example.com","emailVerified":true,"protocol":"oauth2-refresh-token"}"#).json
            let third = try await client.syncUser(#"{"auth0Id":"auth0|r1"}"#).json
            #expect(first["created"] == true)
            #expect(second["created"] == false)
            #expect(third["created"] == false)
            #expect(first["user_id"] == second["user_id"])
            #expect(second["user_id"] == third["user_id"])
            let row = try #require(try query(db, "SELECT email, name, email_verified, logins_count FROM users").first)
            #expect(try row.optionalString("email") == "new@example.com")
            #expect(try row.optionalString("name") == "Old")
            #expect(try row.int("email_verified") == 1)
            #expect(try row.int("logins_count") == 3)
            #expect(try count(db, "users") == 1)
            #expect(try count(db, "events") == 3)
        }
    }

    @Test(arguments: ["auth0-action/login-minimal.json", "auth0-action/login-unknown-keys.json", "auth0-action/login-refresh.json"])
    func acceptsOptionalFieldsMissingAndUnknownKeys(_ name: String) async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let body = try fixture(name)
        let expectedID = try JSONDocument.parse(body).root.value["auth0Id"]?.stringValue
        try await withInlet(folder: folder) { client in
            let response = try await client.syncUser(body)
            #expect(response.status == .ok, "\(response.text)")
            #expect(try query(db, "SELECT auth0_id FROM users").first?.string("auth0_id") == expectedID)
        }
    }

    @Test func oneEmailMayBelongToSeveralAuth0Accounts() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        try await withInlet(folder: folder) { client in
            _ = try await client.syncUser(#"{"auth0Id":"auth0|a","email":"same@example.com"}"#)
            _ = try await client.syncUser(#"{"auth0Id":"google-oauth2|b","email":"same@example.com"}"#)
            #expect(try count(db, "users") == 2)
        }
    }

    struct Rejection: Sendable, CustomTestStringConvertible {
        let name: String
        let body: String
        var token: String? = internalToken
        var contentType = "application/json"
        let status: HTTPResponse.Status
        let code: String
        var testDescription: String { self.name }
    }

    static let rejections: [Rejection] = [
        .init(name: "malformed JSON", body: #"{"auth0Id": "auth0|x""#, status: .badRequest, code: "bad_request"),
        .init(name: "empty body", body: "", status: .badRequest, code: "bad_request"),
        .init(name: "missing auth0Id", body: #"{"email":"a@example.com"}"#, status: .badRequest, code: "bad_request"),
        .init(name: "auth0Id not a string", body: #"{"auth0Id":12345}"#, status: .badRequest, code: "bad_request"),
        .init(name: "auth0Id empty", body: #"{"auth0Id":""}"#, status: .badRequest, code: "bad_request"),
        .init(name: "emailVerified not a boolean", body: #"{"auth0Id":"auth0|x","emailVerified":"yes"}"#, status: .badRequest, code: "bad_request"),
        .init(name: "body is an array", body: #"[{"auth0Id":"auth0|x"}]"#, status: .badRequest, code: "bad_request"),
        .init(name: "duplicate key", body: #"{"auth0Id":"auth0|x","auth0Id":"auth0|y"}"#, status: .badRequest, code: "bad_request"),
        .init(
            name: "nested too deep",
            body: #"{"auth0Id":"auth0|x","extra":"# + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + "}",
            status: .badRequest, code: "bad_request"
        ),
        .init(name: "no token", body: #"{"auth0Id":"auth0|x"}"#, token: nil, status: .unauthorized, code: "unauthorized"),
        .init(name: "wrong token", body: #"{"auth0Id":"auth0|x"}"#, token: "not-the-token", status: .unauthorized, code: "unauthorized"),
        .init(name: "token with a suffix", body: #"{"auth0Id":"auth0|x"}"#, token: internalToken + "x", status: .unauthorized, code: "unauthorized"),
        .init(name: "text/plain", body: #"{"auth0Id":"auth0|x"}"#, contentType: "text/plain", status: .unsupportedMediaType, code: "unsupported_media_type"),
        .init(name: "form encoded", body: "auth0Id=x", contentType: "application/x-www-form-urlencoded", status: .unsupportedMediaType, code: "unsupported_media_type"),
    ]

    @Test(arguments: rejections)
    func rejectsBadRequestsWithTheContractBodyAndWritesNothing(_ rejection: Rejection) async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        try await withInlet(folder: folder) { client in
            let response = try await client.syncUser(rejection.body, token: rejection.token, contentType: rejection.contentType)
            #expect(response.status == rejection.status, "\(response.text)")
            let json = try response.json
            #expect(json["error"]?.stringValue == rejection.code)
            #expect(json["message"]?.stringValue?.isEmpty == false)
            if rejection.status == .unauthorized {
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            }
            #expect(try count(db, "users") == 0)
            #expect(try count(db, "events") == 0)
        }
    }

    @Test func wrongTypeMessageNamesTheField() async throws {
        let folder = try TemporaryFolder()
        try await withInlet(folder: folder) { client in
            let json = try await client.syncUser(#"{"auth0Id":12345}"#).json
            #expect(json["message"]?.stringValue == "`auth0Id` must be a string")
        }
    }

    @Test func refusesEveryCallWhenTheTokenIsNotConfigured() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let logs = LogCapture()
        try await withInlet(folder: folder, logs: logs, configure: { $0.internalAPIToken = nil }) { client in
            let response = try await client.syncUser(#"{"auth0Id":"auth0|x"}"#, token: "")
            #expect(response.status == .unauthorized)
            #expect(try count(db, "users") == 0)
        }
        #expect(logs.all.contains { $0.contains("INTERNAL_API_TOKEN is not set") })
    }

    @Test func refusesABodyOverTheLimitWithoutStoringIt() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        try await withInlet(folder: folder, configure: { $0.bodyLimit = 1024 }) { client in
            let padding = String(repeating: "a", count: 2000)
            let body = #"{"auth0Id":"auth0|big","name":"\#(padding)"}"#
            // Declared length above the limit: refused before the body is read.
            let declared = try await client.syncUser(body)
            #expect(declared.status == .contentTooLarge)
            #expect(try declared.json["error"] == "payload_too_large")

            // No declared length (chunked): reading stops at the limit.
            let chunked = try await client.execute(
                uri: "/internal/auth/sync-user", method: .post,
                headers: [.contentType: "application/json", .authorization: "Bearer \(internalToken)", .transferEncoding: "chunked"],
                body: ByteBuffer(string: body)
            )
            #expect(chunked.status == .contentTooLarge)
            #expect(try count(db, "users") == 0)
        }
    }

    @Test func unknownPathsAndMethodsAnswerInTheContractShape() async throws {
        let folder = try TemporaryFolder()
        try await withInlet(folder: folder) { client in
            let missing = try await client.execute(uri: "/no/such/path", method: .get)
            #expect(missing.status == .notFound)
            #expect(try missing.json["error"] == "not_found")

            let wrongMethod = try await client.execute(uri: "/internal/auth/sync-user", method: .get)
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "POST")
            #expect(try wrongMethod.json["error"] == "method_not_allowed")
        }
    }

    @Test func refusesToStartWithAWeakToken() async throws {
        let folder = try TemporaryFolder()
        await #expect(throws: ConfigurationError.self) {
            try await withInlet(folder: folder, configure: { $0.internalAPIToken = Secret("tok-abc") }) { _ in }
        }
        await #expect(throws: ConfigurationError.self) {
            try await withInlet(folder: folder, configure: { $0.adminAPIToken = Secret(internalToken) }) { _ in }
        }
    }

    @Test func anAbortedUploadIsLoggedAtInfoNotError() async throws {
        let folder = try TemporaryFolder()
        let logs = LogCapture()
        try await withInlet(folder: folder, logs: logs) { client in
            let connection = try RawConnection(port: try #require(client.port))
            connection.send(
                "POST /internal/auth/sync-user HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(internalToken)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"auth0Id\":"
            )
            connection.close()
            try await eventually(timeout: .seconds(5), "the aborted request to be logged") {
                logs.all.contains { $0.contains("request aborted") }
            }
        }
        #expect(!logs.all.contains { $0.hasPrefix("error") }, "\(logs.all.filter { $0.hasPrefix("error") })")
    }

    @Test func neverLogsTheTokenOrTheAuthorizationHeader() async throws {
        let folder = try TemporaryFolder()
        let logs = LogCapture()
        let wrong = "wrong-token-" + String(repeating: "9", count: 30)
        try await withInlet(folder: folder, logs: logs, configure: { $0.logLevel = "trace" }) { client in
            _ = try await client.syncUser(#"{"auth0Id":"auth0|log"}"#)
            _ = try await client.syncUser(#"{"auth0Id":"auth0|log"}"#, token: wrong)
            let body = try await client.syncUser(#"{"auth0Id":"auth0|log"}"#, token: wrong).text
            #expect(!body.contains(wrong))
        }
        #expect(!logs.all.isEmpty)
        for line in logs.all {
            #expect(!line.contains(internalToken))
            #expect(!line.contains(wrong))
        }
    }
}
