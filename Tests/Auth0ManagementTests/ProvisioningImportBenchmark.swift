
import Auth0Management
import InletHTTPClient
import Foundation
import InletCore
import InletSQLite
import InletTestSupport
import ProvisioningHandler
import Testing

/// The bulk-import benchmark (`Benchmarks/import.sh`): N employees imported against a fake
/// tenant enforcing a token bucket; prints the wall time against the least time the
/// bucket allows, the 429 answers and the dead letters. Runs only with INLET_BENCH_IMPORT=1.
@Suite struct ProvisioningImportBenchmark {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["INLET_BENCH_IMPORT"] == "1"))
    func bulkImportAgainstARateLimitedTenant() async throws {
        let count = Int(Self.environment["BENCH_EMPLOYEES"] ?? "") ?? 500
        let burst = Double(Self.environment["BENCH_BURST"] ?? "") ?? 10
        let rate = Double(Self.environment["BENCH_RATE"] ?? "") ?? 50
        let concurrency = Int(Self.environment["BENCH_CONCURRENCY"] ?? "") ?? 8
        let roles = Self.environment["BENCH_ROLES"] != "0"
        try await withTenant { tenant, http in
            try await withStore { store, path in
                tenant.limit(burst: burst, perSecond: rate)
                let client = try makeClient(tenant, http: http, sleeper: nil)
                var options = ProvisioningHandler.Options()
                options.enableRoleAssignment = roles
                let handler = ProvisioningHandler(client: client, store: store, options: options)
                var handlerOptions = HandlerOptions()
                handlerOptions.concurrency = concurrency
                let events = (1...count).map { index in
                    NewEvent(
                        source: "admin", id: "import:B\(index)", type: "employee.created",
                        payload: JSONValue.object([("type", "employee.created"), ("data", employeeData("B\(index)", email: "b\(index)@example.com"))]).serializedString
                    )
                }
                let started = ContinuousClock.now
                try await withDispatcher(store: store, handlers: [(handler, handlerOptions)]) { dispatcher, _ in
                    _ = try await store.appendEvents(planned(events, for: "provisioning"))
                    dispatcher.notify()
                    try await eventually(timeout: .seconds(600), "all deliveries finished") {
                        try sqlCount(path, "SELECT count(*) AS count FROM deliveries WHERE state IN ('done', 'dead')") == count
                    }
                }
                let elapsed = started.duration(to: .now)
                let wall = elapsed.seconds
                let api = tenant.apiRequests
                let limited = api.filter { $0.status == 429 }.count
                let admitted = api.count - limited
                let least = max(0, (Double(admitted) - burst) / rate)
                let dead = try sqlCount(path, "SELECT count(*) AS count FROM deliveries WHERE state = 'dead'")
                let report = String(
                    format: "import bench: employees=%d burst=%.0f rate=%.0f/s concurrency=%d roles=%@ api_calls=%d admitted=%d 429s=%d (%.2f%%) wall=%.2fs least=%.2fs ratio=%.3f dead=%d estimated_rate=%.1f",
                    count, burst, rate, concurrency, roles ? "on" : "off", api.count, admitted, limited,
                    100 * Double(limited) / Double(max(1, api.count)), wall, least, wall / max(least, 0.001), dead, client.limiter.estimatedRate ?? 0
                )
                print(report)
                if let first = api.first?.receivedAt {
                    let times = api.filter { $0.status == 429 }.map { first.duration(to: $0.receivedAt) }
                    print("429 at: \(times)")
                }
                if let file = Self.environment["BENCH_REPORT"] { try? (report + "\n").write(toFile: file, atomically: true, encoding: .utf8) }
                #expect(dead == 0)
                #expect(tenant.users.count == count)
            }
        }
    }
}
