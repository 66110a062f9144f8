import Foundation
import InletCore
import InletSQLite
import InletTestSupport
import Logging
import Testing

/// Leases and retention where SQLite is concerned: a handler's lease against its timeout,
/// and a file that stops growing under retention. Fenced outcomes and renewals, abandoned
/// deliveries and runs that never overlap are in StoreConformanceTests, on every backend.
@Suite struct DeliveryLeaseTests {
    static func withStore(clock: WallClock = .system, _ body: (SQLiteStore) async throws -> Void) async throws {
        let path = SQLiteStoreTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let store = try await SQLiteStore.open(path: path, options: .init(synchronous: .normal, clock: clock))
        do {
            try await body(store)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    @Test func aHandlerWhoseLeaseIsNotLongerThanItsTimeoutIsRefused() throws {
        struct Slow: EventHandler {
            static let name = "slow"
            let subscriptions: [EventPattern] = ["*"]
            var timeoutSeconds: Double? { 30 }
            func handle(_ event: Event, context: HandlerContext) async throws {}
        }
        var registry = HandlerRegistry()
        var options = HandlerOptions()
        options.leaseSeconds = 30
        #expect(throws: ConfigurationError.self) { try registry.add(Slow(), options: options) }
        options.leaseSeconds = 60
        try registry.add(Slow(), options: options)
    }

    @Test func underSteadyTrafficRetentionKeepsTheFileFromGrowing() async throws {
        let time = TestClock(seconds: 1_800_000_000)
        try await Self.withStore(clock: time.clock) { store in
            let retention = Retention(store: store, days: 1, clock: time.clock, batchSize: 200, logger: Logger(label: "test"))
            let payload = String(repeating: "x", count: 600)
            var pages: [Int] = []
            // Ten "days" of the same traffic, each purged of what is older than a day.
            for day in 0..<10 {
                let events = (0..<300).map { NewEvent(source: "productivity", id: "d\(day)-\($0)", type: "employee.created", payload: payload, handlers: ["audit"]) }
                _ = try await store.appendEvents(events)
                while true {
                    let claims = try await store.claimDue(handler: "audit", limit: 100, leaseSeconds: 60).claims
                    if claims.isEmpty { break }
                    try await store.complete(claims.map { Completion(claim: $0, handler: "audit", outcome: .done, auditOutcome: true) })
                }
                try await retention.purgeOnce()
                pages.append(try await store.read { try $0.requiredRow("PRAGMA page_count").int("page_count") })
                time.advance(seconds: 86_400 + 1)
            }
            // After the first two days the file reuses the pages the purge freed.
            #expect(pages[9] <= pages[2] + pages[2] / 10, "page counts by day: \(pages)")
            #expect(try await store.read { try $0.requiredRow("SELECT count(*) AS count FROM events").int("count") } <= 600)
        }
    }
}
