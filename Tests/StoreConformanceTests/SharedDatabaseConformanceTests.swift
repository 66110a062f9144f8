import InletCore
import InletTestSupport
import Synchronization
import Testing

/// Two stores on one database, as two `inlet serve` processes: a claim's fencing holds
/// across them, concurrent claimers never take the same delivery, and one wakes the other
/// when it plans deliveries.
@Suite(.timeLimit(.minutes(2))) struct SharedDatabaseConformanceTests {
    @Test(arguments: Backend.shared) func aLeaseLostToAnotherInstanceFencesTheFirst(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let a = tested.store
            let b = try await tested.openAnother()
            try await a.append("evt-1", handlers: ["command"])
            #expect(try await b.eventRecord(id: "evt-1") != nil, "B sees what A committed")
            let first = try #require(try await a.claim("command", limit: 1, leaseSeconds: 10).first)
            #expect(try await b.claim("command", leaseSeconds: 10).isEmpty, "A's lease holds for B too")
            time.advance(seconds: 11)  // A stalls past its lease
            let second = try #require(try await b.claim("command", limit: 1, leaseSeconds: 10).first)
            #expect(second.deliveryID == first.deliveryID && second.token != first.token && second.attempt == 2)

            #expect(try await a.renewLeases([first], leaseSeconds: 10) == [first.deliveryID])
            #expect(try await a.finish([first], handler: "command", .dead(error: "stale", reason: .permanent)) == [first.deliveryID])
            #expect(try await a.deliveries(of: "evt-1").first?.state == .running)
            #expect(try await b.renewLeases([second], leaseSeconds: 10).isEmpty)
            #expect(try await b.finish([second], handler: "command").isEmpty)
            let delivery = try #require(try await a.deliveries(of: "evt-1").first)
            #expect(delivery.state == .done && delivery.attempts == 2 && delivery.lastError == nil)
            #expect(try await tested.auditRows() == [AuditRow(eventID: "evt-1", handler: "command", outcome: "delivered", detail: "attempt 2")])
            #expect(try await a.queueStatus().depth == 0)
            #expect(try await b.queueStatus().depth == 0)
        }
    }

    @Test(arguments: Backend.shared) func concurrentClaimersOnTwoInstancesNeverTakeTheSameDelivery(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let stores = [tested.store, try await tested.openAnother()]
            let count = 300
            for start in stride(from: 0, to: count, by: 100) {
                _ = try await tested.store.appendEvents((start..<(start + 100)).map {
                    NewEvent(source: .productivity, id: "evt-\($0)", type: .employeeCreated, payload: "{}", handlers: ["h"])
                })
            }
            // Four claimers on each instance, small batches, until nothing is due.
            let claimed = try await withThrowingTaskGroup(of: (instance: Int, claims: [Int64]).self) { group in
                for index in 0..<8 {
                    let store = stores[index % 2]
                    group.addTask {
                        var mine: [Int64] = []
                        for _ in 0..<count {
                            let claims = try await store.claim("h", limit: 7, leaseSeconds: 600)
                            if claims.isEmpty { break }
                            mine += claims.map(\.deliveryID)
                        }
                        return (index % 2, mine)
                    }
                }
                return try await group.reduce(into: [(instance: Int, claims: [Int64])]()) { $0.append($1) }
            }
            let all = claimed.flatMap(\.claims)
            #expect(all.count == count, "claims: \(all.count) for \(count) deliveries")
            #expect(Set(all).count == all.count, "a delivery was claimed twice")
            #expect(try await tested.count("deliveries", where: "state = 'running'") == count)
            #expect(Set(claimed.filter { !$0.claims.isEmpty }.map(\.instance)) == [0, 1], "both instances claimed")
        }
    }

    /// The wake-ups a watcher received, in order (nil: every handler).
    final class Wakes: Sendable {
        private let wakes = Mutex<[[String]?]>([])
        func record(_ handlers: [String]?) { self.wakes.withLock { $0.append(handlers) } }
        var all: [[String]?] { self.wakes.withLock { $0 } }
    }

    @Test(arguments: Backend.shared) func deliveriesPlannedByOneInstanceWakeTheOther(_ backend: Backend) async throws {
        try await backend.withStore { tested in
            let a = tested.store
            let b = try await tested.openAnother()
            let wakes = Wakes()
            let watching = Task { await b.watchForWork { handlers in wakes.record(handlers) } }
            defer { watching.cancel() }
            // Listening starts with a wake of every handler (nothing may have been missed).
            try await eventually("B to listen") { wakes.all.contains { $0 == nil } }
            func woken(_ handler: String) -> Bool { wakes.all.contains { $0?.contains(handler) == true } }

            try await a.append("evt-1", handlers: ["audit", "forward"])
            try await eventually("B to hear of audit's delivery") { woken("audit") && woken("forward") }
            _ = try await a.recordLogin(UserLogin(auth0ID: "auth0|1"), event: NewEvent(source: .auth0, id: "evt-2", type: .userLogin, payload: "{}", handlers: ["metadata-sync"]))
            try await eventually("B to hear of the login's delivery") { woken("metadata-sync") }
            try await a.finish(try await a.claim("forward"), handler: "forward", .dead(error: "no", reason: .permanent))
            #expect(try await a.replayDead() == 1)
            try await eventually("B to hear of the replayed delivery") {
                wakes.all.filter { $0?.contains("forward") == true }.count >= 2
            }
            watching.cancel()
            await watching.value
        }
    }

    @Test(arguments: Backend.shared) func sharedValuesAreUpdatedInTurnsByEveryInstance(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let stores = try [tested.store, try await tested.openAnother()].map { try #require($0 as? any SharedValueStore) }
            // A new key starts empty, and reads the database's (here the injected) clock.
            let first = try await stores[0].updateSharedValue("counter") { value, now in
                defer { value = "0" }
                return (value, now)
            }
            #expect(first.0 == nil && first.1 == time.clock.now().millisecondsSinceEpoch)
            // Eight callers on each instance, each adding one 25 times: no update is lost.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<16 {
                    let store = stores[index % 2]
                    group.addTask {
                        for _ in 0..<25 {
                            try await store.updateSharedValue("counter") { value, _ in value = String(Int(value ?? "")! + 1) }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let total = try await stores[1].updateSharedValue("counter") { value, _ in value }
            #expect(total == "400")
            // Keys are separate; clearing a value makes it nil again.
            #expect(try await stores[1].updateSharedValue("other") { value, _ in value } == nil)
            try await stores[0].updateSharedValue("counter") { value, _ in value = nil }
            #expect(try await stores[1].updateSharedValue("counter") { value, _ in value } == nil)
        }
    }
}
