import Foundation
import InletCore
import InletSQLite
import InletTestSupport
import Logging
import Synchronization
import Testing

/// Leases under faults: fenced outcomes and renewals, deliveries that kill their process,
/// and runs that never overlap.
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

    /// The (only) delivery's row.
    static func state(_ store: SQLiteStore) async throws -> SQLiteRow {
        try #require(try await store.read { try $0.row("SELECT state, attempts, last_error, dead_reason FROM deliveries") })
    }

    @Test func aWorkerThatLostItsLeaseCannotOverwriteTheNewerClaim() async throws {
        let time = TestClock(seconds: 1_800_000_000)
        try await Self.withStore(clock: time.clock) { store in
            _ = try await store.appendEvent(source: "productivity", id: "evt-1", type: "employee.created", payload: "{}", handlers: ["command"])
            let first = try #require(try await store.claimDue(handler: "command", limit: 1, leaseSeconds: 10).claims.first)
            time.advance(seconds: 11)  // the first worker stalls past its lease
            let second = try #require(try await store.claimDue(handler: "command", limit: 1, leaseSeconds: 10).claims.first)
            #expect(second.deliveryID == first.deliveryID && second.token != first.token && second.attempt == 2)

            // The stale worker can neither renew nor record; the newer claim can.
            #expect(try await store.renewLeases([first], leaseSeconds: 10) == [first.deliveryID])
            #expect(try await store.renewLeases([second], leaseSeconds: 10).isEmpty)
            let stale = Completion(claim: first, handler: "command", outcome: .dead(error: "stale", reason: .permanent), auditOutcome: true)
            #expect(try await store.complete([stale]) == [first.deliveryID])
            #expect(try await Self.state(store).string("state") == "running")
            #expect(try await store.complete([Completion(claim: second, handler: "command", outcome: .done, auditOutcome: true)]).isEmpty)
            #expect(try await Self.state(store).string("state") == "done")
            // Once done, the stale outcome still cannot turn it back.
            #expect(try await store.complete([stale]) == [first.deliveryID])
            #expect(try await Self.state(store).string("state") == "done")
            let audit = try await store.read { try $0.query("SELECT outcome FROM audit_log").map { try $0.string("outcome") } }
            #expect(audit == ["delivered"], "the discarded outcome left no audit row")
            #expect(try await store.queueStatus().depth == 0)
        }
    }

    @Test func aDeliveryThatKeepsKillingItsProcessIsDeadLetteredAfterItsAttempts() async throws {
        let time = TestClock(seconds: 1_800_000_000)
        try await Self.withStore(clock: time.clock) { store in
            _ = try await store.appendEvent(source: "productivity", id: "evt-1", type: "employee.created", payload: "{}", handlers: ["command"])
            // Three claims, and each time the process dies: no outcome, the lease runs out.
            for attempt in 1...3 {
                let claims = try await store.claimDue(handler: "command", limit: 1, leaseSeconds: 5, maxAttempts: 3, excluding: []).claims
                #expect(claims.map(\.attempt) == [attempt])
                time.advance(seconds: 6)
            }
            #expect(try await store.queueStatus().depth == 1)
            let claims = try await store.claimDue(handler: "command", limit: 1, leaseSeconds: 5, maxAttempts: 3, excluding: []).claims
            #expect(claims.isEmpty)
            let dead = try await Self.state(store)
            #expect(try dead.string("state") == "dead")
            #expect(try dead.int("attempts") == 3)
            #expect(try dead.optionalString("last_error") == "no outcome after 3 attempts (the process stopped while running it)")
            #expect(try dead.optionalString("dead_reason") == "exhausted")
            #expect(try await store.queueStatus().depth == 0)
        }
    }

    @Test func aWorkerNeverClaimsADeliveryItIsStillRunning() async throws {
        let time = TestClock(seconds: 1_800_000_000)
        try await Self.withStore(clock: time.clock) { store in
            _ = try await store.appendEvent(source: "productivity", id: "evt-1", type: "employee.created", payload: "{}", handlers: ["command"])
            let first = try #require(try await store.claimDue(handler: "command", limit: 1, leaseSeconds: 5).claims.first)
            time.advance(seconds: 6)
            let again = try await store.claimDue(handler: "command", limit: 1, leaseSeconds: 5, maxAttempts: 8, excluding: [first.deliveryID])
            #expect(again.claims.isEmpty)
        }
    }

    /// A store whose lease renewals fail (a writer too busy, say): without the worker's own
    /// exclusion, the delivery would be claimed again while its handler still runs.
    final class FailingRenewals: InletStore, Sendable {
        let store: SQLiteStore
        init(_ store: SQLiteStore) { self.store = store }
        struct Refused: Error {}
        func recordLogin(_ login: UserLogin, event: NewEvent) async throws -> UserLoginResult {
            try await self.store.recordLogin(login, event: event)
        }
        func appendEvents(_ events: [NewEvent]) async throws -> [AppendResult] {
            try await self.store.appendEvents(events)
        }
        func claimDue(handler: String, limit: Int, leaseSeconds: Double, maxAttempts: Int, excluding: Set<Int64>) async throws -> (claims: [Claim], nextDue: Timestamp?) {
            try await self.store.claimDue(handler: handler, limit: limit, leaseSeconds: leaseSeconds, maxAttempts: maxAttempts, excluding: excluding)
        }
        func complete(_ completions: [Completion]) async throws -> [Int64] { try await self.store.complete(completions) }
        func renewLeases(_ claims: [Claim], leaseSeconds: Double) async throws -> [Int64] { throw Refused() }
        func replay(eventID id: String) async throws -> Int? { try await self.store.replay(eventID: id) }
        func replayDead() async throws -> Int { try await self.store.replayDead() }
        func listEvents(state: DeliveryState?, type: String?, limit: Int) async throws -> [EventRecord] {
            try await self.store.listEvents(state: state, type: type, limit: limit)
        }
        func eventRecord(id: String) async throws -> EventRecord? { try await self.store.eventRecord(id: id) }
        func queueStatus() async throws -> (depth: Int, oldestPendingMs: Int64?) { try await self.store.queueStatus() }
        func purgeEvents(receivedBefore cutoff: Timestamp, includingDead: Bool, limit: Int) async throws -> Int {
            try await self.store.purgeEvents(receivedBefore: cutoff, includingDead: includingDead, limit: limit)
        }
        func checkWritable() async throws { try await self.store.checkWritable() }
        var failure: (any Error)? { self.store.failure }
        func waitForFailure() async -> (any Error)? { await self.store.waitForFailure() }
        func close() async {}
    }

    /// Records each run's start and end.
    final class RecordingHandler: EventHandler, Sendable {
        static let name = "recording"
        let subscriptions: [EventPattern] = ["*"]
        let runs = Mutex<[(start: ContinuousClock.Instant, end: ContinuousClock.Instant?)]>([])
        let release = Mutex(false)

        func handle(_ event: Event, context: HandlerContext) async throws {
            let index = self.runs.withLock { runs in
                runs.append((ContinuousClock.now, nil))
                return runs.count - 1
            }
            // Runs past its lease (1 s) until the test lets it finish, bounded at 10 s.
            let deadline = ContinuousClock.now + .seconds(10)
            while !self.release.withLock({ $0 }) && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            self.runs.withLock { $0[index].end = ContinuousClock.now }
        }
    }

    @Test func runsOfOneDeliveryNeverOverlapWhenItsLeaseLapses() async throws {
        try await Self.withStore { sqlite in
            let store = FailingRenewals(sqlite)
            let handler = RecordingHandler()
            var registry = HandlerRegistry()
            var options = HandlerOptions()
            options.leaseSeconds = 1
            try registry.add(handler, options: options)
            var dispatcherOptions = Dispatcher.Options()
            dispatcherOptions.pollInterval = .milliseconds(50)
            let dispatcher = Dispatcher(store: store, registry: registry, logger: Logger(label: "test"), options: dispatcherOptions)
            _ = try await store.appendEvent(source: "productivity", id: "evt-1", type: "employee.created", payload: "{}", handlers: ["recording"])
            let running = Task { try await dispatcher.run() }
            defer { running.cancel() }
            try await eventually("the handler to start") { handler.runs.withLock { !$0.isEmpty } }
            // The lease (1 s) lapses with no renewal; the worker polls every 50 ms meanwhile.
            let lapsed = ContinuousClock.now + .milliseconds(1500)
            try await eventually("the lease to lapse") { ContinuousClock.now >= lapsed }
            handler.release.withLock { $0 = true }
            try await eventually("the delivery to be done") {
                try await sqlite.read { try $0.row("SELECT state FROM deliveries")?.string("state") } == "done"
            }
            let runs = handler.runs.withLock { $0 }
            #expect(runs.count == 1, "the worker claimed the delivery again while running it")
            let closed = runs.compactMap { run in run.end.map { (run.start, $0) } }
            for (a, b) in zip(closed, closed.dropFirst()) {
                #expect(a.1 <= b.0, "two runs of one delivery overlapped")
            }
        }
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

    @Test func retentionDeletesOldFinishedEventsAndKeepsDeadOnes() async throws {
        let time = TestClock(seconds: 1_800_000_000)
        try await Self.withStore(clock: time.clock) { store in
            // Two old events: one done, one dead; one recent done event.
            for id in ["old-done", "old-dead"] {
                _ = try await store.appendEvent(source: "productivity", id: id, type: "employee.created", payload: "{}", handlers: ["audit"])
            }
            let claims = try await store.claimDue(handler: "audit", limit: 2, leaseSeconds: 60).claims
            for claim in claims {
                let outcome: DeliveryOutcome = claim.event.id == "old-done" ? .done : .dead(error: "refused", reason: .permanent)
                try await store.complete([Completion(claim: claim, handler: "audit", outcome: outcome, auditOutcome: true)])
            }
            time.advance(seconds: 31 * 86_400)
            _ = try await store.appendEvent(source: "productivity", id: "new-done", type: "employee.created", payload: "{}", handlers: ["audit"])
            let recent = try await store.claimDue(handler: "audit", limit: 1, leaseSeconds: 60).claims
            try await store.complete(recent.map { Completion(claim: $0, handler: "audit", outcome: .done, auditOutcome: true) })

            let retention = Retention(store: store, days: 30, clock: time.clock, batchSize: 1, logger: Logger(label: "test"))
            #expect(try await retention.purgeOnce() == 1)
            let left = try await store.read { connection in
                (
                    events: try connection.query("SELECT id FROM events ORDER BY seq").map { try $0.string("id") },
                    deliveries: try connection.requiredRow("SELECT count(*) AS count FROM deliveries").int("count"),
                    audit: try connection.query("SELECT event_id FROM audit_log ORDER BY id").map { try $0.optionalString("event_id") }
                )
            }
            #expect(left.events == ["old-dead", "new-done"])
            #expect(left.deliveries == 2)
            #expect(left.audit == ["old-dead", "new-done"])
            // The operator's purge takes the dead one too.
            #expect(try await purgeFinished(store, olderThanDays: 30, includingDead: true, clock: time.clock) == 1)
            #expect(try await store.read { try $0.query("SELECT id FROM events").map { try $0.string("id") } } == ["new-done"])
            #expect(try await Retention(store: store, days: 0, clock: time.clock, logger: Logger(label: "test")).purgeOnce() == 0)
        }
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

    @Test func queueStatusFollowsTheBacklogWithoutAScan() async throws {
        let time = TestClock(seconds: 1_800_000_000)
        try await Self.withStore(clock: time.clock) { store in
            #expect(try await store.queueStatus().depth == 0)
            _ = try await store.appendEvent(source: "productivity", id: "a", type: "employee.created", payload: "{}", handlers: ["audit", "command"])
            _ = try await store.appendEvent(source: "productivity", id: "a", type: "employee.created", payload: "{}", handlers: ["audit", "command"])
            time.advance(seconds: 1)
            _ = try await store.appendEvents(
                [NewEvent(source: "admin", id: "b", type: "employee.created", payload: "{}", handlers: ["command"])]
            )
            var status = try await store.queueStatus()
            #expect(status.depth == 3)
            #expect(status.oldestPendingMs == 1_800_000_000_000)
            let audit = try await store.claimDue(handler: "audit", limit: 5, leaseSeconds: 60).claims
            try await store.complete(audit.map { Completion(claim: $0, handler: "audit", outcome: .dead(error: "no", reason: .permanent)) })
            status = try await store.queueStatus()
            #expect(status.depth == 2)
            #expect(try await store.replayDead() == 1)
            #expect(try await store.queueStatus().depth == 3)
            #expect(try await store.replay(eventID: "a") == 2)
            #expect(try await store.queueStatus().depth == 3)
            // The count kept by the writer matches a count of the table.
            let counted = try await store.read { try $0.requiredRow("SELECT count(*) AS count FROM deliveries WHERE state IN ('pending', 'running')").int("count") }
            #expect(counted == 3)
        }
    }
}
