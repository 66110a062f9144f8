internal import Foundation
internal import Glibc
internal import Logging
internal import PostgresNIO
internal import Synchronization

/// A throwaway PostgreSQL cluster for the tests: the one `make test` starts
/// (scripts/test-postgres.sh, whose `INLET_TEST_POSTGRES_*` variables name it), or a
/// private one a test starts for itself with the same script, so that stopping it
/// disturbs no other test.
///
/// Tests never share a database: ``createDatabase()`` makes a fresh one (owned by the
/// role `inlet`) that ``TestPostgresDatabase/drop()`` removes. The superuser's work runs
/// through `psql` as the `postgres` user on the cluster's unix socket (peer
/// authentication; CI runs as root); everything an `inlet` process does goes through TCP
/// on 127.0.0.1 with the role's password.
///
/// ```swift
/// let server = try TestPostgres.required()
/// let database = try server.createDatabase()
/// defer { database.drop() }
/// // INLET_DATABASE=\(database.url), INLET_DATABASE_PASSWORD=\(server.password)
/// ```
public struct TestPostgres: Sendable {
    /// `postgres://inlet@127.0.0.1:PORT/inlet?sslmode=disable`.
    public let url: String
    public let password: String
    /// The data folder (also the unix socket's folder).
    public let directory: String
    /// PostgreSQL's binaries (initdb, pg_ctl, psql).
    public let binaries: String
    public let port: Int

    /// The variables scripts/test-postgres.sh prints (and `make test` exports).
    static let variables = ["INLET_TEST_POSTGRES_URL", "INLET_TEST_POSTGRES_PASSWORD", "INLET_TEST_POSTGRES_DIR", "INLET_TEST_POSTGRES_BIN"]

    init(variables: [String: String]) throws {
        let missing = Self.variables.filter { (variables[$0] ?? "").isEmpty }
        guard missing.isEmpty else { throw Failure("\(missing.joined(separator: ", ")) not set") }
        self.url = variables["INLET_TEST_POSTGRES_URL"]!
        self.password = variables["INLET_TEST_POSTGRES_PASSWORD"]!
        self.directory = variables["INLET_TEST_POSTGRES_DIR"]!
        self.binaries = variables["INLET_TEST_POSTGRES_BIN"]!
        guard let start = self.url.range(of: "@127.0.0.1:"),
            let port = Int(self.url[start.upperBound...].prefix { $0.isNumber })
        else { throw Failure("INLET_TEST_POSTGRES_URL is not postgres://USER@127.0.0.1:PORT/...: \(self.url)") }
        self.port = port
    }

    /// The cluster `make test` started, or nil when its variables are not set.
    public static let shared: TestPostgres? = try? TestPostgres(variables: ProcessInfo.processInfo.environment)

    /// The cluster `make test` started; without it, an error that says how to start one
    /// (a PostgreSQL test fails rather than pass without having run).
    public static func required() throws -> TestPostgres {
        guard let shared else {
            throw Failure(
                """
                INLET_TEST_POSTGRES_* are not set: this test needs the PostgreSQL that `make test` starts. \
                Start one with `eval "$(scripts/test-postgres.sh start /tmp/inlet-pg)"` and run swift test in that shell \
                (`scripts/test-postgres.sh stop /tmp/inlet-pg` afterwards).
                """
            )
        }
        return shared
    }

    /// scripts/test-postgres.sh of this package.
    static var script: String { InletServeProcess.packageRoot.appendingPathComponent("scripts/test-postgres.sh").path }

    /// Starts a cluster of its own in a new folder (scripts/test-postgres.sh start), for a
    /// test that stops and starts PostgreSQL. ``remove()`` stops it and deletes the folder.
    public static func startPrivate() throws -> TestPostgres {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-pg-\(UUID().uuidString.prefix(8))").path
        let output = try run([script, "start", folder])
        var variables: [String: String] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("export ") {
            let assignment = line.dropFirst("export ".count)
            guard let equals = assignment.firstIndex(of: "=") else { continue }
            variables[String(assignment[..<equals])] = Self.unquoted(assignment[assignment.index(after: equals)...])
        }
        return try TestPostgres(variables: variables)
    }

    /// Stops a cluster of ``startPrivate()`` and deletes its folder.
    public func remove() {
        _ = try? Self.run([Self.script, "stop", self.directory])
    }

    /// Stops the server (`pg_ctl stop`, `immediate` by default: a crash, no checkpoint).
    public func stopServer(mode: String = "immediate") throws {
        _ = try Self.run(["runuser", "-u", "postgres", "--", self.binaries + "/pg_ctl", "--pgdata=\(self.directory)", "stop", "-m", mode, "--wait"])
    }

    /// Starts it again on the same port and data (`pg_ctl start --wait`).
    public func startServer() throws {
        _ = try Self.run([
            "runuser", "-u", "postgres", "--", self.binaries + "/pg_ctl", "--pgdata=\(self.directory)", "--log=\(self.directory)/log", "--wait",
            "--timeout=60", "start",
        ])
    }

    /// Runs `sql` as the superuser on database `database` (psql on the unix socket);
    /// returns its unaligned output.
    @discardableResult
    public func superuser(_ sql: String, database: String = "postgres") throws -> String {
        try Self.run([
            "runuser", "-u", "postgres", "--", self.binaries + "/psql", "--no-psqlrc", "--quiet", "--tuples-only", "--no-align",
            "--set=ON_ERROR_STOP=1", "--host=\(self.directory)", "--port=\(self.port)", "--username=postgres", "--dbname=\(database)",
            "--command=\(sql)",
        ])
    }

    /// A fresh database with a random name, owned by `inlet`.
    public func createDatabase() throws -> TestPostgresDatabase {
        let name = "inlet_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        try self.superuser("CREATE DATABASE \(name) OWNER inlet")
        return TestPostgresDatabase(server: self, name: String(name))
    }

    /// Runs `arguments` (from `/`, which the `postgres` user may enter), returns its
    /// standard output; throws with its output when it fails or runs past `timeout`.
    ///
    /// The output goes to files, not pipes (a server the command starts in the
    /// background would hold a pipe open), and the exit is polled with `waitpid` rather
    /// than `Process.waitUntilExit`, which does not always return once the command has
    /// started a daemon.
    static func run(_ arguments: [String], timeout: Duration = .seconds(90)) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outputFile = folder.appendingPathComponent("out")
        let errorFile = folder.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try startProcess(process)
        let status = try Self.exitStatus(of: process, timeout: timeout, command: arguments.prefix(6).joined(separator: " "))
        let text = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        guard status == 0 else {
            let errors = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
            throw Failure("\(arguments.prefix(6).joined(separator: " ")) failed (\(status)): \(errors)\(text)")
        }
        return text
    }

    /// Waits (polling, at most `timeout`) for `process` to exit; returns its exit status.
    private static func exitStatus(of process: Process, timeout: Duration, command: String) throws -> Int32 {
        let pid = process.processIdentifier
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid {
                // Exited normally: the status is in bits 8-15; killed: the signal, negated.
                return (status & 0x7f) == 0 ? (status >> 8) & 0xff : -(status & 0x7f)
            }
            if reaped == -1 && errno == ECHILD && !process.isRunning {
                // Foundation reaped it first.
                return process.terminationStatus
            }
            usleep(20_000)
        }
        kill(pid, SIGKILL)
        throw Failure("\(command) did not finish within \(timeout)")
    }

    /// A value the script printed with bash's `printf %q` (plain, or `'...'`, or with `\` escapes).
    static func unquoted(_ text: Substring) -> String {
        if text.hasPrefix("'"), text.hasSuffix("'"), text.count >= 2 { return String(text.dropFirst().dropLast()) }
        var result = ""
        var escaped = false
        for character in text {
            if character == "\\" && !escaped {
                escaped = true
                continue
            }
            result.append(character)
            escaped = false
        }
        return result
    }

    /// A cluster that cannot be used, or a command about it that failed.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}

/// One database of a ``TestPostgres`` cluster, for one test: its URL for `inlet`
/// (`INLET_DATABASE`), and queries as the role `inlet` (a connection opened on first
/// use and again after it fails, so a test can read the database across an outage).
public final class TestPostgresDatabase: Sendable {
    public let server: TestPostgres
    public let name: String
    private let connection = Mutex<PostgresConnection?>(nil)
    private let logger = Logger(label: "inlet.test-postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    init(server: TestPostgres, name: String) {
        self.server = server
        self.name = name
    }

    /// `postgres://inlet@127.0.0.1:PORT/NAME?sslmode=disable` (the password apart, in
    /// ``password``: give it as `INLET_DATABASE_PASSWORD`).
    public var url: String { "postgres://inlet@127.0.0.1:\(self.server.port)/\(self.name)?sslmode=disable" }
    public var password: String { self.server.password }

    /// The variables that point `inlet` here.
    public var environment: [String: String] { ["INLET_DATABASE": self.url, "INLET_DATABASE_PASSWORD": self.password] }

    /// Drops the database (forcing out any connection left).
    public func drop() {
        if let connection = self.connection.withLock({ $0.take() }) {
            Task { try? await connection.close() }
        }
        _ = try? self.server.superuser("DROP DATABASE IF EXISTS \(self.name) WITH (FORCE)")
    }

    private func connected() async throws -> PostgresConnection {
        if let connection = self.connection.withLock({ $0 }), !connection.isClosed { return connection }
        let configuration = PostgresConnection.Configuration(
            host: "127.0.0.1", port: self.server.port, username: "inlet", password: self.server.password, database: self.name, tls: .disable
        )
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: self.logger)
        let previous = self.connection.withLock { slot in
            defer { slot = connection }
            return slot
        }
        if let previous { try? await previous.close() }
        return connection
    }

    /// The rows of `sql`, each column as text (`NULL` as nil): cast non-text columns
    /// with `::text` in the query.
    public func rows(_ sql: String) async throws -> [[String?]] {
        let connection = try await self.connected()
        var result: [[String?]] = []
        do {
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: self.logger) {
                var values: [String?] = []
                for cell in row { values.append(try cell.decode(String?.self)) }
                result.append(values)
            }
        } catch {
            try? await connection.close()
            throw error
        }
        return result
    }

    /// The one number `sql` returns (`SELECT count(*) ...`).
    public func count(_ sql: String) async throws -> Int {
        guard let text = try await self.rows("SELECT (\(sql))::text").first?.first ?? nil, let value = Int(text) else {
            throw TestPostgres.Failure("no number from \(sql)")
        }
        return value
    }
}
