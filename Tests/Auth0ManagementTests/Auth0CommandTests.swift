import Foundation
import InletCore
import InletSQLite
import InletTestSupport
import Testing

/// `inlet auth0 connect`, `inlet auth0 reconcile` and `AUTH0_RECONCILE_INTERVAL` through the
/// real executable, against the fake tenant over HTTPS (as production reaches Auth0, the
/// certificate trusted through `INLET_CA_BUNDLE`).
@Suite(.timeLimit(.minutes(3))) struct Auth0CommandTests {
    /// Runs `inlet ARGUMENTS` to its end; its standard output and exit status.
    static func inlet(_ arguments: [String], environment: [String: String]) throws -> (status: Int32, output: String) {
        try runToEnd(InletServeProcess.binary, arguments, environment: environment)
    }

    /// A fake tenant over HTTPS, the environment that reaches it, and a temporary folder.
    static func withTLSTenant(_ body: (FakeTenant, [String: String], String) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-auth0-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let tls = try LoopbackTLS()
        let tenant = try await FakeTenant.start(tls: tls)
        let environment = [
            "AUTH0_DOMAIN": tenant.domain, "AUTH0_CLIENT_ID": FakeTenant.clientID, "AUTH0_CLIENT_SECRET": FakeTenant.clientSecret,
            "INLET_CA_BUNDLE": tls.certificateFile, "INLET_DATABASE": folder + "/inlet.sqlite", "INLET_LOG_LEVEL": "warning",
        ]
        do {
            try await body(tenant, environment, folder)
            await tenant.stop()
        } catch {
            await tenant.stop()
            throw error
        }
    }

    /// The 64 hex digits after `AUTH0_LOG_STREAM_TOKEN=` in `output`.
    static func token(in output: String) -> String? {
        guard let range = output.range(of: "AUTH0_LOG_STREAM_TOKEN=") else { return nil }
        return String(output[range.upperBound...].prefix { $0.isHexDigit })
    }

    @Test func connectCreatesTheStreamOnceUpdatesItOnTheNextRunAndPrintsEachTokenOnce() async throws {
        try await Self.withTLSTenant { tenant, environment, _ in
            let first = try Self.inlet(["auth0", "connect", "--url", "https://inlet.example"], environment: environment)
            #expect(first.status == 0, "\(first.output)")
            #expect(first.output.hasPrefix("Created the Auth0 log stream \"Inlet inlet.example\""))
            let firstToken = try #require(Self.token(in: first.output))
            #expect(firstToken.count == 64)
            #expect(first.output.components(separatedBy: firstToken).count == 2)
            #expect(!first.output.contains(FakeTenant.clientSecret))
            #expect(tenant.logStreams.count == 1)
            #expect(tenant.logStreams.first?["sink"]?["httpAuthorization"]?.stringValue == "Bearer \(firstToken)")

            let second = try Self.inlet(["auth0", "connect", "--url", "https://inlet.example"], environment: environment)
            #expect(second.status == 0, "\(second.output)")
            #expect(second.output.hasPrefix("Updated the Auth0 log stream"))
            let secondToken = try #require(Self.token(in: second.output))
            #expect(secondToken != firstToken && !second.output.contains(firstToken))
            #expect(second.output.components(separatedBy: secondToken).count == 2)
            #expect(tenant.logStreams.count == 1)
            #expect(tenant.logStreams.first?["sink"]?["httpAuthorization"]?.stringValue == "Bearer \(secondToken)")

            // Without credentials: a clear refusal, nothing sent.
            let before = tenant.requests.count
            let missing = try Self.inlet(["auth0", "connect", "--url", "https://inlet.example"], environment: ["AUTH0_CLIENT_ID": ""].merging(environment.filter { $0.key != "AUTH0_CLIENT_ID" }) { $1 })
            #expect(missing.status != 0)
            #expect(tenant.requests.count == before)
        }
    }

    @Test func reconcileCommandAndIntervalBringTheTenantsUsersIn() async throws {
        try await Self.withTLSTenant { tenant, environment, folder in
            let start = Timestamp(millisecondsSinceEpoch: 1_800_000_000_000)
            for index in 1...3 {
                tenant.putUser(id: "auth0|cli\(index)", email: "cli\(index)@example.com", name: "CLI \(index)", updatedAt: start.adding(seconds: Double(index)))
            }
            let run = try Self.inlet(["auth0", "reconcile"], environment: environment)
            #expect(run.status == 0, "\(run.output)")
            let counts = try JSONDocument.parse(run.output.trimmingCharacters(in: .whitespacesAndNewlines)).root.value
            #expect(counts["created"]?.intValue == 3 && counts["updated"]?.intValue == 0)
            let again = try JSONDocument.parse(try Self.inlet(["auth0", "reconcile"], environment: environment).output.trimmingCharacters(in: .whitespacesAndNewlines)).root.value
            #expect(again["created"]?.intValue == 0 && again["updated"]?.intValue == 0)

            // The same as a service of inlet serve (its first run at start-up), on another database.
            var served = environment
            served["INLET_DATABASE"] = folder + "/served.sqlite"
            served["AUTH0_RECONCILE_INTERVAL"] = "1h"
            served["INLET_LOG_LEVEL"] = "info"  // the start-up line that names the port
            let server = try await InletServeProcess.start(environment: served, log: folder + "/serve.log")
            defer { server.kill() }
            try await eventually(timeout: .seconds(30), "the reconciler's run") {
                let connection = try SQLiteConnection(path: folder + "/served.sqlite", readOnly: true)
                return try connection.requiredRow("SELECT count(*) AS count FROM events WHERE type = 'inlet.reconcile.completed'").int("count") == 1
            }
            let connection = try SQLiteConnection(path: folder + "/served.sqlite", readOnly: true)
            #expect(try connection.requiredRow("SELECT count(*) AS count FROM users").int("count") == 3)
        }
    }
}
