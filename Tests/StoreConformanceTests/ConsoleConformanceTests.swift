import InletCore
import InletTestSupport
import Testing

/// What the operator console reads and does, on each store: attempt history, event
/// search, dead-letter groups and their replay, handler pause, queue counts and activity.
@Suite(.timeLimit(.minutes(3))) struct ConsoleConformanceTests {
    @Test(arguments: Backend.all) func everyAttemptIsRecordedWithItsOutcome(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            try await store.append("evt-1", handlers: ["a"])
            // 1: fails, retry in 5 s, with an error longer than an excerpt (2-byte characters).
            let long = String(repeating: "é", count: 1500)
            var claims = try await store.claim("a")
            #expect(try await store.complete([
                Completion(
                    claim: claims[0], handler: "a", outcome: .retry(at: Moment.after(5), error: long), startedAt: Moment.after(0),
                    finishedAt: Moment.after(0.25), instance: "host-a:1"
                )
            ]).isEmpty)
            time.advance(seconds: 5)
            // 2: fails again, retry in 10 s.
            claims = try await store.claim("a")
            try await store.finish(claims, handler: "a", .retry(at: Moment.after(15), error: "HTTP 503 from upstream"))
            time.advance(seconds: 10)
            // 3: delivered.
            claims = try await store.claim("a")
            #expect(claims.map(\.attempt) == [3])
            try await store.finish(claims, handler: "a")

            let delivery = try #require(try await store.eventRecord(id: "evt-1")?.deliveries.first)
            let history = delivery.attemptHistory
            try #require(history.count == 3)
            #expect(history.map(\.attempt) == [1, 2, 3])
            #expect(history.map(\.outcome) == ["retry", "retry", "done"])
            #expect(history.map(\.nextAttemptAt) == [Moment.after(5), Moment.after(15), nil])
            #expect(history.allSatisfy { $0.deliveryID == delivery.id })
            #expect(history[0].instance == "host-a:1" && history[0].startedAt == Moment.after(0) && history[0].finishedAt == Moment.after(0.25))
            // Without times given, the store's clock at the outcome.
            #expect(history[1].startedAt == Moment.after(5) && history[1].finishedAt == Moment.after(5))
            #expect(history[0].error == String(repeating: "é", count: 1024), "cut at 2 KiB on a character boundary")
            #expect(history[1].error == "HTTP 503 from upstream" && history[2].error == nil)
            // Lists carry no history.
            #expect(try await store.searchEvents(EventQuery()).records.first?.deliveries.first?.attemptHistory == [])
        }
    }

    @Test func anErrorExcerptNeverSplitsACharacter() {
        #expect(AttemptRecord.excerpt("abc", maxBytes: 2) == "ab")
        #expect(AttemptRecord.excerpt("aé", maxBytes: 2) == "a")
        #expect(AttemptRecord.excerpt("a😀b", maxBytes: 4) == "a")
        #expect(AttemptRecord.excerpt("a😀b", maxBytes: 5) == "a😀")
        #expect(AttemptRecord.excerpt("short") == "short")
    }

    @Test(arguments: Backend.all) func aStaleOutcomeRecordsNoAttempt(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            try await store.append("evt-1", handlers: ["a"])
            let stale = try await store.claim("a", leaseSeconds: 1)
            time.advance(seconds: 2)
            let fresh = try await store.claim("a", leaseSeconds: 60)
            #expect(fresh.map(\.attempt) == [2])
            #expect(try await store.finish(stale, handler: "a") == [stale[0].deliveryID])
            #expect(try await tested.count("delivery_attempts") == 0)
            try await store.finish(fresh, handler: "a")
            #expect(try await store.eventRecord(id: "evt-1")?.deliveries.first?.attemptHistory.map(\.attempt) == [2])
        }
    }

    @Test(arguments: Backend.all) func retentionRemovesAttemptsAndSubjectsWithTheirEvent(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            _ = try await store.appendEvents([
                NewEvent(source: .productivity, id: "old", type: .employeeCreated, payload: "{}", handlers: ["a"], subjects: ["42"])
            ])
            try await store.finish(try await store.claim("a"), handler: "a")
            #expect(try await tested.count("delivery_attempts") == 1)
            time.advance(seconds: 86_400 * 2)
            #expect(try await store.purgeEvents(receivedBefore: Moment.after(86_400), includingDead: false, limit: 10) == 1)
            #expect(try await tested.count("delivery_attempts") == 0)
            #expect(try await tested.count("event_subjects") == 0)
            #expect(try await store.searchEvents(EventQuery(search: "42")).records.isEmpty)
        }
    }

    @Test(arguments: Backend.all) func eventsAreSearchedByFilterNewestFirstAndPagedStablyUnderNewArrivals(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            func event(_ id: String, _ source: EventSource = .productivity, _ type: EventType = .employeeCreated, handlers: [String], subjects: [String] = [], headers: [(String, String)] = []) -> NewEvent {
                NewEvent(source: source, id: id, type: type, payload: "{}", handlers: handlers, headers: headers, subjects: subjects)
            }
            _ = try await store.appendEvents([
                event("e1", handlers: ["a", "b"], subjects: ["42", "ada@example.com"], headers: [("content-type", "application/json")])
            ])
            time.advance(seconds: 60)
            _ = try await store.appendEvents([event("e2", .admin, .employeeProvision, handlers: ["b"], subjects: ["43"])])
            time.advance(seconds: 60)
            _ = try await store.appendEvents([event("e3", .auth0, .userLogin, handlers: ["a"])])
            time.advance(seconds: 60)
            _ = try await store.appendEvents([event("e4", handlers: ["a"], subjects: ["42"])])
            // a: e1 dead, e3 done, e4 pending; b: e1 done, e2 pending.
            let aClaims = try await store.claim("a", limit: 2)  // e1, e3 (oldest due first)
            try await store.finish(aClaims.filter { $0.event.id == "e1" }, handler: "a", .dead(error: "refused", reason: .permanent))
            try await store.finish(aClaims.filter { $0.event.id == "e3" }, handler: "a")
            try await store.finish(try await store.claim("b", limit: 1), handler: "b")

            func ids(_ query: EventQuery) async throws -> [String] {
                try await store.searchEvents(query).records.map(\.event.id)
            }
            #expect(try await ids(EventQuery()) == ["e4", "e3", "e2", "e1"])
            #expect(try await ids(EventQuery(source: "admin")) == ["e2"])
            #expect(try await ids(EventQuery(type: "employee.created")) == ["e4", "e1"])
            #expect(try await ids(EventQuery(state: .dead)) == ["e1"])
            #expect(try await ids(EventQuery(state: .pending)) == ["e4", "e2"])
            #expect(try await ids(EventQuery(state: .pending, handler: "b")) == ["e2"])
            #expect(try await ids(EventQuery(state: .done)) == ["e3", "e1"])
            #expect(try await ids(EventQuery(state: .done, handler: "a")) == ["e3"])
            #expect(try await ids(EventQuery(handler: "b")) == ["e2", "e1"])
            #expect(try await ids(EventQuery(receivedFrom: Moment.after(60), receivedBefore: Moment.after(180))) == ["e3", "e2"])
            #expect(try await ids(EventQuery(receivedFrom: Moment.after(500))) == [])
            #expect(try await ids(EventQuery(search: "e3")) == ["e3"])
            #expect(try await ids(EventQuery(search: "42")) == ["e4", "e1"])
            #expect(try await ids(EventQuery(search: " Ada@Example.com ")) == ["e1"])
            #expect(try await ids(EventQuery(type: "employee.created", search: "42")) == ["e4", "e1"])
            #expect(try await ids(EventQuery(search: "nobody")) == [])
            #expect(try await store.searchEvents(EventQuery(search: "e1")).records.first?.headers.map { "\($0.0)=\($0.1)" } == ["content-type=application/json"])

            // Pages of 2, with new events arriving between them.
            let first = try await store.searchEvents(EventQuery(limit: 2))
            #expect(first.records.map(\.event.id) == ["e4", "e3"])
            let cursor = try #require(first.nextCursor)
            _ = try await store.appendEvents([event("e5", handlers: ["a"]), event("e6", handlers: ["a"])])
            let second = try await store.searchEvents(EventQuery(cursor: cursor, limit: 2))
            #expect(second.records.map(\.event.id) == ["e2", "e1"])
            if let end = second.nextCursor {
                #expect(try await store.searchEvents(EventQuery(cursor: end, limit: 2)).records.isEmpty)
            }
            await #expect(throws: EventQueryError.self) { try await store.searchEvents(EventQuery(cursor: "not-a-cursor")) }
        }
    }

    @Test(arguments: Backend.all) func aSubjectIsFoundAmongThousandsOfLaterEvents(_ backend: Backend) async throws {
        try await backend.withStore(clock: Moment.clock().clock) { tested in
            let store = tested.store
            // More events than one block of SQLite's subject index (256 seqs), the searched
            // ones first, in the middle and last.
            let events = (0..<1_000).map { index in
                NewEvent(
                    source: .productivity, id: "bulk-\(index)", type: .employeeCreated, payload: "{}",
                    subjects: [index % 500 == 0 || index == 999 ? "emp-7" : "emp-x\(index)"]
                )
            }
            _ = try await store.appendEvents(events)
            #expect(try await store.searchEvents(EventQuery(search: "EMP-7")).records.map(\.event.id) == ["bulk-999", "bulk-500", "bulk-0"])
            #expect(try await store.searchEvents(EventQuery(search: "emp-x1")).records.map(\.event.id) == ["bulk-1"])
        }
    }

    @Test(arguments: Backend.all) func deadLettersAreGroupedByNormalisedErrorAndReplayedByGroup(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            let errors = [
                "timeout after 3012 ms calling user 81", "timeout after 2998 ms calling user 7",
                "account \"ada@example.com\" exists (id 5f0c2a9e-1b2c-4d3e-8f90-aa11bb22cc33)",
            ]
            for (index, error) in errors.enumerated() {
                try await store.append("evt-\(index)", handlers: ["a"])
                try await store.finish(try await store.claim("a"), handler: "a", .dead(error: error, reason: .permanent))
                time.advance(seconds: 10)
            }
            try await store.append("evt-b", handlers: ["b"])
            try await store.finish(try await store.claim("b"), handler: "b", .dead(error: "timeout after 1 ms calling user 1", reason: .exhausted))

            let groups = try await store.deadLetterGroups(limit: 10)
            #expect(groups.count == 3)
            let timeout = try #require(groups.first)
            #expect(timeout.handler == "a" && timeout.count == 2)
            #expect(timeout.errorKey == "timeout after <n> ms calling user <n>")
            #expect(timeout.firstSeen == Moment.after(0) && timeout.lastSeen == Moment.after(10))
            #expect(errors.prefix(2).contains(timeout.sampleError))
            #expect(groups.contains { $0.handler == "a" && $0.errorKey == "account \"…\" exists (id <uuid>)" && $0.count == 1 })

            #expect(try await store.replayDead(handler: "a", errorKey: timeout.errorKey) == 2)
            #expect(try await store.deadLetterGroups(limit: 10).map(\.count) == [1, 1])
            #expect(try await store.claim("a").map(\.event.id).sorted() == ["evt-0", "evt-1"])
            // One handler's delivery of one event.
            try await store.append("evt-ab", handlers: ["a", "b"])
            #expect(try await store.replay(eventID: "evt-b", handler: "b") == 1)
            #expect(try await store.replay(eventID: "nope", handler: "b") == nil)
            #expect(try await store.deliveries(of: "evt-b").first?.state == .pending)
        }
    }

    @Test(arguments: Backend.all) func aPausedHandlerClaimsNothingAcrossARestartUntilResumed(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            try await tested.store.setPaused(true, handler: "a")
            try await tested.store.append("evt-1", handlers: ["a", "b"])
            let paused = try await tested.store.claimDue(handler: "a", limit: 10, leaseSeconds: 60, maxAttempts: 5, excluding: [])
            #expect(paused.claims.isEmpty)
            #expect(try await tested.store.claim("b").count == 1, "other handlers run")

            let store = try await tested.reopen()
            #expect(try await store.pausedHandlers() == ["a"])
            #expect(try await store.claim("a").isEmpty)
            #expect(try await store.deliveries(of: "evt-1").first { $0.handler == "a" }?.state == .pending)
            let counts = try await store.handlerCounts()
            #expect(counts.first { $0.handler == "a" } == HandlerQueueCounts(handler: "a", pending: 1, running: 0, dead: 0, oldestDueAt: Moment.start, paused: true))
            #expect(counts.first { $0.handler == "b" } == HandlerQueueCounts(handler: "b", pending: 0, running: 1, dead: 0, oldestDueAt: nil, paused: false))

            try await store.setPaused(false, handler: "a")
            #expect(try await store.pausedHandlers() == [])
            #expect(try await store.claim("a").count == 1)
        }
    }

    @Test(arguments: Backend.shared) func aPauseHoldsForEveryInstance(_ backend: Backend) async throws {
        try await backend.withStore { tested in
            let other = try await tested.openAnother()
            try await tested.store.setPaused(true, handler: "a")
            try await tested.store.append("evt-1", handlers: ["a"])
            #expect(try await other.claim("a").isEmpty)
            try await other.setPaused(false, handler: "a")
            #expect(try await tested.store.claim("a").count == 1)
        }
    }

    @Test(arguments: Backend.all) func activityCountsReceivedAndDeliveredPerSlice(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            try await store.append("old", handlers: ["a"])
            time.advance(seconds: 120)
            try await store.append("e1", handlers: ["a"])
            try await store.append("e2", handlers: ["a"])
            try await store.finish(try await store.claim("a"), handler: "a")
            time.advance(seconds: 60)
            try await store.append("e3", handlers: ["a"])
            let since = Moment.after(120)
            let buckets = try await store.activity(since: since, bucketSeconds: 60)
            let start = since.millisecondsSinceEpoch / 60_000 * 60_000
            #expect(buckets.first?.start == Timestamp(millisecondsSinceEpoch: start))
            #expect(buckets.map(\.received).reduce(0, +) == 3)
            #expect(buckets.map(\.delivered).reduce(0, +) == 3, "old, e1 and e2 were delivered at +120 s")
            #expect(buckets.count == 2)
        }
    }
}
