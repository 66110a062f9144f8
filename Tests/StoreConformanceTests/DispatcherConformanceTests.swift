import InletCore
import InletTestSupport
import Logging
import Synchronization
import Testing

/// The dispatcher on each store: a worker whose lease renewals fail never runs a delivery
/// twice at once.
@Suite(.timeLimit(.minutes(2))) struct DispatcherConformanceTests {
    /// A store whose lease renewals fail (a database too busy, say): without the worker's
    /// own exclusion, the delivery would be claimed again while its handler still runs.
    final class FailingRenewals: InletStore, Sendable {
        let store: any InletStore
        init(_ store: any InletStore) { self.store = store }
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
        func replay(eventID id: String, handler: String?) async throws -> Int? { try await self.store.replay(eventID: id, handler: handler) }
        func replayDead(handler: String?, errorKey: String?) async throws -> Int {
            try await self.store.replayDead(handler: handler, errorKey: errorKey)
        }
        func searchEvents(_ query: EventQuery) async throws -> EventPage { try await self.store.searchEvents(query) }
        func handlerCounts() async throws -> [HandlerQueueCounts] { try await self.store.handlerCounts() }
        func activity(since: Timestamp, bucketSeconds: Int) async throws -> [ActivityBucket] {
            try await self.store.activity(since: since, bucketSeconds: bucketSeconds)
        }
        func deadLetterGroups(limit: Int) async throws -> [DeadLetterGroup] { try await self.store.deadLetterGroups(limit: limit) }
        func setPaused(_ paused: Bool, handler: String) async throws { try await self.store.setPaused(paused, handler: handler) }
        func pausedHandlers() async throws -> Set<String> { try await self.store.pausedHandlers() }
        func eventRecord(id: String) async throws -> EventRecord? { try await self.store.eventRecord(id: id) }
        func queueStatus() async throws -> (depth: Int, oldestPendingMs: Int64?) { try await self.store.queueStatus() }
        func purgeEvents(receivedBefore cutoff: Timestamp, includingDead: Bool, limit: Int) async throws -> Int {
            try await self.store.purgeEvents(receivedBefore: cutoff, includingDead: includingDead, limit: limit)
        }
        func checkWritable() async throws { try await self.store.checkWritable() }
        var failure: (any Error)? { self.store.failure }
        func waitForFailure() async -> (any Error)? { await self.store.waitForFailure() }
        func watchForWork(_ wake: @escaping @Sendable ([String]?) -> Void) async { await self.store.watchForWork(wake) }
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

    @Test(arguments: Backend.all) func runsOfOneDeliveryNeverOverlapWhenItsLeaseLapses(_ backend: Backend) async throws {
        // The real clock: the dispatcher's lease (1 s) must lapse while the handler runs.
        try await backend.withStore(clock: .system) { tested in
            let store = FailingRenewals(tested.store)
            let handler = RecordingHandler()
            var registry = HandlerRegistry()
            var options = HandlerOptions()
            options.leaseSeconds = 1
            try registry.add(handler, options: options)
            var dispatcherOptions = Dispatcher.Options()
            dispatcherOptions.pollInterval = .milliseconds(50)
            let dispatcher = Dispatcher(store: store, registry: registry, logger: Logger(label: "test"), options: dispatcherOptions)
            try await store.append("evt-1", handlers: ["recording"])
            let running = Task { try await dispatcher.run() }
            defer { running.cancel() }
            try await eventually("the handler to start") { handler.runs.withLock { !$0.isEmpty } }
            // The lease (1 s) lapses with no renewal; the worker polls every 50 ms meanwhile.
            let lapsed = ContinuousClock.now + .milliseconds(1500)
            try await eventually("the lease to lapse") { ContinuousClock.now >= lapsed }
            handler.release.withLock { $0 = true }
            try await eventually("the delivery to be done") { try await store.deliveries(of: "evt-1").first?.state == .done }
            running.cancel()
            _ = await running.result
            let runs = handler.runs.withLock { $0 }
            #expect(runs.count == 1, "the worker claimed the delivery again while running it")
            let closed = runs.compactMap { run in run.end.map { (run.start, $0) } }
            for (a, b) in zip(closed, closed.dropFirst()) {
                #expect(a.1 <= b.0, "two runs of one delivery overlapped")
            }
        }
    }
}
