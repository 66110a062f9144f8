import Foundation
import InletCore
import InletTestSupport
import Testing

/// The Auth0 Management API limiter with several instances: two real `inlet serve`
/// processes on one PostgreSQL database provision 500 employees against a fake tenant
/// (over HTTPS, as production reaches Auth0) that allows 50 requests a second.
@Suite(.timeLimit(.minutes(3)))
struct ClusterProvisioningTests {
    static let employees = 500
    static let rate = 50.0

    @Test func fiveHundredEmployeesThroughTwoInstancesStayUnderTheTenantsLimitWithOneAccountEach() async throws {
        let server = try TestPostgres.required()
        let database = try server.createDatabase()
        defer { database.drop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-provisioning-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let tls = try LoopbackTLS()
        let tenant = try await FakeTenant.start(roles: ["production_associate"], tls: tls)
        defer { Task { await tenant.stop() } }
        tenant.limit(burst: Self.rate, perSecond: Self.rate)
        let config = folder + "/inlet.json"
        try #"{"handlers": {"provisioning": {"concurrency": 4}, "audit": {"enabled": true}}}"#.write(toFile: config, atomically: true, encoding: .utf8)
        var environment = InletTestClient.environment.merging(database.environment) { $1 }
        environment["AUTH0_DOMAIN"] = tenant.domain
        environment["AUTH0_CLIENT_ID"] = FakeTenant.clientID
        environment["AUTH0_CLIENT_SECRET"] = FakeTenant.clientSecret
        environment["INLET_CA_BUNDLE"] = tls.certificateFile
        let instances = try await InletServeProcess.startCluster(2, arguments: ["--config", config], environment: environment, folder: folder)
        defer { for instance in instances { instance.kill() } }
        let client = InletTestClient(timeout: 10)
        defer { Task { await client.shutdown() } }

        let started = ContinuousClock.now
        let answers = await concurrently(Array(0..<Self.employees), width: 16) { index in
            await client.postEmployeeEvent(
                to: instances[index % instances.count], id: "msg_provision_\(index)", employeeID: "EMP-\(index)", email: "employee\(index)@example.com"
            )
        }
        #expect(answers.allSatisfy { $0.status == 202 }, "\(answers.filter { $0.status != 202 }.prefix(3).map { "\($0.status) \($0.body)" })")
        do {
            try await eventually(timeout: .seconds(150), "every provisioning delivery finished") {
                try await database.count("SELECT count(*) FROM deliveries WHERE handler = 'provisioning' AND state IN ('done', 'dead')")
                    == Self.employees
            }
        } catch {
            let states = try? await database.rows("SELECT state, count(*)::text, max(last_error) FROM deliveries WHERE handler = 'provisioning' GROUP BY 1")
            Issue.record("provisioning: \(states ?? []); logs: \(instances.map { $0.logText.suffix(2000) })")
            throw error
        }
        let seconds = started.duration(to: .now).seconds

        // Fewer than 1 % of the tenant's answers are 429.
        let api = tenant.apiRequests
        let limited = api.filter { $0.status == 429 }.count
        let share = Double(limited) / Double(max(1, api.count))
        #expect(share < 0.01, "\(limited) of \(api.count) Management API answers were 429")

        // One account each: every employee created once, none refused as existing.
        #expect(try await database.count("SELECT count(*) FROM deliveries WHERE handler = 'provisioning' AND state = 'dead'") == 0)
        let creates = tenant.createRequests
        #expect(creates.filter { $0.status == 201 }.count == Self.employees)
        #expect(creates.filter { $0.status == 409 }.isEmpty, "a second account was attempted for \(creates.filter { $0.status == 409 }.count) employees")
        let emails = tenant.users.compactMap(\.email)
        #expect(emails.count == Self.employees && Set(emails).count == Self.employees)
        #expect(
            try await database.count("SELECT count(DISTINCT auth0_user_id) FROM employees WHERE auth0_sync_status = 'created'") == Self.employees
        )
        let perInstance = instances.map { instance in instance.logText.components(separatedBy: "auth0 call").count - 1 }
        print(
            String(
                format: "auth0 cluster: %d employees through 2 instances in %.1f s, %d Management API calls (%@ per instance), %d answered 429 (%.2f %%); the bucket allows %.1f s at least",
                Self.employees, seconds, api.count, "\(perInstance)", limited, share * 100, max(0, Double(api.count - limited) - Self.rate) / Self.rate
            )
        )
    }
}
