import InletCore
import InletTestSupport
import Logging
import Testing

/// Retention: old events whose deliveries are all finished are deleted with their
/// deliveries and audit rows, in batches; recent and unfinished ones stay.
@Suite(.timeLimit(.minutes(2))) struct RetentionConformanceTests {
    @Test(arguments: Backend.all) func retentionDeletesOldFinishedEventsAndKeepsDeadOnes(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            // Two old events: one done, one dead; one recent done event.
            for id in ["old-done", "old-dead"] { try await store.append(id, handlers: ["audit"]) }
            for claim in try await store.claim("audit", limit: 2) {
                let outcome: DeliveryOutcome = claim.event.id == "old-done" ? .done : .dead(error: "refused", reason: .permanent)
                try await store.finish([claim], handler: "audit", outcome)
            }
            time.advance(seconds: 31 * 86_400)
            try await store.append("new-done", handlers: ["audit"])
            try await store.finish(try await store.claim("audit", limit: 1), handler: "audit")

            let retention = Retention(store: store, days: 30, clock: time.clock, batchSize: 1, logger: Logger(label: "test"))
            #expect(try await retention.purgeOnce() == 1)
            #expect(try await store.listEvents(state: nil, type: nil, limit: 10).map(\.event.id) == ["new-done", "old-dead"])
            #expect(try await tested.count("deliveries") == 2)
            #expect(try await tested.auditRows().map(\.eventID) == ["old-dead", "new-done"])
            // The operator's purge takes the dead one too.
            #expect(try await purgeFinished(store, olderThanDays: 30, includingDead: true, clock: time.clock) == 1)
            #expect(try await store.listEvents(state: nil, type: nil, limit: 10).map(\.event.id) == ["new-done"])
            #expect(try await Retention(store: store, days: 0, clock: time.clock, logger: Logger(label: "test")).purgeOnce() == 0)
        }
    }

    @Test(arguments: Backend.all) func aPurgeTakesAtMostItsLimitOldestFirstAndLeavesTheRest(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            // Ten old finished events, one second apart, then an old pending one, an old
            // running one, an old dead one, and a recent finished one.
            for index in 0..<10 {
                try await store.append("old-\(index)", handlers: ["audit", "command"])
                time.advance(seconds: 1)
            }
            try await store.finish(try await store.claim("audit", limit: 10), handler: "audit")
            try await store.finish(try await store.claim("command", limit: 10), handler: "command")
            try await store.append("old-pending", handlers: ["audit"])
            try await store.append("old-running", handlers: ["command"])
            #expect(try await store.claim("command").map(\.event.id) == ["old-running"])
            try await store.append("old-dead", handlers: ["forward"])
            try await store.finish(try await store.claim("forward"), handler: "forward", .dead(error: "no", reason: .permanent))
            try await store.append("old-mixed", handlers: ["audit", "forward"])
            let mixed = try await store.claim("forward")
            try await store.finish(mixed, handler: "forward")
            time.advance(seconds: 60)
            let cutoff = time.clock.now()
            try await store.append("recent", handlers: ["forward"])
            try await store.finish(try await store.claim("forward"), handler: "forward")

            #expect(try await store.purgeEvents(receivedBefore: cutoff, includingDead: false, limit: 4) == 4)
            var left = try await store.listEvents(state: nil, type: nil, limit: 100).map(\.event.id)
            #expect(!left.contains("old-0") && !left.contains("old-3") && left.contains("old-4"), "the oldest went first: \(left)")
            #expect(try await store.purgeEvents(receivedBefore: cutoff, includingDead: false, limit: 4) == 4)
            #expect(try await store.purgeEvents(receivedBefore: cutoff, includingDead: false, limit: 4) == 2)
            #expect(try await store.purgeEvents(receivedBefore: cutoff, includingDead: false, limit: 4) == 0)
            left = try await store.listEvents(state: nil, type: nil, limit: 100).map(\.event.id)
            #expect(left == ["recent", "old-mixed", "old-dead", "old-running", "old-pending"])
            // With the dead: only the event whose deliveries are all finished goes.
            #expect(try await store.purgeEvents(receivedBefore: cutoff, includingDead: true, limit: 10) == 1)
            left = try await store.listEvents(state: nil, type: nil, limit: 100).map(\.event.id)
            #expect(left == ["recent", "old-mixed", "old-running", "old-pending"])
            #expect(try await tested.count("deliveries") == 5)
            #expect(try await tested.count("audit_log", where: "event_id LIKE 'old-%' AND event_id <> 'old-mixed'") == 0)
            #expect(try await tested.count("audit_log", where: "event_id = 'old-mixed'") == 1)
            // Nothing received at the cutoff or later goes.
            #expect(try await store.purgeEvents(receivedBefore: Moment.start, includingDead: true, limit: 10) == 0)
            #expect(try await store.eventRecord(id: "recent") != nil)
        }
    }
}
