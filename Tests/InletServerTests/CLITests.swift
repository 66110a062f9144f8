import Foundation
import InletCore
import InletSQLite
import InletTestSupport
import Testing

/// The operator's subcommands, run as the real executable on a real database.
@Suite struct CLITests {
    /// Runs `inlet ARGS` and returns its exit status and standard output.
    static func inlet(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        try runToEnd(CrashRecoveryTests.binary, arguments, environment: environment)
    }

    @Test func listShowReplayAndHandlers() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let store = try await SQLiteStore.open(path: db)
        _ = try await store.appendEvent(source: "productivity", id: "msg_cli", type: "employee.created", payload: employeeEvent(), handlers: ["audit"])
        let claimed = try await store.claimDue(handler: "audit", limit: 1, leaseSeconds: 60).claims
        let claim = try #require(claimed.first)
        try await store.complete([Completion(claim: claim, handler: "audit", outcome: .dead(error: "refused", reason: .permanent))])
        await store.close()

        let listed = try Self.inlet(["events", "list", "--status", "dead", "--database", db])
        #expect(listed.status == 0)
        let lines = listed.output.split(separator: "\n")
        #expect(lines.count == 1)
        let event = try JSONDocument.parse(String(lines[0])).root.value
        #expect(event["id"] == "msg_cli")
        guard case .array(let deliveries)? = event["deliveries"] else { Issue.record("no deliveries"); return }
        #expect(deliveries.first?["state"] == "dead")
        #expect(deliveries.first?["last_error"] == "refused")

        let shown = try Self.inlet(["events", "show", "msg_cli", "--database", db])
        #expect(shown.status == 0)
        #expect(try JSONDocument.parse(shown.output).root.value["payload"]?["data"]?["employee_id"] == "EMP-1")
        #expect(try Self.inlet(["events", "show", "nope", "--database", db]).status != 0)

        let replayed = try Self.inlet(["replay", "--dead", "--database", db])
        #expect(replayed.status == 0)
        #expect(try JSONDocument.parse(replayed.output).root.value["replayed"] == 1)
        let rows = try query(db, "SELECT state, attempts FROM deliveries")
        #expect(try rows.map { try $0.string("state") } == ["pending"])
        #expect(try rows.map { try $0.int("attempts") } == [0])
        #expect(try Self.inlet(["replay", "--database", db]).status != 0, "an id or --dead is required")

        let handlers = try Self.inlet(["handlers", "--database", db])
        #expect(handlers.status == 0)
        let entries = try handlers.output.split(separator: "\n").map { try JSONDocument.parse(String($0)).root.value }
        #expect(entries.first { $0["handler"] == "audit" }?["enabled"] == true)
        #expect(entries.first { $0["handler"] == "command" }?["reason"] == "handlers.command.program is not set")
    }

    /// The README's settings tables are the catalogue the build declares (each module's
    /// and each handler's settings), so neither can drift from the other.
    @Test func theReadmeListsExactlyTheSettingsCatalogue() throws {
        let printed = try Self.inlet(["settings", "--markdown"])
        #expect(printed.status == 0)
        let readme = try String(contentsOfFile: Self.repositoryRoot + "/README.md", encoding: .utf8)
        let start = try #require(readme.range(of: "<!-- settings:"))
        let body = try #require(readme[start.upperBound...].range(of: "-->\n"))
        let end = try #require(readme.range(of: "\n<!-- /settings -->"))
        let tables = String(readme[body.upperBound..<end.lowerBound])
        #expect(tables == printed.output.trimmingCharacters(in: .newlines), "run `inlet settings --markdown` and paste its output into the README")
        // Every variable the catalogue declares is in the README and in `inlet serve --help`.
        let help = try Self.inlet(["serve", "--help"])
        for line in printed.output.split(separator: "\n") where line.hasPrefix("| `") {
            let variable = line.dropFirst(3).prefix { $0 != "`" }
            #expect(help.output.contains(variable), "serve --help lacks \(variable)")
        }
        #expect(help.output.contains("AUTH0_DEFAULT_ROLE") && help.output.contains("INLET_RETENTION_DAYS"))
        // Each setting's lines are indented under it: a line of 80 columns or more would be
        // broken again by ArgumentParser, its last word left alone at the margin.
        let lines = help.output.split(separator: "\n", omittingEmptySubsequences: false)
        let orphans = zip(lines, lines.dropFirst()).filter { $0.hasPrefix("      ") && !$1.isEmpty && !$1.hasPrefix("  ") }.map(\.1)
        #expect(lines.contains { $0.hasPrefix("      ") } && orphans.isEmpty, "help lines outside their setting: \(orphans)")
    }

    /// The repository's root folder (this file is Tests/InletServerTests/CLITests.swift).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
}

/// `inlet handlers pause NAME` / `resume NAME` on a database no server holds.
@Suite(.timeLimit(.minutes(2))) struct HandlerPauseCLITests {
    @Test func pauseAndResumeAreKeptInTheDatabase() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let store = try await SQLiteStore.open(path: db)
        _ = try await store.appendEvent(source: "productivity", id: "msg_pause", type: "employee.created", payload: employeeEvent(), handlers: ["audit"])
        await store.close()

        let paused = try CLITests.inlet(["handlers", "pause", "audit", "--database", db])
        #expect(paused.status == 0)
        #expect(try JSONDocument.parse(paused.output).root.value == ["handler": "audit", "paused": true])
        #expect(try CLITests.inlet(["handlers", "pause", "nobody", "--database", db]).status != 0)
        let listed = try CLITests.inlet(["handlers", "--database", db])
        let audit = try listed.output.split(separator: "\n").map { try JSONDocument.parse(String($0)).root.value }.first { $0["handler"] == "audit" }
        #expect(audit?["paused"] == true)

        let reopened = try await SQLiteStore.open(path: db)
        #expect(try await reopened.pausedHandlers() == ["audit"])
        #expect(try await reopened.claimDue(handler: "audit", limit: 1, leaseSeconds: 60).claims.isEmpty)
        await reopened.close()

        let resumed = try CLITests.inlet(["handlers", "resume", "audit", "--database", db])
        #expect(resumed.status == 0)
        #expect(try JSONDocument.parse(resumed.output).root.value == ["handler": "audit", "paused": false])
        let store2 = try await SQLiteStore.open(path: db)
        #expect(try await store2.claimDue(handler: "audit", limit: 1, leaseSeconds: 60).claims.map(\.event.id) == ["msg_pause"])
        await store2.close()
    }
}
