import InletCore
import InletTestSupport
import Testing

/// Replays (one event's deliveries, or every dead one) and the backlog they feed.
@Suite(.timeLimit(.minutes(2))) struct ReplayConformanceTests {
    @Test(arguments: Backend.all) func replayingAnEventMakesItsFinishedDeliveriesDueWithFreshAttempts(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            #expect(try await store.replay(eventID: "nope") == nil)
            try await store.append("evt-1", handlers: ["a", "b", "c", "d"])
            // a done, b dead, c running, d pending.
            try await store.finish(try await store.claim("a"), handler: "a")
            try await store.finish(try await store.claim("b"), handler: "b", .dead(error: "refused", reason: .permanent))
            let running = try await store.claim("c")
            #expect(running.count == 1)
            time.advance(seconds: 10)

            #expect(try await store.replay(eventID: "evt-1") == 3, "a running delivery is left to its worker")
            let deliveries = Dictionary(uniqueKeysWithValues: try await store.deliveries(of: "evt-1").map { ($0.handler, $0) })
            for handler in ["a", "b", "d"] {
                let delivery = try #require(deliveries[handler])
                #expect(delivery.state == .pending && delivery.attempts == 0 && delivery.deadReason == nil, "\(handler)")
                #expect(delivery.nextAttemptAt == Moment.after(10), "\(handler)")
            }
            #expect(deliveries["c"]?.state == .running && deliveries["c"]?.attempts == 1)
            #expect(try await store.queueStatus().depth == 4)
            #expect(try await store.claim("a").map(\.attempt) == [1])
            #expect(try await store.claim("b").map(\.attempt) == [1])
            // The running claim is still the delivery's.
            #expect(try await store.finish(running, handler: "c").isEmpty)
        }
    }

    @Test(arguments: Backend.all) func replayingTheDeadTouchesNothingElse(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            #expect(try await store.replayDead() == 0)
            for id in ["e1", "e2", "e3"] { try await store.append(id, handlers: ["h"]) }
            let claims = Dictionary(uniqueKeysWithValues: try await store.claim("h", limit: 3).map { ($0.event.id, $0) })
            try await store.finish([try #require(claims["e1"])], handler: "h", .dead(error: "one", reason: .permanent))
            try await store.finish([try #require(claims["e2"])], handler: "h", .dead(error: "two", reason: .exhausted))
            try await store.finish([try #require(claims["e3"])], handler: "h", .done)
            try await store.append("e4", handlers: ["h"])
            time.advance(seconds: 5)

            #expect(try await store.replayDead() == 2)
            for id in ["e1", "e2"] {
                let delivery = try #require(try await store.deliveries(of: id).first)
                #expect(delivery.state == .pending && delivery.attempts == 0 && delivery.deadReason == nil)
                #expect(delivery.nextAttemptAt == Moment.after(5))
            }
            #expect(try await store.deliveries(of: "e3").first?.state == .done)
            #expect(try await store.deliveries(of: "e4").first?.nextAttemptAt == Moment.start)
            #expect(try await store.replayDead() == 0)
            #expect(try await store.listEvents(state: .dead, type: nil, limit: 10).isEmpty)
        }
    }

    @Test(arguments: Backend.all) func queueStatusFollowsTheBacklog(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            var status = try await store.queueStatus()
            #expect(status.depth == 0 && status.oldestPendingMs == nil)
            try await store.append("a", handlers: ["audit", "command"])
            try await store.append("a", handlers: ["audit", "command"])
            time.advance(seconds: 1)
            _ = try await store.appendEvents([NewEvent(source: .admin, id: "b", type: .employeeCreated, payload: "{}", handlers: ["command"])])
            status = try await store.queueStatus()
            #expect(status.depth == 3)
            #expect(status.oldestPendingMs == Moment.start.millisecondsSinceEpoch)
            let audit = try await store.claim("audit", limit: 5)
            // Running deliveries count in the backlog, but not as the oldest pending.
            status = try await store.queueStatus()
            #expect(status.depth == 3 && status.oldestPendingMs == Moment.start.millisecondsSinceEpoch)
            try await store.finish(audit, handler: "audit", .dead(error: "no", reason: .permanent))
            status = try await store.queueStatus()
            #expect(status.depth == 2)
            #expect(try await store.replayDead() == 1)
            #expect(try await store.queueStatus().depth == 3)
            #expect(try await store.replay(eventID: "a") == 2)
            #expect(try await store.queueStatus().depth == 3)
            let command = try await store.claim("command", limit: 5)
            #expect(command.count == 2)
            status = try await store.queueStatus()
            #expect(status.depth == 3 && status.oldestPendingMs == Moment.after(1).millisecondsSinceEpoch, "only a's audit delivery is pending")
            try await store.finish(command, handler: "command")
            #expect(try await store.queueStatus().depth == 1)
            #expect(try await tested.count("deliveries", where: "state IN ('pending', 'running')") == 1)
        }
    }
}
