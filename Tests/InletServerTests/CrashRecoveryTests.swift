import Foundation
import HTTPTypes
import HummingbirdTesting
import InletCore
import InletSQLite
import InletHTTPClient
import InletTestSupport
import NIOCore
import Testing

/// The real `inlet serve` process, killed with SIGKILL while a slow handler runs, then
/// restarted on the same database.
@Suite struct CrashRecoveryTests {
    static let root = InletServeProcess.packageRoot

    /// The executable that `swift build --build-tests` built beside the tests.
    static var binary: String { InletServeProcess.binary }

    /// Starts `inlet serve` on an ephemeral loopback port with the webhook secret
    /// (``InletServeProcess``); returns the process and the port it reports in its log.
    static func start(
        config: String, database: String, log: String, environment extra: [String: String] = [:]
    ) async throws -> (process: Process, port: Int) {
        let inlet = try await InletServeProcess.start(
            arguments: ["--config", config, "--database", database], environment: ["PRODUCTIVITY_WEBHOOK_SECRET": webhookSecret].merging(extra) { $1 },
            log: log
        )
        return (inlet.process, inlet.port)
    }

    static func waitUntilServing(port: Int, log: String) async throws {
        try await InletServeProcess.waitUntilServing(port: port, log: log)
    }

    @Test func everyAcknowledgedEventReachesEveryHandlerAfterSIGKILL() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.binary), "build the package first: \(Self.binary)")
        let folder = try TemporaryFolder()
        let runs = folder.path + "/runs.log"
        let log = folder.path + "/inlet.log"
        let config = folder.path + "/inlet.json"
        // The command handler takes a second per event and records each run; leases are
        // short (but longer than the command's timeout) so the restarted process takes back
        // what the killed one was running.
        let script = #"read -r _; sleep 1; echo "$INLET_EVENT_ID" >> '\#(runs)'"#
        try """
            {"handlers": {
                "command": {"program": "/bin/sh", "arguments": ["-c", \(JSONValue.string(script).serializedString)],
                            "subscriptions": ["employee.*"], "concurrency": 2, "lease_seconds": 4, "timeout_seconds": 2},
                "audit": {"enabled": true, "lease_seconds": 2}
            }}
            """.write(toFile: config, atomically: true, encoding: .utf8)

        let (first, port) = try await Self.start(config: config, database: folder.databasePath, log: log)
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        try await Self.waitUntilServing(port: port, log: log)

        let ids = (0..<8).map { "msg_crash_\($0)" }
        try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
            for id in ids {
                let signature = try WebhookSecret(webhookSecret).sign(id: id, timestamp: String(Int(Date().timeIntervalSince1970)), body: Array(employeeEvent().utf8))
                let response = try await client.post(
                    "/hooks/productivity",
                    headers: [
                        .contentType: "application/json", HTTPField.Name("webhook-id")!: id,
                        HTTPField.Name("webhook-timestamp")!: String(Int(Date().timeIntervalSince1970)),
                        HTTPField.Name("webhook-signature")!: signature,
                    ],
                    body: ByteBuffer(string: employeeEvent())
                )
                #expect(response.status == .accepted)
            }
        }
        // Kill it while command deliveries are running.
        let db = folder.databasePath
        // Generous: the cluster tests run beside this one on the same two cores.
        try await eventually(timeout: .seconds(60), "a command delivery running") {
            try sqlCount(db, "SELECT count(*) AS count FROM deliveries WHERE handler = 'command' AND state = 'running'") > 0
        }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let runningAtKill = Set(try query(
            db, "SELECT e.id FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.handler = 'command' AND d.state = 'running'"
        ).map { try $0.string("id") })

        let (second, secondPort) = try await Self.start(config: config, database: db, log: log)
        defer {
            if second.isRunning {
                kill(second.processIdentifier, SIGTERM)
                second.waitUntilExit()
            }
        }
        try await Self.waitUntilServing(port: secondPort, log: log)
        do {
            try await eventually(timeout: .seconds(60), "every delivery done") {
                try sqlCount(db, "SELECT count(*) AS count FROM deliveries WHERE state = 'done'") == ids.count * 2
            }
        } catch {
            let rows = try query(db, "SELECT handler, state, attempts, last_error FROM deliveries")
            Issue.record("deliveries: \(rows); log: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "none")")
            throw error
        }

        let ranFor = (try String(contentsOfFile: runs, encoding: .utf8)).split(separator: "\n").map(String.init)
        #expect(Set(ranFor) == Set(ids), "every acknowledged event reached the command handler")
        let repeated = Set(ranFor.filter { id in ranFor.filter { $0 == id }.count > 1 })
        #expect(repeated.isSubset(of: runningAtKill), "only deliveries whose lease expired ran twice")
        let audited = try sqlCount(db, "SELECT count(DISTINCT event_id) AS count FROM audit_log WHERE outcome = 'received'")
        #expect(audited == ids.count)

        // SIGTERM ends it gracefully.
        kill(second.processIdentifier, SIGTERM)
        second.waitUntilExit()
        #expect(second.terminationStatus == 0, "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }
}
