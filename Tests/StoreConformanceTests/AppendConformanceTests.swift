import InletCore
import InletTestSupport
import Testing

/// Appending events: one transaction per batch, dedupe on `(source, id)`, one delivery per
/// named handler; reading events back by id and in lists.
@Suite(.timeLimit(.minutes(2))) struct AppendConformanceTests {
    @Test(arguments: Backend.all) func aBatchIsStoredWithOneDeliveryPerHandler(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            let payload = #"{"name":"Zoë \"Z\" O'Neil","emoji":"🦊"}"#
            let results = try await store.appendEvents([
                NewEvent(source: .productivity, id: "evt-1", type: .employeeCreated, payload: payload, handlers: ["audit", "command"]),
                NewEvent(source: .admin, id: "evt-2", type: .employeeProvision, payload: "{}", handlers: ["provisioning"]),
                NewEvent(source: .productivity, id: "evt-3", type: .employeeUpdated, payload: "{}", handlers: []),
            ])
            #expect(results.map(\.eventID) == ["evt-1", "evt-2", "evt-3"])
            #expect(results.map(\.duplicate) == [false, false, false])
            #expect(results.map(\.handlers) == [["audit", "command"], ["provisioning"], []])
            #expect(results[0].seq < results[1].seq && results[1].seq < results[2].seq, "seqs follow the batch's order: \(results.map(\.seq))")

            let record = try #require(try await store.eventRecord(id: "evt-1"))
            #expect(record.event == Event(seq: results[0].seq, source: "productivity", id: "evt-1", type: "employee.created",
                                          receivedAt: Moment.startText, payload: payload))
            #expect(record.deliveries.map(\.handler) == ["audit", "command"])
            for delivery in record.deliveries {
                #expect(delivery.state == .pending && delivery.attempts == 0)
                #expect(delivery.nextAttemptAt == Moment.start)
                #expect(delivery.lastError == nil && delivery.deadReason == nil)
                #expect(delivery.updatedAt == Moment.startText)
            }
            #expect(Set(record.deliveries.map(\.id)).count == 2)
            #expect(try await store.deliveries(of: "evt-3").isEmpty)
            #expect(try await tested.count("events") == 3)
            #expect(try await tested.count("deliveries") == 3)
        }
    }

    @Test(arguments: Backend.all) func aRepeatedSourceAndIDIsADuplicateThatPlansNothing(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            let first = try await store.append("evt-1", handlers: ["audit"])
            time.advance(seconds: 5)
            // Again, later, with another payload and other handlers: nothing changes.
            let again = try await store.append("evt-1", handlers: ["audit", "command"], payload: #"{"other":true}"#)
            #expect(!first.duplicate && again.duplicate)
            #expect(again.seq == first.seq && again.eventID == "evt-1")
            #expect(again.handlers.isEmpty)
            let record = try #require(try await store.eventRecord(id: "evt-1"))
            #expect(record.event.payload == "{}" && record.event.receivedAt == Moment.startText)
            #expect(record.deliveries.map(\.handler) == ["audit"])

            // Within one batch too: the second of two identical events is the duplicate.
            let batch = try await store.appendEvents([
                NewEvent(source: .admin, id: "evt-2", type: .employeeProvision, payload: "{}", handlers: ["provisioning"]),
                NewEvent(source: .admin, id: "evt-2", type: .employeeProvision, payload: "{}", handlers: ["provisioning"]),
            ])
            #expect(batch.map(\.duplicate) == [false, true])
            #expect(batch[0].seq == batch[1].seq)
            // The same id from another source is another event.
            let other = try await store.append("evt-1", handlers: ["audit"], source: .admin)
            #expect(!other.duplicate && other.seq != first.seq)
            #expect(try await tested.count("events") == 3)
            #expect(try await tested.count("deliveries") == 3)
        }
    }

    @Test(arguments: Backend.all) func aBatchThatFailsStoresNothing(_ backend: Backend) async throws {
        try await backend.withStore { (tested: TestedStore) async throws in
            let store = tested.store
            // The second event names a handler twice: its deliveries break the one-per-handler rule.
            await #expect(throws: (any Error).self) {
                _ = try await store.appendEvents([
                    NewEvent(source: .productivity, id: "evt-ok", type: .employeeCreated, payload: "{}", handlers: ["audit"]),
                    NewEvent(source: .productivity, id: "evt-bad", type: .employeeCreated, payload: "{}", handlers: ["audit", "audit"]),
                ])
            }
            #expect(try await store.eventRecord(id: "evt-ok") == nil)
            #expect(try await tested.count("events") == 0)
            #expect(try await tested.count("deliveries") == 0)
            // The store goes on working.
            #expect(try await !store.append("evt-ok", handlers: ["audit"]).duplicate)
        }
    }

    @Test(arguments: Backend.all) func manyConcurrentAppendsOfOneEventStoreItOnce(_ backend: Backend) async throws {
        try await backend.withStore { tested in
            let store = tested.store
            let results = try await withThrowingTaskGroup(of: AppendResult.self) { group in
                for _ in 0..<64 {
                    group.addTask { try await store.append("evt-race", handlers: ["audit", "command"]) }
                }
                return try await group.reduce(into: [AppendResult]()) { $0.append($1) }
            }
            #expect(results.count == 64)
            #expect(results.filter { !$0.duplicate }.count == 1, "exactly one append stored the event")
            #expect(Set(results.map(\.seq)).count == 1, "every append names the same event")
            #expect(results.filter { !$0.duplicate }.first?.handlers == ["audit", "command"])
            #expect(try await tested.count("events") == 1)
            #expect(try await tested.count("deliveries") == 2)
            #expect(try await store.queueStatus().depth == 2)
        }
    }

    @Test(arguments: Backend.all) func anUnknownEventHasNoRecord(_ backend: Backend) async throws {
        try await backend.withStore { tested in
            #expect(try await tested.store.eventRecord(id: "nope") == nil)
            try await tested.store.append("evt-1", handlers: [])
            #expect(try await tested.store.eventRecord(id: "evt-2") == nil)
            #expect(try await tested.store.eventRecord(id: "evt-1")?.event.id == "evt-1")
        }
    }

    @Test(arguments: Backend.all) func anIDUsedByTwoSourcesReadsAsTheFirstStored(_ backend: Backend) async throws {
        try await backend.withStore { tested in
            try await tested.store.append("shared", handlers: [], source: .productivity)
            try await tested.store.append("shared", handlers: [], source: .admin)
            #expect(try await tested.store.eventRecord(id: "shared")?.event.source == "productivity")
        }
    }

    @Test(arguments: Backend.all) func eventsAreListedNewestFirstByStateAndType(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            // e1 created (audit done), e2 updated (audit dead), e3 created (audit running),
            // e4 updated (audit pending), e5 created (no deliveries).
            for (id, type) in [("e1", EventType.employeeCreated), ("e2", .employeeUpdated), ("e3", .employeeCreated)] {
                try await store.append(id, handlers: ["audit"], type: type)
            }
            let claims = Dictionary(uniqueKeysWithValues: try await store.claim("audit", limit: 3).map { ($0.event.id, $0) })
            #expect(claims.keys.sorted() == ["e1", "e2", "e3"])
            try await store.finish([try #require(claims["e1"])], handler: "audit", .done)
            try await store.finish([try #require(claims["e2"])], handler: "audit", .dead(error: "refused", reason: .permanent))
            try await store.append("e4", handlers: ["audit"], type: .employeeUpdated)
            try await store.append("e5", handlers: [], type: .employeeCreated)

            func ids(_ state: DeliveryState?, _ type: String?, limit: Int = 50) async throws -> [String] {
                try await store.listEvents(state: state, type: type, limit: limit).map(\.event.id)
            }
            #expect(try await ids(nil, nil) == ["e5", "e4", "e3", "e2", "e1"])
            #expect(try await ids(nil, nil, limit: 2) == ["e5", "e4"])
            #expect(try await ids(nil, "employee.created") == ["e5", "e3", "e1"])
            #expect(try await ids(nil, "employee.created", limit: 1) == ["e5"])
            #expect(try await ids(.done, nil) == ["e1"])
            #expect(try await ids(.dead, nil) == ["e2"])
            #expect(try await ids(.running, nil) == ["e3"])
            #expect(try await ids(.pending, nil) == ["e4"])
            #expect(try await ids(.dead, "employee.created").isEmpty)
            #expect(try await ids(.dead, "employee.updated") == ["e2"])
            #expect(try await ids(nil, "no.such.type").isEmpty)

            // A listed event carries its deliveries.
            let listed = try await store.listEvents(state: .dead, type: nil, limit: 10)
            #expect(listed.first?.deliveries.map(\.state) == [.dead])
            #expect(listed.first?.deliveries.first?.lastError == "refused")
            #expect(listed.first?.deliveries.first?.deadReason == "permanent")
        }
    }

    @Test(arguments: Backend.all) func aWritableStoreSaysSo(_ backend: Backend) async throws {
        try await backend.withStore { tested in
            try await tested.store.checkWritable()
            #expect(tested.store.failure == nil)
        }
    }
}
