import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InletCore
import InletSQLite
import InletServer
import InletTestSupport
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// A folder under the system temp directory, removed when the test ends.
struct TemporaryFolder: ~Copyable {
    let path: String

    init() throws {
        self.path = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true)
    }

    var databasePath: String { self.path + "/inlet.sqlite" }

    deinit {
        try? FileManager.default.removeItem(atPath: self.path)
    }
}

let internalToken = "itok_" + String(repeating: "7", count: 40)

/// The configuration the tests start the application with: an ephemeral loopback port, a
/// database in `folder`, the internal token.
func testConfiguration(folder: borrowing TemporaryFolder) -> Configuration {
    var configuration = Configuration()
    configuration.listenHost = "127.0.0.1"
    configuration.listenPort = 0
    configuration.database = .sqlite(path: folder.databasePath)
    configuration.internalAPIToken = Secret(internalToken)
    return configuration
}

/// Runs `body` against the real application on an ephemeral loopback port, with a real
/// SQLite file in `folder`.
func withInlet<Value: Sendable>(
    folder: borrowing TemporaryFolder,
    logs: LogCapture = LogCapture(),
    handlers: [HandlerFactory] = [],
    clock: WallClock = .system,
    configure: (inout Configuration) -> Void = { _ in },
    _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Value
) async throws -> Value {
    var configuration = testConfiguration(folder: folder)
    configure(&configuration)
    var options = Dispatcher.Options()
    options.pollInterval = .milliseconds(200)
    let app = try await buildApplication(
        configuration: configuration, logger: logs.logger, handlers: handlers, clock: clock, dispatcherOptions: options
    )
    return try await app.test(.live, body)
}

extension TestClientProtocol {
    /// POSTs `json` to the sync route with the internal token (or `token`).
    func syncUser(_ json: String, token: String? = internalToken, contentType: String = "application/json") async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: contentType]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await self.execute(uri: "/internal/auth/sync-user", method: .post, headers: headers, body: ByteBuffer(string: json))
    }
}

extension TestResponse {
    /// The body parsed with Inlet's own JSON reader.
    var json: JSONValue {
        get throws {
            let bytes = Array(self.body.readableBytesView)
            return try JSONDocument.parse(bytes).root.value
        }
    }

    var text: String { String(buffer: self.body) }
}

/// Reads the database directly, read-only, the way an operator would.
func query(_ path: String, _ sql: String, _ values: [SQLiteValue] = []) throws -> [SQLiteRow] {
    let connection = try SQLiteConnection(path: path, readOnly: true)
    return try connection.query(sql, values)
}

/// The `count` column of `sql` (`SELECT count(*) AS count FROM ...`), read directly.
func sqlCount(_ path: String, _ sql: String, _ values: [SQLiteValue] = []) throws -> Int {
    try SQLiteConnection(path: path, readOnly: true).requiredRow(sql, values).int("count")
}

func count(_ path: String, _ table: String) throws -> Int {
    try sqlCount(path, "SELECT count(*) AS count FROM \(table)")
}

/// A fixture's text from `fixtures/`.
func fixture(_ name: String) throws -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return try String(contentsOf: root.appendingPathComponent("fixtures").appendingPathComponent(name), encoding: .utf8)
}

/// A handler for tests: records every call, and fails as `script` says for each attempt.
final class ScriptedHandler: EventHandler, @unchecked Sendable {
    // @unchecked Sendable: `calls` and `concurrent` are guarded by `lock`.
    static let name = "scripted"
    let subscriptions: [EventPattern]
    let script: @Sendable (Event, Int) throws -> Void
    let delay: Duration
    /// While closed, every call waits (at most 30 s) before it runs.
    let gate = Mutex(true)
    private let lock = NSLock()
    private var calls: [(id: String, attempt: Int)] = []
    private var runningCount = 0
    private(set) var maxConcurrent = 0

    /// Adds an audit row (`attempt_ran`) on every attempt, through the context.
    let auditAttempts: Bool

    init(
        subscriptions: [EventPattern] = ["*"], delay: Duration = .zero, gateOpen: Bool = true, auditAttempts: Bool = false,
        script: @escaping @Sendable (Event, Int) throws -> Void = { _, _ in }
    ) {
        self.subscriptions = subscriptions
        self.auditAttempts = auditAttempts
        self.script = script
        self.delay = delay
        self.gate.withLock { $0 = gateOpen }
    }

    var running: Int { self.lock.withLock { self.runningCount } }

    var recorded: [(id: String, attempt: Int)] { self.lock.withLock { self.calls } }
    var peak: Int { self.lock.withLock { self.maxConcurrent } }

    func handle(_ event: Event, context: HandlerContext) async throws {
        self.lock.withLock {
            self.calls.append((event.id, context.attempt))
            self.runningCount += 1
            self.maxConcurrent = max(self.maxConcurrent, self.runningCount)
        }
        defer { self.lock.withLock { self.runningCount -= 1 } }
        let deadline = ContinuousClock.now + .seconds(30)
        while !self.gate.withLock({ $0 }) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        if self.delay > .zero { try? await Task.sleep(for: self.delay) }
        if self.auditAttempts { context.audit("attempt_ran", detail: "attempt \(context.attempt)") }
        try self.script(event, context.attempt)
    }

    func factory(options: HandlerOptions = HandlerOptions()) -> HandlerFactory {
        HandlerFactory(ScriptedHandler.self, defaultOptions: options) { _ in self }
    }
}
