import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InletCore
import InletServer
import InletTestSupport
import Synchronization
import Testing

/// Connections that hold the server without finishing a request: slow heads, slow bodies,
/// early refusals, and thousands of idle sockets.
@Suite(.timeLimit(.minutes(2))) struct ConnectionTests {
    static let login = #"{"auth0Id":"auth0|slow"}"#

    /// A short read deadline, so the tests wait a second, not ten.
    static func shortDeadlines(_ configuration: inout Configuration) {
        configuration.httpReadTimeout = 1
    }

    @Test func aHeadSentAByteAtATimeIsClosedAtTheReadDeadline() async throws {
        let folder = try TemporaryFolder()
        let logs = LogCapture()
        try await withInlet(folder: folder, logs: logs, configure: Self.shortDeadlines) { client in
            let connection = try RawConnection(port: try #require(client.port))
            let head = "POST /internal/auth/sync-user HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: \(String(repeating: "a", count: 200))\r\n"
            // One byte every 50 ms: the head would take 12 s to arrive.
            for byte in head {
                connection.drain()
                if connection.isClosed || !connection.send(String(byte)) { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            try await connection.waitUntilClosed(timeout: .seconds(5))
            #expect(!connection.text.contains("200 OK"))
        }
        #expect(logs.all.contains { $0.hasPrefix("debug closing a connection") && $0.contains("head") })
    }

    @Test func aBodyTrickledAByteAtATimeIsClosedAtTheReadDeadline() async throws {
        let folder = try TemporaryFolder()
        try await withInlet(folder: folder, configure: Self.shortDeadlines) { client in
            let connection = try RawConnection(port: try #require(client.port))
            connection.send(
                "POST /internal/auth/sync-user HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(internalToken)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 200\r\n\r\n"
            )
            for _ in 0..<200 {
                connection.drain()
                if connection.isClosed || !connection.send(" ") { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            try await connection.waitUntilClosed(timeout: .seconds(5))
            #expect(try count(folder.databasePath, "users") == 0)
        }
    }

    @Test func anIdleConnectionStaysOpenWithinTheIdleTimeoutAndAnswersLater() async throws {
        let folder = try TemporaryFolder()
        try await withInlet(folder: folder, configure: Self.shortDeadlines) { client in
            // The read deadline starts with a request's first byte, not with the connection.
            let connection = try RawConnection(port: try #require(client.port))
            let opened = ContinuousClock.now
            try await eventually(timeout: .seconds(5), "past the read deadline") { ContinuousClock.now - opened > .seconds(1.5) }
            connection.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            #expect(try await connection.response().hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test func anIdleConnectionIsClosedAfterTheIdleTimeout() async throws {
        let folder = try TemporaryFolder()
        try await withInlet(folder: folder, configure: { $0.httpIdleTimeout = 1 }) { client in
            let connection = try RawConnection(port: try #require(client.port))
            connection.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            #expect(try await connection.response().hasPrefix("HTTP/1.1 200"))
            try await connection.waitUntilClosed(timeout: .seconds(5))
        }
    }

    @Test func anEarlyRefusalClosesTheConnectionWithoutReadingTheBody() async throws {
        let folder = try TemporaryFolder()
        try await withInlet(folder: folder) { client in
            for (headers, status) in [
                ("Authorization: Bearer wrong\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n", "401"),
                ("Authorization: Bearer \(internalToken)\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n", "413"),
                ("Authorization: Bearer \(internalToken)\r\nContent-Type: text/plain\r\nContent-Length: 1000000\r\n", "415"),
            ] {
                let connection = try RawConnection(port: try #require(client.port))
                connection.send("POST /internal/auth/sync-user HTTP/1.1\r\nHost: 127.0.0.1\r\n\(headers)\r\n")
                let response = try await connection.response()
                #expect(response.hasPrefix("HTTP/1.1 \(status)"))
                #expect(response.lowercased().contains("connection: close"))
                try await connection.waitUntilClosed(timeout: .seconds(5))
            }
        }
    }

    @Test func connectionsOverTheMaximumWaitAtAccept() async throws {
        let folder = try TemporaryFolder()
        // Served as `inlet serve` serves it: Hummingbird's test application drops the
        // connection bound when it moves the server to an ephemeral port.
        try await withServedInlet(folder: folder, configure: { $0.maxConnections = 2 }) { port in
            var held = [try RawConnection(port: port), try RawConnection(port: port)]
            for connection in held {
                connection.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                #expect(try await connection.response().hasPrefix("HTTP/1.1 200"))
            }
            // The kernel completes the handshake, but the server does not accept it yet.
            let waiting = try RawConnection(port: port)
            waiting.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            await #expect(throws: TimedOut.self) { _ = try await waiting.response(timeout: .milliseconds(500)) }
            held.removeFirst()
            #expect(try await waiting.response().hasPrefix("HTTP/1.1 200"))
            _ = held
        }
    }

    @Test func aLoginIsAnsweredWhileThreeThousandIdleConnectionsAreOpen() async throws {
        // Both ends of every connection are in this process.
        let needed = 2 * 3_000 + 512
        let available = raiseOpenFileLimit(to: needed)
        try #require(available >= needed, "the open-file limit is \(available); this test needs \(needed)")
        let folder = try TemporaryFolder()
        // Served as `inlet serve` serves it, with the default connection bound (4096).
        try await withServedInlet(folder: folder) { port in
            var idle: [RawConnection] = []
            idle.reserveCapacity(3_000)
            for _ in 0..<3_000 {
                idle.append(try RawConnection(port: port))
            }
            let connection = try RawConnection(port: port)
            connection.send(
                "POST /internal/auth/sync-user HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(internalToken)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: \(Self.login.utf8.count)\r\n\r\n\(Self.login)"
            )
            #expect(try await connection.response(timeout: .seconds(1)).hasPrefix("HTTP/1.1 200"))
            #expect(idle.allSatisfy { !$0.isClosed })
        }
    }
}

/// Runs the application as `inlet serve` runs it (``buildApplication`` and `runService`)
/// on an ephemeral loopback port, and `body` with that port.
func withServedInlet(
    folder: borrowing TemporaryFolder,
    configure: (inout Configuration) -> Void = { _ in },
    _ body: (Int) async throws -> Void
) async throws {
    var configuration = testConfiguration(folder: folder)
    configure(&configuration)
    let port = Mutex<Int?>(nil)
    let app = try await buildApplication(configuration: configuration, logger: LogCapture().logger) { _, bound in
        port.withLock { $0 = bound }
    }
    let serving = Task { try await app.runService(gracefulShutdownSignals: []) }
    defer { serving.cancel() }
    try await eventually(timeout: .seconds(10), "the server to listen") { port.withLock { $0 } != nil }
    try await body(port.withLock { $0 } ?? 0)
    serving.cancel()
    _ = await serving.result
}
