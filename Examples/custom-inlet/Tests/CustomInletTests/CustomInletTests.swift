import Foundation
import HTTPTypes
import InletHTTPClient
import Testing

/// The built `custom-inlet` executable, end to end, as a team would run it: `serve` on a
/// loopback port with a SQLite file in a temporary folder, employee events POSTed to
/// `/hooks/productivity` over real HTTP, Inlet's dispatcher running `starter-log`, SIGTERM.
///
/// Only the executable is used: an outside package cannot reach Inlet's `package` API (the
/// dispatcher, the intake, the store), and needs none of it to add a handler.
@Suite(.timeLimit(.minutes(5)))
struct CustomInletTests {
    static let token = (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()

    /// An `employee.created` webhook as the productivity system sends it.
    static func employeeCreated(id: String, employeeID: String, name: String) -> String {
        #"{"id":"\#(id)","type":"employee.created","occurred_at":"2026-03-02T08:15:42Z","#
            + #""data":{"employee_id":"\#(employeeID)","name":"\#(name)","email":"\#(employeeID.lowercased())@example.com","department":"Production"}}"#
    }

    @Test func startersAreListedThroughTheDispatcherAndWaitWhileThePathIsUnset() async throws {
        try await withTemporaryFolder { folder in
            let starters = folder.appendingPathComponent("starters.tsv").path
            let config = folder.appendingPathComponent("inlet.json")
            try #"{"handlers": {"starter-log": {"path": "\#(starters)"}}}"#.write(to: config, atomically: true, encoding: .utf8)
            let environment = [
                "INLET_LISTEN": "127.0.0.1:0",
                "INLET_DATABASE": folder.appendingPathComponent("inlet.sqlite").path,
                "INLET_DB_SYNCHRONOUS": "normal",
                "PRODUCTIVITY_API_TOKEN": Self.token,
            ]

            // No path yet: the event is accepted, and its delivery waits for starter-log.
            let first = try InletProcess(["serve"], environment: environment, folder: folder, name: "serve-1")
            let firstPort = try await first.port()
            let accepted = try await post(Self.employeeCreated(id: "evt_starter_1", employeeID: "EMP-1", name: "Ada Lovelace"), port: firstPort)
            #expect(accepted.status == 202)
            #expect(accepted.body.contains(#""event_id":"evt_starter_1""#))
            let again = try await post(Self.employeeCreated(id: "evt_starter_1", employeeID: "EMP-1", name: "Ada Lovelace"), port: firstPort)
            #expect(again.status == 200)
            #expect(again.body.contains(#""duplicate":true"#))
            #expect(try await first.stop() == 0)
            #expect(!FileManager.default.fileExists(atPath: starters))

            // With the path: the waiting delivery runs, and so does a new event's.
            let second = try InletProcess(["serve", "--config", config.path], environment: environment, folder: folder, name: "serve-2")
            let secondPort = try await second.port()
            let created = try await post(Self.employeeCreated(id: "evt_starter_2", employeeID: "EMP-2", name: "Grace Hopper"), port: secondPort)
            #expect(created.status == 202)
            let lines = try await eventually(within: .seconds(60)) { () -> [String]? in
                let lines = ((try? String(contentsOfFile: starters, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
                return lines.count >= 2 ? lines : nil
            }
            #expect(try await second.stop() == 0)
            #expect(lines.map { $0.split(separator: "\t").prefix(3).joined(separator: "\t") }.sorted() == [
                "EMP-1\tAda Lovelace\tProduction", "EMP-2\tGrace Hopper\tProduction",
            ])
        }
    }

    @Test func theHandlersCommandListsTheTeamsHandler() async throws {
        try await withTemporaryFolder { folder in
            let database = folder.appendingPathComponent("inlet.sqlite").path
            let config = folder.appendingPathComponent("inlet.json")
            try #"{"handlers": {"starter-log": {"path": "/var/lib/inlet/starters.tsv"}}}"#.write(to: config, atomically: true, encoding: .utf8)
            #expect(try await InletProcess.run(["migrate", "--database", database], folder: folder).status == 0)

            let unset = try await InletProcess.run(["handlers", "--database", database], folder: folder)
            #expect(unset.status == 0)
            let waiting = try #require(unset.jsonLines.first { $0["handler"] as? String == "starter-log" })
            #expect(waiting["enabled"] as? Bool == false)
            #expect(waiting["reason"] as? String == "handlers.starter-log.path (or STARTER_LOG_PATH) is not set")
            #expect(waiting["deliveries_wait_for"] as? [String] == ["employee.created"])
            // The built-in handlers this build chose are there too.
            #expect(Set(unset.jsonLines.compactMap { $0["handler"] as? String }) == ["audit", "forward", "starter-log"])

            let set = try await InletProcess.run(["handlers", "--database", database, "--config", config.path], folder: folder)
            #expect(set.status == 0)
            let active = try #require(set.jsonLines.first { $0["handler"] as? String == "starter-log" })
            #expect(active["enabled"] as? Bool == true)
            #expect(active["subscriptions"] as? [String] == ["employee.created"])

            let settings = try await InletProcess.run(["settings"], folder: folder)
            #expect(settings.status == 0)
            #expect(settings.output.contains("STARTER_LOG_PATH"))
        }
    }
}

/// POSTs a productivity webhook with the bearer token, over loopback.
func post(_ body: String, port: Int) async throws -> (status: Int, body: String) {
    let client = OutboundClient()
    do {
        let response = try await client.execute(
            OutboundRequest(
                method: .post, url: "http://127.0.0.1:\(port)/hooks/productivity",
                headers: [.authorization: "Bearer \(CustomInletTests.token)", .contentType: "application/json"],
                body: Array(body.utf8), timeout: 30
            )
        )
        await client.shutdown()
        return (response.status, String(decoding: response.body, as: UTF8.self))
    } catch {
        await client.shutdown()
        throw error
    }
}

/// Polls `probe` until it gives a value, or fails once `limit` has passed.
func eventually<T>(within limit: Duration, _ probe: () async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now + limit
    while true {
        if let value = try await probe() { return value }
        guard ContinuousClock.now < deadline else { throw TestFailure("nothing came within \(limit)") }
        try await Task.sleep(for: .milliseconds(25))
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A `custom-inlet` process with a clean environment, its output in a file.
final class InletProcess {
    /// The executable under test: `CUSTOM_INLET_BINARY`, else the one beside this test
    /// binary in the build folder (`swift build` builds both there).
    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["CUSTOM_INLET_BINARY"] { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("custom-inlet")
    }

    let process = Process()
    let output: URL

    init(_ arguments: [String], environment: [String: String] = [:], folder: URL, name: String) throws {
        let binary = Self.binary
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw TestFailure("\(binary.path) is missing: build the package first (scripts/example-test.sh), or set CUSTOM_INLET_BINARY")
        }
        self.output = folder.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: self.output.path, contents: nil)
        let log = try FileHandle(forWritingTo: self.output)
        defer { try? log.close() }
        self.process.executableURL = binary
        self.process.arguments = arguments
        // Only what the test sets: none of the caller's INLET_*, token or Auth0 variables.
        self.process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"].merging(environment) { $1 }
        self.process.currentDirectoryURL = folder
        self.process.standardInput = FileHandle.nullDevice
        self.process.standardOutput = log
        self.process.standardError = log
        try self.process.run()
    }

    deinit {
        if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
    }

    var log: String { (try? String(contentsOf: self.output, encoding: .utf8)) ?? "" }

    /// The port `serve` logs once it listens (`address=127.0.0.1:PORT ... listening`).
    func port() async throws -> Int {
        do {
            return try await eventually(within: .seconds(60)) { () -> Int? in
                if !self.process.isRunning { throw TestFailure("custom-inlet exited with \(self.process.terminationStatus):\n\(self.log)") }
                for line in self.log.split(separator: "\n") where line.contains("listening") {
                    guard let range = line.range(of: #"address=127\.0\.0\.1:\d+"#, options: .regularExpression) else { continue }
                    return Int(line[range].split(separator: ":").last!)
                }
                return nil
            }
        } catch {
            throw TestFailure("custom-inlet did not report its address: \(error)\n\(self.log)")
        }
    }

    /// Waits for the process to end by itself; its exit status (a signal counts as failure).
    func exitStatus(within limit: Duration = .seconds(60)) async throws -> Int32 {
        try await eventually(within: limit) { self.process.isRunning ? nil : () }
        guard self.process.terminationReason == .exit else {
            throw TestFailure("custom-inlet was killed by signal \(self.process.terminationStatus):\n\(self.log)")
        }
        return self.process.terminationStatus
    }

    /// SIGTERM, then the exit status once it has shut down.
    func stop() async throws -> Int32 {
        kill(self.process.processIdentifier, SIGTERM)
        return try await self.exitStatus()
    }

    /// Runs a subcommand to its end: exit status and everything it printed.
    static func run(_ arguments: [String], folder: URL) async throws -> (status: Int32, output: String, jsonLines: [[String: Any]]) {
        let process = try InletProcess(arguments, folder: folder, name: "run-\(UUID().uuidString)")
        let status = try await process.exitStatus()
        let output = process.log
        let lines = output.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
        return (status, output, lines)
    }
}
