
import Auth0Management
import InletHTTPClient
import Foundation
import InletCore
import Logging
import Synchronization
import Testing

/// Records every retry wait the client asks for, and sleeps only briefly.
final class SleepRecorder: Sendable {
    private let recorded = Mutex<[Double]>([])
    var waits: [Double] { self.recorded.withLock { $0 } }

    func sleep(_ seconds: Double) async throws {
        self.recorded.withLock { $0.append(seconds) }
        try await Task.sleep(for: .milliseconds(Int(min(seconds, 0.02) * 1000)))
    }
}

/// A Management API client for `tenant`, reached over plain HTTP through the test-only
/// base-URL initialiser.
func makeClient(
    _ tenant: FakeTenant, http: OutboundClient, sleeper: SleepRecorder? = SleepRecorder(), clock: WallClock = .system,
    timeout: Double = 5, retries: Int = 3, refreshBuffer: Double = 300, secret: String = FakeTenant.clientSecret,
    logger: Logger = Logger(label: "auth0-test", factory: { _ in SwiftLogNoOpLogHandler() })
) throws -> ManagementClient {
    let settings = try ManagementSettings(
        domain: tenant.domain, clientID: FakeTenant.clientID, clientSecret: Secret(secret),
        requestTimeout: timeout, maxRetries: retries, tokenRefreshBuffer: refreshBuffer
    )
    var options = ManagementClient.Options()
    options.clock = clock
    options.backoffBase = 0.01
    if let sleeper { options.sleep = { try await sleeper.sleep($0) } }
    return ManagementClient(baseURL: tenant.baseURL, settings: settings, http: http, options: options, logger: logger)
}

/// Runs `body` with a fresh fake tenant and HTTP client, and always stops both.
func withTenant<T>(
    roles: [String] = ["production_associate", "production_associate_lead"],
    _ body: (FakeTenant, OutboundClient) async throws -> T
) async throws -> T {
    let tenant = try await FakeTenant.start(roles: roles)
    let http = OutboundClient()
    do {
        let result = try await body(tenant, http)
        await http.shutdown()
        await tenant.stop()
        return result
    } catch {
        await http.shutdown()
        await tenant.stop()
        throw error
    }
}

/// Runs `body`, which must throw a ``ManagementError``, and returns it.
func expectManagementError(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async -> ManagementError? {
    do {
        try await body()
        Issue.record("expected a ManagementError", sourceLocation: sourceLocation)
    } catch let error as ManagementError {
        return error
    } catch {
        Issue.record("expected a ManagementError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
