
import Auth0Management
import InletHTTPClient
import CoreMetrics
import Foundation
import InletCore
import ProvisioningHandler
import Synchronization
import Testing

/// Counts what is recorded, by label and dimensions.
final class RecordingMetrics: MetricsFactory, Sendable {
    private let values = Mutex<[String: Int64]>([:])

    func value(_ label: String, _ dimensions: [(String, String)] = []) -> Int64 {
        self.values.withLock { $0[Self.key(label, dimensions)] ?? 0 }
    }

    static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
    }

    fileprivate func add(_ key: String, _ amount: Int64) { self.values.withLock { $0[key, default: 0] += amount } }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        Handle(metrics: self, key: Self.key(label, dimensions))
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Handle(metrics: self, key: Self.key(label, dimensions))
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        Handle(metrics: self, key: Self.key(label, dimensions))
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    final class Handle: CounterHandler, RecorderHandler, TimerHandler, Sendable {
        let metrics: RecordingMetrics
        let key: String
        init(metrics: RecordingMetrics, key: String) {
            self.metrics = metrics
            self.key = key
        }
        func increment(by amount: Int64) { self.metrics.add(self.key, amount) }
        func reset() {}
        func record(_ value: Int64) { self.metrics.add(self.key, 1) }
        func record(_ value: Double) { self.metrics.add(self.key, 1) }
        func recordNanoseconds(_ duration: Int64) { self.metrics.add(self.key, 1) }
    }
}

@Suite(.timeLimit(.minutes(1)))
struct ProvisioningMetricsTests {
    @Test func creationsTokenRefreshesAndAPIErrorsAreCounted() async throws {
        try await withTenant { tenant, http in
            try await withStore { store, _ in
                let metrics = RecordingMetrics()
                let settings = try ManagementSettings(domain: tenant.domain, clientID: FakeTenant.clientID, clientSecret: Secret(FakeTenant.clientSecret))
                let client = ManagementClient(baseURL: tenant.baseURL, settings: settings, http: http, logger: quietLogger, metrics: metrics)
                let handler = ProvisioningHandler(client: client, store: store, metrics: metrics)
                tenant.addUser(email: "taken@example.com")
                try await handler.handle(try await storedEvent(store, type: "employee.created", data: employeeData("E1")), context: handlerContext())
                try await handler.handle(try await storedEvent(store, type: "employee.created", data: employeeData("E2", email: "taken@example.com")), context: handlerContext())
                #expect(metrics.value("auth0_user_creation_total", [("status", "created")]) == 1)
                #expect(metrics.value("auth0_user_creation_total", [("status", "linked")]) == 1)
                #expect(metrics.value("auth0_user_creation_duration_seconds") == 2)
                #expect(metrics.value("auth0_token_refresh_total", [("status", "success")]) == 1)
                #expect(metrics.value("auth0_api_errors_total", [("code", "409")]) == 1)
            }
        }
    }
}
