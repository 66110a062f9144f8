import Foundation
import HTTPTypes
import HummingbirdTesting
import InletCore
import InletSQLite
import InletHTTPClient
import InletTestSupport
import NIOCore
import Testing

/// The store under faults, through the real `inlet` executable: a sync that fails with EIO
/// (an LD_PRELOAD shim built from `Tests/Faults/fsync-fault.c`), a second process on the
/// same file, the CLI beside a running server, and a delivery that kills its process.
@Suite struct StoreFaultTests {
    static let adminToken = "adm_" + String(repeating: "5", count: 40)

    /// Builds the sync-fault shim into `folder` and returns its path.
    static func buildShim(in folder: String) throws -> String {
        let source = CrashRecoveryTests.root.appendingPathComponent("Tests/Faults/fsync-fault.c").path
        let output = folder + "/fsync-fault.so"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["cc", "-shared", "-fPIC", "-o", output, source, "-ldl"]
        try startProcess(process)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "cc could not build the fault shim")
        return output
    }

    static func login(_ client: OutboundClient, port: Int, _ index: Int) async -> Int? {
        let body = #"{"auth0Id":"auth0|fault-\#(index)","email":"f\#(index)@example.com","name":"F"}"#
        let response = try? await client.execute(
            OutboundRequest(
                method: .post, url: "http://127.0.0.1:\(port)/internal/auth/sync-user",
                headers: [.authorization: "Bearer \(internalToken)", .contentType: "application/json"], body: Array(body.utf8),
                connectTimeout: 2, timeout: 10
            )
        )
        return response?.status
    }

    static func log(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    static func writeConfig(_ path: String, _ json: String = "{}") throws {
        try json.write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test func aFailedSyncStopsEveryAcknowledgementAndTheProcessExitsNonZero() async throws {
        let folder = try TemporaryFolder()
        let shim = try Self.buildShim(in: folder.path)
        let config = folder.path + "/inlet.json"
        let log = folder.path + "/inlet.log"
        try Self.writeConfig(config)
        let syncs = folder.path + "/syncs.log"
        let (server, port) = try await CrashRecoveryTests.start(
            config: config, database: folder.databasePath, log: log,
            environment: [
                "INTERNAL_API_TOKEN": internalToken, "LD_PRELOAD": shim, "INLET_FAULT_FDATASYNC_FAIL_AT": "12",
                "INLET_FAULT_LOG": syncs,
            ]
        )
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        try await CrashRecoveryTests.waitUntilServing(port: port, log: log)
        let client = OutboundClient()
        defer { Task { await client.shutdown() } }

        var acknowledged: [Int] = []
        var failedAt: Int?
        for index in 0..<200 {
            let status = await Self.login(client, port: port, index)
            if status == 200 {
                acknowledged.append(index)
            } else {
                failedAt = index
                #expect(status == 503 || status == nil, "the failed write is answered 503, not \(String(describing: status))")
                break
            }
        }
        let first = try #require(failedAt, "no sync failed: \(Self.log(syncs))")
        #expect(!acknowledged.isEmpty)
        // Nothing after the failure is acknowledged, though the disk "works" again.
        for index in (first + 1)..<(first + 11) {
            let status = await Self.login(client, port: port, index)
            #expect(status != 200, "a write was acknowledged after the failed sync")
        }
        let ready = try? await client.execute(OutboundRequest(url: "http://127.0.0.1:\(port)/readyz", connectTimeout: 1, timeout: 2))
        #expect(ready == nil || ready?.status == 503)

        try await eventually(timeout: .seconds(30), "the process to exit") { !server.isRunning }
        #expect(server.terminationStatus != 0)
        #expect(Self.log(log).contains("critical"), "a critical line names the failure")
        #expect(Self.log(log).contains("fdatasync"))

        // A restart on the same file, disk healthy: every acknowledged login is there.
        let (restarted, restartedPort) = try await CrashRecoveryTests.start(
            config: config, database: folder.databasePath, log: log, environment: ["INTERNAL_API_TOKEN": internalToken]
        )
        defer {
            kill(restarted.processIdentifier, SIGTERM)
            restarted.waitUntilExit()
        }
        try await CrashRecoveryTests.waitUntilServing(port: restartedPort, log: log)
        let stored = Set(try query(folder.databasePath, "SELECT auth0_id FROM users").map { try $0.string("auth0_id") })
        for index in acknowledged {
            #expect(stored.contains("auth0|fault-\(index)"), "acknowledged login \(index) was lost")
        }
        #expect(try query(folder.databasePath, "PRAGMA integrity_check").map { try $0.string("integrity_check") } == ["ok"])
    }

    @Test func aSymlinkedDatabaseIsSyncedThroughItsRealWAL() async throws {
        let folder = try TemporaryFolder()
        let shim = try Self.buildShim(in: folder.path)
        try FileManager.default.createDirectory(atPath: folder.path + "/real", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: folder.path + "/real/inlet.sqlite", contents: nil)
        let link = folder.path + "/link.sqlite"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: folder.path + "/real/inlet.sqlite")
        let config = folder.path + "/inlet.json"
        let log = folder.path + "/inlet.log"
        let syncs = folder.path + "/syncs.log"
        try Self.writeConfig(config)
        let (server, port) = try await CrashRecoveryTests.start(
            config: config, database: link, log: log,
            environment: ["INTERNAL_API_TOKEN": internalToken, "LD_PRELOAD": shim, "INLET_FAULT_LOG": syncs]
        )
        defer {
            kill(server.processIdentifier, SIGTERM)
            server.waitUntilExit()
        }
        try await CrashRecoveryTests.waitUntilServing(port: port, log: log)
        let client = OutboundClient()
        defer { Task { await client.shutdown() } }
        for index in 0..<3 {
            #expect(await Self.login(client, port: port, index) == 200)
        }
        let synced = Self.log(syncs)
        #expect(synced.contains(folder.path + "/real/inlet.sqlite-wal"), "syncs seen: \(synced)")
        #expect(!synced.contains("link.sqlite-wal"))
    }

    @Test func theCommandLineWorksBesideARunningServerWithoutWritingTheFile() async throws {
        let folder = try TemporaryFolder()
        let config = folder.path + "/inlet.json"
        let log = folder.path + "/inlet.log"
        try Self.writeConfig(config)
        let environment = ["INTERNAL_API_TOKEN": internalToken, "ADMIN_API_TOKEN": Self.adminToken]
        let (server, port) = try await CrashRecoveryTests.start(config: config, database: folder.databasePath, log: log, environment: environment)
        defer {
            kill(server.processIdentifier, SIGTERM)
            server.waitUntilExit()
        }
        try await CrashRecoveryTests.waitUntilServing(port: port, log: log)

        // A second server on the same file fails at once, naming the first.
        let secondLog = folder.path + "/second.log"
        _ = FileManager.default.createFile(atPath: secondLog, contents: nil)
        let second = Process()
        second.executableURL = URL(fileURLWithPath: CrashRecoveryTests.binary)
        second.arguments = ["serve", "--config", config, "--database", folder.databasePath, "--listen", "127.0.0.1:0"]
        second.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        second.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: secondLog))
        try startProcess(second)
        try await eventually(timeout: .seconds(30), "the second server to give up") { !second.isRunning }
        #expect(second.terminationStatus != 0)
        #expect(Self.log(secondLog).contains("pid \(server.processIdentifier)"), "\(Self.log(secondLog))")

        let client = OutboundClient()
        defer { Task { await client.shutdown() } }
        #expect(await Self.login(client, port: port, 1) == 200)
        let db = folder.databasePath
        try await eventually("the audit delivery to be done") {
            try sqlCount(db, "SELECT count(*) AS count FROM deliveries WHERE state = 'done'") == 1
        }
        let eventID = try #require(try query(db, "SELECT id FROM events").first?.string("id"))

        // Reading beside it writes nothing: neither the database nor its WAL changes.
        func stamp() throws -> [String] {
            try [db, db + "-wal"].map { path in
                let attributes = try FileManager.default.attributesOfItem(atPath: path)
                return "\(attributes[.size] ?? 0) \((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
            }
        }
        let before = try stamp()
        let listed = try CLITests.inlet(["events", "list", "--database", db], environment: environment)
        #expect(listed.status == 0)
        #expect(listed.output.contains(eventID))
        #expect(try CLITests.inlet(["handlers", "--database", db], environment: environment).status == 0)
        #expect(try stamp() == before)

        // A replay goes through the server's admin API, and the server runs it.
        let cli = environment.merging(["INLET_LISTEN": "127.0.0.1:\(port)"]) { $1 }
        let replayed = try CLITests.inlet(["replay", eventID, "--database", db], environment: cli)
        #expect(replayed.status == 0)
        // The login's one delivery: audit (metadata-sync is off without Auth0 credentials).
        #expect(try JSONDocument.parse(replayed.output).root.value["replayed"] == 1, "\(replayed.output)")
        try await eventually("the replayed delivery to run again") {
            try sqlCount(db, "SELECT count(*) AS count FROM audit_log WHERE event_id = ? AND outcome = 'received'", [.text(eventID)]) == 2
        }
        // An unknown id is the server's 404, said as such.
        let unknown = try CLITests.inlet(["replay", "no-such-event", "--database", db], environment: cli)
        #expect(unknown.status != 0 && unknown.output.isEmpty)
        // Without the admin token it says why instead of opening the file.
        var noToken = cli
        noToken["ADMIN_API_TOKEN"] = nil
        #expect(try CLITests.inlet(["replay", eventID, "--database", db], environment: noToken).status != 0)
        let purged = try CLITests.inlet(["purge", "--dead", "--older-than", "0", "--database", db], environment: cli)
        #expect(purged.status == 0)
    }

    @Test func aDeliveryThatKillsItsProcessIsDeadLetteredAfterItsAttempts() async throws {
        let folder = try TemporaryFolder()
        let config = folder.path + "/inlet.json"
        let log = folder.path + "/inlet.log"
        // The command kills inlet itself (its parent) with SIGKILL: no outcome is ever recorded.
        try Self.writeConfig(config, """
            {"handlers": {"audit": {"enabled": false},
                          "command": {"program": "/bin/sh", "arguments": ["-c", "kill -9 $PPID"], "subscriptions": ["employee.*"],
                                      "max_attempts": 2, "timeout_seconds": 1, "lease_seconds": 2.5}}}
            """)
        let db = folder.databasePath
        let id = "msg_poison"
        for round in 0..<3 {
            let (server, port) = try await CrashRecoveryTests.start(config: config, database: db, log: log)
            defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
            // Round 1 is not waited for: the delivery, due again once the lease of round 0
            // lapsed, may kill inlet before its first answer (the attempt count checks it ran).
            if round != 1 { try await CrashRecoveryTests.waitUntilServing(port: port, log: log) }
            if round == 0 {
                let timestamp = String(Int(Date().timeIntervalSince1970))
                let body = employeeEvent()
                let client = OutboundClient()
                // The delivery may kill inlet before the answer leaves: the event is
                // committed either way (checked below, after the restarts).
                let response = try? await client.execute(
                    OutboundRequest(
                        method: .post, url: "http://127.0.0.1:\(port)/hooks/productivity",
                        headers: [
                            .contentType: "application/json", HTTPField.Name("webhook-id")!: id,
                            HTTPField.Name("webhook-timestamp")!: timestamp,
                            HTTPField.Name("webhook-signature")!:
                                try WebhookSecret(webhookSecret).sign(id: id, timestamp: timestamp, body: Array(body.utf8)),
                        ],
                        body: Array(body.utf8), timeout: 10
                    )
                )
                await client.shutdown()
                #expect(response == nil || response?.status == 202)
            }
            if round < 2 {
                try await eventually(timeout: .seconds(30), "the poison delivery to kill inlet (round \(round))") { !server.isRunning }
            } else {
                try await eventually(timeout: .seconds(30), "the delivery to be dead-lettered") {
                    try query(db, "SELECT state FROM deliveries WHERE handler = 'command'").first?.string("state") == "dead"
                }
                #expect(server.isRunning)
                kill(server.processIdentifier, SIGTERM)
                server.waitUntilExit()
            }
        }
        #expect(try query(db, "SELECT id FROM events").map { try $0.string("id") } == [id])
        let rows = try query(db, "SELECT state, attempts, last_error FROM deliveries WHERE handler = 'command'")
        #expect(rows.count == 1)
        #expect(try rows.first?.string("state") == "dead")
        #expect(try rows.first?.int("attempts") == 2)
        #expect(try rows.first?.optionalString("last_error") == "no outcome after 2 attempts (the process stopped while running it)")
    }
}
