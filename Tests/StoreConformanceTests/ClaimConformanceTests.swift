import InletCore
import InletTestSupport
import Testing

/// Claims: due deliveries taken in due order under a lease with a fresh token, what is
/// excluded or still leased left alone, the next due time when nothing is due, and
/// deliveries abandoned `maxAttempts` times dead-lettered.
@Suite(.timeLimit(.minutes(2))) struct ClaimConformanceTests {
    @Test(arguments: Backend.all) func claimsTakeDueDeliveriesInDueOrderUpToTheLimit(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            for id in ["e1", "e2", "e3", "e4", "e5"] { try await store.append(id, handlers: ["h"]) }
            try await store.append("other", handlers: ["other"])

            let first = try await store.claim("h", limit: 10, leaseSeconds: 60)
            #expect(first.map(\.event.id).sorted() == ["e1", "e2", "e3", "e4", "e5"], "another handler's delivery is not claimed")
            #expect(first.allSatisfy { $0.attempt == 1 })
            #expect(Set(first.map(\.token)).count == 5 && Set(first.map(\.deliveryID)).count == 5)
            let record = try #require(try await store.eventRecord(id: "e1"))
            let claimOfE1 = try #require(first.first { $0.event.id == "e1" })
            #expect(claimOfE1.event == record.event, "a claim carries its event as stored")
            #expect(claimOfE1.deliveryID == record.deliveries.first?.id)
            #expect(record.deliveries.first?.state == .running && record.deliveries.first?.attempts == 1)

            // Due again at different times, in an order unlike the events'.
            let due: [String: Double] = ["e1": 50, "e2": 10, "e3": 40, "e4": 20, "e5": 30]
            try await store.complete(first.map { claim in
                Completion(claim: claim, handler: "h", outcome: .retry(at: Moment.after(due[claim.event.id]!), error: "later"))
            })
            var next = try await store.claimDue(handler: "h", limit: 10, leaseSeconds: 60, maxAttempts: .max, excluding: [])
            #expect(next.claims.isEmpty)
            #expect(next.nextDue == Moment.after(10))

            time.advance(seconds: 35)
            let earliest = try await store.claim("h", limit: 2, leaseSeconds: 60)
            #expect(Set(earliest.map(\.event.id)) == ["e2", "e4"], "the limit takes the earliest due")
            #expect(earliest.allSatisfy { $0.attempt == 2 })
            #expect(try await store.claim("h", limit: 10, leaseSeconds: 60).map(\.event.id) == ["e5"])
            next = try await store.claimDue(handler: "h", limit: 10, leaseSeconds: 60, maxAttempts: .max, excluding: [])
            #expect(next.claims.isEmpty)
            #expect(next.nextDue == Moment.after(40), "e3, the next pending one")
            #expect(try await store.deliveries(of: "e3").first?.nextAttemptAt == Moment.after(40))
        }
    }

    @Test(arguments: Backend.all) func nothingDueSaysWhenTheNextIsOrThatThereIsNone(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            var next = try await store.claimDue(handler: "h", limit: 5, leaseSeconds: 30, maxAttempts: .max, excluding: [])
            #expect(next.claims.isEmpty && next.nextDue == nil)
            try await store.append("e1", handlers: ["h"])
            #expect(try await store.claim("h", leaseSeconds: 30).count == 1)
            // Only a running delivery: the next due time is the end of its lease.
            next = try await store.claimDue(handler: "h", limit: 5, leaseSeconds: 30, maxAttempts: .max, excluding: [])
            #expect(next.claims.isEmpty && next.nextDue == Moment.after(30))
            time.advance(seconds: 29)
            #expect(try await store.claim("h").isEmpty, "the lease still holds")
            time.advance(seconds: 2)
            let again = try await store.claim("h", leaseSeconds: 30)
            #expect(again.map(\.attempt) == [2], "an expired lease is claimed again")
            try await store.finish(again, handler: "h")
            next = try await store.claimDue(handler: "h", limit: 5, leaseSeconds: 30, maxAttempts: .max, excluding: [])
            #expect(next.claims.isEmpty && next.nextDue == nil, "done deliveries are never due")
        }
    }

    @Test(arguments: Backend.all) func excludedDeliveriesAreNeverClaimed(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            for id in ["e1", "e2", "e3"] { try await store.append(id, handlers: ["h"]) }
            let e1 = try #require(try await store.deliveries(of: "e1").first?.id)
            let claims = try await store.claim("h", limit: 2, excluding: [e1])
            #expect(claims.map(\.event.id).sorted() == ["e2", "e3"], "the limit counts the deliveries claimed, not the excluded")
            #expect(try await store.claim("h", excluding: [e1]).isEmpty)
            #expect(try await store.claim("h").map(\.event.id) == ["e1"])
        }
    }

    @Test(arguments: Backend.all) func aWorkerNeverClaimsADeliveryItIsStillRunning(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            try await store.append("evt-1", handlers: ["command"])
            let first = try #require(try await store.claim("command", limit: 1, leaseSeconds: 5).first)
            time.advance(seconds: 6)
            let again = try await store.claimDue(handler: "command", limit: 1, leaseSeconds: 5, maxAttempts: 8, excluding: [first.deliveryID])
            #expect(again.claims.isEmpty)
        }
    }

    @Test(arguments: Backend.all) func aDeliveryThatKeepsKillingItsProcessIsDeadLetteredAfterItsAttempts(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            try await store.append("evt-1", handlers: ["command"])
            // Three claims, and each time the process dies: no outcome, the lease runs out.
            for attempt in 1...3 {
                let claims = try await store.claim("command", limit: 1, leaseSeconds: 5, maxAttempts: 3)
                #expect(claims.map(\.attempt) == [attempt])
                time.advance(seconds: 6)
            }
            #expect(try await store.queueStatus().depth == 1)
            #expect(try await store.claim("command", limit: 1, leaseSeconds: 5, maxAttempts: 3).isEmpty)
            let dead = try #require(try await store.deliveries(of: "evt-1").first)
            let error = "no outcome after 3 attempts (the process stopped while running it)"
            #expect(dead.state == .dead && dead.attempts == 3)
            #expect(dead.lastError == error && dead.deadReason == "exhausted")
            #expect(dead.updatedAt == Moment.text(after: 18))
            #expect(try await store.queueStatus().depth == 0)
            #expect(try await tested.auditRows() == [AuditRow(eventID: "evt-1", handler: "command", outcome: "dead_exhausted", detail: error)])
            #expect(try await store.listEvents(state: .dead, type: nil, limit: 10).map(\.event.id) == ["evt-1"])
        }
    }

    @Test(arguments: Backend.all) func aClaimThatOnlyDeadLettersSaysWhenTheNextIsDue(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            try await store.append("abandoned", handlers: ["h"])
            #expect(try await store.claim("h", limit: 1, leaseSeconds: 5, maxAttempts: 1).count == 1)
            try await store.append("later", handlers: ["h"])
            let later = try #require(try await store.claim("h", limit: 1, leaseSeconds: 5).first)
            try await store.complete([Completion(claim: later, handler: "h", outcome: .retry(at: Moment.after(100), error: "wait"))])
            time.advance(seconds: 6)
            // The first delivery's lease ran out after its only attempt: it is dead-lettered,
            // nothing is claimed, and the answer says when the next delivery is due.
            let next = try await store.claimDue(handler: "h", limit: 5, leaseSeconds: 5, maxAttempts: 1, excluding: [])
            #expect(next.claims.isEmpty)
            #expect(next.nextDue == Moment.after(100))
            #expect(try await store.deliveries(of: "abandoned").first?.state == .dead)
        }
    }

    @Test(arguments: Backend.all) func attemptsWithOutcomesAreNotAbandoned(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            try await store.append("evt-1", handlers: ["h"])
            // Three attempts that each asked for a retry: the retry policy decides, not the claim.
            for attempt in 1...3 {
                let claims = try await store.claim("h", limit: 1, leaseSeconds: 5, maxAttempts: 3)
                #expect(claims.map(\.attempt) == [attempt])
                try await store.complete(claims.map { Completion(claim: $0, handler: "h", outcome: .retry(at: Moment.after(Double(attempt)), error: "busy")) })
                time.advance(seconds: 1)
            }
            #expect(try await store.claim("h", limit: 1, leaseSeconds: 5, maxAttempts: 3).map(\.attempt) == [4])
        }
    }
}
