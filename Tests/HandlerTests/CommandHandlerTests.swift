import CommandHandler
import Foundation
import Glibc
import InletCore
import InletSQLite
import Logging
import Testing

/// The command handler against real programs (`/bin/sh`, `/bin/cat`, `/usr/bin/env`).
///
/// Serialized so the descriptor-leak check sees only its own runs.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct CommandHandlerTests {
    /// A fresh temporary folder, removed when the test ends.
    final class TemporaryFolder {
        let path: String

        init() throws {
            self.path = FileManager.default.temporaryDirectory
                .appendingPathComponent("inlet-command-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(atPath: self.path) }

        func file(_ name: String) -> String { "\(self.path)/\(name)" }
    }

    static func event(payload: String = #"{"id":"evt_1","type":"employee.created"}"#) -> Event {
        Event(
            seq: 7, source: "productivity", id: "evt_1", type: "employee.created",
            receivedAt: "2023-11-14T22:13:20.000Z", payload: payload
        )
    }

    static func context(attempt: Int = 1) -> HandlerContext {
        HandlerContext(logger: Logger(label: "test"), attempt: attempt, deliveryID: 1, clock: .system)
    }

    static func shell(
        _ script: String, timeout: Double = 20, maxOutputBytes: Int = 8192, environment: [String: String] = [:]
    ) -> CommandHandler {
        CommandHandler(
            program: "/bin/sh", arguments: ["-c", script], subscriptions: ["*"],
            timeout: timeout, maxOutputBytes: maxOutputBytes, environment: environment
        )
    }

    /// Runs the handler and returns the ``HandlerError`` it threw, or nil on success.
    static func failure(
        of handler: CommandHandler, event: Event = event(), context: HandlerContext = context()
    ) async -> HandlerError? {
        do {
            try await handler.handle(event, context: context)
            return nil
        } catch let error as HandlerError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }

    /// Waits (bounded) until `path` holds a pid written by a child.
    static func pid(in path: String) async throws -> pid_t {
        for _ in 0..<1000 {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
               let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return pid
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw HandlerError.permanent("no pid in \(path)")
    }

    /// True once `pid` no longer names a live process: gone, or a zombie whose reaping is
    /// up to init. Polls (bounded), since a signalled grandchild dies asynchronously.
    static func isDead(_ pid: pid_t) async throws -> Bool {
        for _ in 0..<1000 {
            if kill(pid, 0) == -1 && errno == ESRCH { return true }
            if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
               let state = stat.split(separator: ")").last?.split(separator: " ").first, state == "Z" {
                return true
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    @Test func theFactorySubscribesToEmployeeEventsUnlessConfigured() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-command-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await SQLiteStore.open(path: folder.appendingPathComponent("inlet.sqlite").path)
        func subscriptions(_ values: JSONValue) throws -> [EventPattern]? {
            try HandlerRegistry(factories: [CommandHandler.factory], settings: ["command": values], environment: [:], stores: store)
                .active.first?.subscriptions
        }
        #expect(try subscriptions(["program": "/bin/true"]) == ["employee.*"])
        #expect(try subscriptions(["program": "/bin/true", "subscriptions": ["*"]]) == ["*"])
        await store.close()
    }

    @Test func payloadReachesStandardInputByteForByte() async throws {
        let folder = try TemporaryFolder()
        let small = #"{"name":"Zoë Ñúñez","note":"line 1\nline 2 \"quoted\" $HOME `x`","emoji":"🎉"}"#
        let large = #"{"blob":""# + String(repeating: "0123456789abcdef", count: 65_536) + #""}"#
        for (index, payload) in [small, large].enumerated() {
            let out = folder.file("stdin-\(index).json")
            let handler = Self.shell(#"cat > "$OUT""#, environment: ["OUT": out])
            try await handler.handle(Self.event(payload: payload), context: Self.context())
            let received = try [UInt8](Data(contentsOf: URL(fileURLWithPath: out)))
            #expect(received == Array(payload.utf8))
        }
    }

    @Test func environmentHasTheEventAndOnlyPathFromTheParent() async throws {
        let folder = try TemporaryFolder()
        let out = folder.file("env.txt")
        // `sh` and `env` by name: resolved through PATH (posix_spawnp).
        let handler = CommandHandler(
            program: "sh", arguments: ["-c", #"env > "$OUT""#], subscriptions: ["employee.*"],
            environment: ["OUT": out, "GREETING": "hello world", "INLET_EVENT_ID": "spoofed"]
        )
        try await handler.handle(Self.event(), context: Self.context(attempt: 3))
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.contains("INLET_EVENT_ID=evt_1"))
        #expect(lines.contains("INLET_EVENT_TYPE=employee.created"))
        #expect(lines.contains("INLET_EVENT_SOURCE=productivity"))
        #expect(lines.contains("INLET_DELIVERY_ATTEMPT=3"))
        #expect(lines.contains("GREETING=hello world"))
        #expect(lines.contains("OUT=\(out)"))
        let parent = ProcessInfo.processInfo.environment
        #expect(lines.contains("PATH=\(parent["PATH"] ?? "")"))
        if parent["HOME"] != nil {
            #expect(!lines.contains { $0.hasPrefix("HOME=") })
        }
    }

    @Test func exitZeroIsDone() async throws {
        let cat = CommandHandler(program: "/bin/cat", subscriptions: ["*"])
        try await cat.handle(Self.event(), context: Self.context())
        let empty = CommandHandler(program: "/bin/cat", subscriptions: ["*"])
        try await empty.handle(Self.event(payload: ""), context: Self.context())
    }

    @Test func exit75IsTransient() async throws {
        let error = try #require(await Self.failure(of: Self.shell("echo 'directory busy'; exit 75")))
        #expect(!error.isPermanent)
        #expect(error.message.contains("status 75"))
        #expect(error.message.contains("directory busy"))
    }

    @Test func otherExitCodesArePermanentWithTheOutput() async throws {
        let error = try #require(await Self.failure(of: Self.shell(
            "echo 'looking up evt_1'; echo 'no such employee' >&2; exit 3"
        )))
        #expect(error.isPermanent)
        #expect(error.message.contains("status 3"))
        #expect(error.message.contains("looking up evt_1\nno such employee"))
        #expect(!error.message.hasSuffix("\n"))

        let falseError = try #require(await Self.failure(of: CommandHandler(program: "/bin/false", subscriptions: ["*"])))
        #expect(falseError.isPermanent)
        #expect(falseError.message.contains("status 1"))
    }

    @Test func deathBySignalIsPermanent() async throws {
        let error = try #require(await Self.failure(of: Self.shell("kill -TERM $$")))
        #expect(error.isPermanent)
        #expect(error.message.contains("signal \(SIGTERM)"))
    }

    @Test func largeOutputIsBounded() async throws {
        let megabyte = #"head -c 1048576 /dev/zero | tr '\000' x"#
        let error = try #require(await Self.failure(of: Self.shell("\(megabyte); exit 3", maxOutputBytes: 1000)))
        #expect(error.isPermanent)
        #expect(error.message.contains(String(repeating: "x", count: 1000)))
        #expect(!error.message.contains(String(repeating: "x", count: 1001)))
        #expect(error.message.contains("\(1_048_576 - 1000) more bytes"))
        #expect(error.message.utf8.count < 1200)

        // Output past the limit is drained, so a chatty program that succeeds finishes.
        try await Self.shell(megabyte, maxOutputBytes: 1000).handle(Self.event(), context: Self.context())
    }

    @Test func timeoutKillsTheProgramAndIsTransient() async throws {
        let folder = try TemporaryFolder()
        let pidFile = folder.file("pid")
        let handler = Self.shell(#"echo $$ > "$PIDFILE"; exec sleep 30"#, timeout: 0.5, environment: ["PIDFILE": pidFile])
        let error = try #require(await Self.failure(of: handler))
        #expect(!error.isPermanent)
        #expect(error.message.contains("timed out"))
        let pid = try await Self.pid(in: pidFile)
        // Killed and reaped before handle returned.
        #expect(kill(pid, 0) == -1 && errno == ESRCH)
    }

    @Test func timeoutAlsoKillsTheProgramsChildren() async throws {
        let folder = try TemporaryFolder()
        let pidFile = folder.file("pid")
        let handler = Self.shell(#"sleep 30 & echo $! > "$PIDFILE"; wait"#, timeout: 0.5, environment: ["PIDFILE": pidFile])
        let error = try #require(await Self.failure(of: handler))
        #expect(!error.isPermanent)
        let grandchild = try await Self.pid(in: pidFile)
        #expect(try await Self.isDead(grandchild))
    }

    @Test func cancellationKillsTheProgram() async throws {
        let folder = try TemporaryFolder()
        let pidFile = folder.file("pid")
        let handler = Self.shell(#"echo $$ > "$PIDFILE"; exec sleep 30"#, timeout: 50, environment: ["PIDFILE": pidFile])
        let task = Task { await Self.failure(of: handler) }
        let pid = try await Self.pid(in: pidFile)
        task.cancel()
        let error = try #require(await task.value)
        #expect(!error.isPermanent)
        #expect(kill(pid, 0) == -1 && errno == ESRCH)
    }

    @Test func programThatNeverReadsItsInputFinishesByItsExit() async throws {
        let payload = #"{"blob":""# + String(repeating: "x", count: 1 << 20) + #""}"#
        try await Self.shell("echo 'not reading'; exit 0").handle(Self.event(payload: payload), context: Self.context())
        let error = try #require(await Self.failure(of: Self.shell("exit 4"), event: Self.event(payload: payload)))
        #expect(error.isPermanent)
        #expect(error.message.contains("status 4"))
    }

    @Test func missingProgramIsPermanent() async throws {
        let absolute = try #require(await Self.failure(of: CommandHandler(
            program: "/nonexistent/inlet-hook", subscriptions: ["*"]
        )))
        #expect(absolute.isPermanent)
        #expect(absolute.message.contains("No such file or directory"))

        let byName = try #require(await Self.failure(of: CommandHandler(
            program: "inlet-no-such-hook", subscriptions: ["*"]
        )))
        #expect(byName.isPermanent)
        #expect(byName.message.contains("No such file or directory"))
    }

    @Test func programInheritsOnlyItsStandardDescriptors() async throws {
        // /proc/self/fd as `ls` sees it: 0, 1, 2 and the directory it is reading.
        let error = try #require(await Self.failure(of: Self.shell("ls /proc/self/fd; exit 3")))
        #expect(error.message.hasSuffix(": 0\n1\n2\n3"))
    }

    @Test func runsDoNotLeakDescriptors() async throws {
        /// Open descriptors other than sockets (a run makes pipes; other suites, thousands of
        /// loopback connections).
        func openDescriptors() throws -> Int {
            try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").filter { name in
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + name)) ?? ""
                return !target.hasPrefix("socket:")
            }.count
        }
        let handler = Self.shell("exit 0")
        try await handler.handle(Self.event(), context: Self.context())
        let before = try openDescriptors()
        for _ in 0..<100 {
            try await handler.handle(Self.event(), context: Self.context())
            _ = await Self.failure(of: Self.shell("exit 3"))
        }
        // Leaking even one descriptor per run would add 200; allow for other suites.
        #expect(try openDescriptors() - before < 50)
    }
}
