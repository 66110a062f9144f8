import InletCore
import InletTestSupport
import Testing

/// Outcomes and leases: done, retry and dead with their audit rows, in one transaction;
/// fencing by the claim's token, so that a worker that lost its lease can neither record
/// nor renew over the newer claim.
@Suite(.timeLimit(.minutes(2))) struct CompletionConformanceTests {
    @Test(arguments: Backend.all) func outcomesAreRecordedWithTheirAuditRows(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            for id in ["a", "b", "c", "d"] { try await store.append(id, handlers: ["h"]) }
            let claims = Dictionary(uniqueKeysWithValues: try await store.claim("h", limit: 4).map { ($0.event.id, $0) })
            time.advance(seconds: 1)
            let lost = try await store.complete([
                Completion(claim: try #require(claims["a"]), handler: "h", outcome: .done, auditOutcome: true,
                           notes: [AuditNote(outcome: "auth0_user_created", detail: "auth0|x")]),
                Completion(claim: try #require(claims["b"]), handler: "h", outcome: .retry(at: Moment.after(30), error: "timeout"), auditOutcome: true),
                Completion(claim: try #require(claims["c"]), handler: "h", outcome: .dead(error: "refused", reason: .permanent), auditOutcome: false,
                           notes: [AuditNote(outcome: "checked", detail: nil)]),
                Completion(claim: try #require(claims["d"]), handler: "h", outcome: .dead(error: "gave up", reason: .exhausted), auditOutcome: true),
            ])
            #expect(lost.isEmpty)

            let a = try #require(try await store.deliveries(of: "a").first)
            #expect(a.state == .done && a.attempts == 1 && a.lastError == nil && a.deadReason == nil)
            #expect(a.updatedAt == Moment.text(after: 1))
            let b = try #require(try await store.deliveries(of: "b").first)
            #expect(b.state == .pending && b.attempts == 1 && b.lastError == "timeout" && b.nextAttemptAt == Moment.after(30))
            let c = try #require(try await store.deliveries(of: "c").first)
            #expect(c.state == .dead && c.lastError == "refused" && c.deadReason == "permanent")
            let d = try #require(try await store.deliveries(of: "d").first)
            #expect(d.state == .dead && d.lastError == "gave up" && d.deadReason == "exhausted")
            #expect(try await tested.auditRows() == [
                AuditRow(eventID: "a", handler: "h", outcome: "auth0_user_created", detail: "auth0|x"),
                AuditRow(eventID: "a", handler: "h", outcome: "delivered", detail: "attempt 1"),
                AuditRow(eventID: "b", handler: "h", outcome: "retry_scheduled", detail: "attempt 1: timeout"),
                AuditRow(eventID: "c", handler: "h", outcome: "checked", detail: nil),
                AuditRow(eventID: "d", handler: "h", outcome: "dead_exhausted", detail: "attempt 1: gave up"),
            ])
            #expect(try await store.queueStatus().depth == 1)

            // The retried one succeeds at its second attempt: its last error goes.
            time.advance(seconds: 29)
            let retried = try await store.claim("h")
            #expect(retried.map(\.event.id) == ["b"] && retried.map(\.attempt) == [2])
            try await store.finish(retried, handler: "h")
            let done = try #require(try await store.deliveries(of: "b").first)
            #expect(done.state == .done && done.attempts == 2 && done.lastError == nil)
            #expect(try await tested.auditRows().last == AuditRow(eventID: "b", handler: "h", outcome: "delivered", detail: "attempt 2"))
            #expect(try await store.queueStatus().depth == 0)
        }
    }

    @Test(arguments: Backend.all) func aWorkerThatLostItsLeaseCannotOverwriteTheNewerClaim(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            try await store.append("evt-1", handlers: ["command"])
            let first = try #require(try await store.claim("command", limit: 1, leaseSeconds: 10).first)
            time.advance(seconds: 11)  // the first worker stalls past its lease
            let second = try #require(try await store.claim("command", limit: 1, leaseSeconds: 10).first)
            #expect(second.deliveryID == first.deliveryID && second.token != first.token && second.attempt == 2)

            // The stale worker can neither renew nor record; the newer claim can.
            #expect(try await store.renewLeases([first], leaseSeconds: 10) == [first.deliveryID])
            #expect(try await store.renewLeases([second], leaseSeconds: 10).isEmpty)
            let stale = Completion(claim: first, handler: "command", outcome: .dead(error: "stale", reason: .permanent), auditOutcome: true,
                                   notes: [AuditNote(outcome: "stale_note", detail: nil)])
            #expect(try await store.complete([stale]) == [first.deliveryID])
            #expect(try await store.deliveries(of: "evt-1").first?.state == .running)
            #expect(try await store.complete([Completion(claim: second, handler: "command", outcome: .done, auditOutcome: true)]).isEmpty)
            #expect(try await store.deliveries(of: "evt-1").first?.state == .done)
            // Once done, the stale outcome still cannot turn it back, nor can the newer claim twice.
            #expect(try await store.complete([stale]) == [first.deliveryID])
            #expect(try await store.finish([second], handler: "command", .retry(at: Moment.after(60), error: "again")) == [second.deliveryID])
            let delivery = try #require(try await store.deliveries(of: "evt-1").first)
            #expect(delivery.state == .done && delivery.lastError == nil)
            #expect(try await tested.auditRows().map(\.outcome) == ["delivered"], "the discarded outcomes left no audit row")
            #expect(try await store.queueStatus().depth == 0)
        }
    }

    @Test(arguments: Backend.all) func oneCallRecordsTheOutcomesThatStillHoldTheirLease(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            try await store.append("short", handlers: ["h"])
            time.advance(seconds: 1)  // due after "short"
            try await store.append("long", handlers: ["h"])
            let short = try #require(try await store.claim("h", limit: 1, leaseSeconds: 5).first)
            let long = try #require(try await store.claim("h", limit: 1, leaseSeconds: 60).first)
            #expect(short.event.id == "short" && long.event.id == "long")
            time.advance(seconds: 6)
            let newer = try #require(try await store.claim("h", limit: 1, leaseSeconds: 60).first)
            #expect(newer.deliveryID == short.deliveryID)
            #expect(try await store.renewLeases([short, long], leaseSeconds: 60) == [short.deliveryID])
            #expect(try await store.finish([short, long], handler: "h") == [short.deliveryID])
            #expect(try await store.deliveries(of: "long").first?.state == .done)
            #expect(try await store.deliveries(of: "short").first?.state == .running)
            #expect(try await tested.auditRows() == [AuditRow(eventID: "long", handler: "h", outcome: "delivered", detail: "attempt 1")])
        }
    }

    @Test(arguments: Backend.all) func aStaleAndACurrentOutcomeOfOneDeliveryInOneCallRecordOnlyTheCurrent(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            try await store.append("evt-1", handlers: ["h"])
            let stale = try #require(try await store.claim("h", limit: 1, leaseSeconds: 5).first)
            time.advance(seconds: 6)
            let current = try #require(try await store.claim("h", limit: 1, leaseSeconds: 60).first)
            #expect(try await store.renewLeases([stale, current], leaseSeconds: 60) == [stale.deliveryID])
            let lost = try await store.complete([
                Completion(claim: stale, handler: "h", outcome: .dead(error: "stale", reason: .permanent), auditOutcome: true,
                           notes: [AuditNote(outcome: "stale_note", detail: nil)]),
                Completion(claim: current, handler: "h", outcome: .done, auditOutcome: true, notes: [AuditNote(outcome: "current_note", detail: nil)]),
            ])
            #expect(lost == [stale.deliveryID], "the stale outcome is reported lost")
            let delivery = try #require(try await store.deliveries(of: "evt-1").first)
            #expect(delivery.state == .done && delivery.lastError == nil && delivery.deadReason == nil)
            #expect(try await tested.auditRows() == [
                AuditRow(eventID: "evt-1", handler: "h", outcome: "current_note", detail: nil),
                AuditRow(eventID: "evt-1", handler: "h", outcome: "delivered", detail: "attempt 2"),
            ], "the stale outcome left no audit row")
        }
    }

    @Test(arguments: Backend.all) func aRenewedLeaseIsNotClaimedUntilItEnds(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            try await store.append("evt-1", handlers: ["h"])
            let claim = try #require(try await store.claim("h", limit: 1, leaseSeconds: 10).first)
            time.advance(seconds: 8)
            #expect(try await store.renewLeases([claim], leaseSeconds: 10).isEmpty)
            time.advance(seconds: 7)  // 15 s: past the first lease, within the renewed one (18 s)
            let next = try await store.claimDue(handler: "h", limit: 1, leaseSeconds: 10, maxAttempts: .max, excluding: [])
            #expect(next.claims.isEmpty)
            #expect(next.nextDue == Moment.after(18))
            time.advance(seconds: 4)
            #expect(try await store.claim("h", limit: 1, leaseSeconds: 10).map(\.attempt) == [2])
            #expect(try await store.renewLeases([claim], leaseSeconds: 10) == [claim.deliveryID])
        }
    }
}
