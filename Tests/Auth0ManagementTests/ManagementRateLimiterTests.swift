@testable import Auth0Management
import HTTPTypes
import InletCore
import InletHTTPClient
import Synchronization
import Testing

/// The shared limiter, on an injected monotonic clock.
@Suite struct ManagementRateLimiterTests {
    final class FakeTime: Sendable {
        let seconds = Mutex(1000.0)
        func advance(_ by: Double) { self.seconds.withLock { $0 += by } }
        var now: Double { self.seconds.withLock { $0 } }
    }

    static let wall = WallClock { Timestamp(millisecondsSinceEpoch: 1_800_000_000_000) }

    func goDelay(_ decision: RateLimiter.Decision) -> Double? {
        if case .go(let delay) = decision { return delay }
        return nil
    }

    @Test func withoutHeadersOneCallAtATimeThenThePaceFollowsTheBucket() {
        let time = FakeTime()
        let limiter = RateLimiter(wallClock: Self.wall, monotonic: { time.now })
        #expect(self.goDelay(limiter.decide()) == 0)
        if case .poll = limiter.decide() {} else { Issue.record("a second call must wait for the first answer") }
        // limit 10, nothing left, full again in 1 s: the provisional pace is 10/s.
        limiter.record(ticket: 0, status: 200, limit: 10, remaining: 0, reset: 1_800_000_001)
        let delay = self.goDelay(limiter.decide())
        #expect(delay != nil && abs(delay! - 0.1) < 1e-9)
        // Queued callers are spaced by the pace, in order.
        let next = self.goDelay(limiter.decide())
        #expect(next != nil && abs(next! - 0.2) < 1e-9)
    }

    @Test func theRateIsLearnedFromRemainingAndAdmittedCalls() {
        let time = FakeTime()
        let limiter = RateLimiter(wallClock: Self.wall, monotonic: { time.now })
        // A tenant refilling 50/s, each call answered with nothing to spare.
        for ticket in 0..<100 {
            _ = limiter.decide()
            time.advance(0.02)
            limiter.record(ticket: UInt64(ticket), status: 200, limit: 10, remaining: 0, reset: 1_800_000_001)
        }
        let rate = limiter.estimatedRate ?? 0
        #expect(abs(rate - 50 * RateLimiter.safety) < 1, "\(rate)")
        // A 429 lowers it and empties the bucket.
        _ = limiter.decide()
        limiter.record(ticket: 100, status: 429, limit: 10, remaining: 0, reset: 1_800_000_001)
        #expect(abs((limiter.estimatedRate ?? 0) - rate * 0.9) < 1e-9)
    }

    @Test func aStaleAnswerDoesNotRefillTheBucket() {
        let time = FakeTime()
        let limiter = RateLimiter(wallClock: Self.wall, monotonic: { time.now })
        _ = limiter.decide()
        limiter.record(ticket: 0, status: 200, limit: 10, remaining: 5, reset: 1_800_000_001)
        _ = limiter.decide()
        _ = limiter.decide()
        // The later call's answer (remaining 3) arrives before the earlier one's (4).
        limiter.record(ticket: 2, status: 200, limit: 10, remaining: 3, reset: 1_800_000_001)
        limiter.record(ticket: 1, status: 200, limit: 10, remaining: 4, reset: 1_800_000_001)
        // Three left, less the earlier call still unanswered when the newest answer came
        // (counted twice: the safe side); the stale answer changes nothing.
        for _ in 0..<2 { #expect(self.goDelay(limiter.decide()) == 0) }
        #expect((self.goDelay(limiter.decide()) ?? 0) > 0)
    }

    /// A ``SharedValueStore`` in memory, on the fake clock: what two instances on one
    /// database see.
    final class MemorySharedValues: SharedValueStore {
        let values = Mutex<[String: String]>([:])
        let time: FakeTime
        init(time: FakeTime) { self.time = time }

        func updateSharedValue<T: Sendable>(_ key: String, _ body: @escaping @Sendable (inout String?, Int64) throws -> T) async throws -> T {
            try self.values.withLock { values in
                var value = values[key]
                let result = try body(&value, Int64(self.time.now * 1000))
                values[key] = value
                return result
            }
        }
    }

    static func answer(remaining: Int, limit: Int = 10) -> OutboundResponse {
        OutboundResponse(
            status: 200,
            headers: [
                HTTPField.Name("x-ratelimit-limit")!: String(limit), HTTPField.Name("x-ratelimit-remaining")!: String(remaining),
                HTTPField.Name("x-ratelimit-reset")!: "1800000001",
            ],
            body: []
        )
    }

    @Test func instancesSharingTheStateSpendTheTenantsTokensOnce() async throws {
        let time = FakeTime()
        let shared = MemorySharedValues(time: time)
        let a = RateLimiter(wallClock: Self.wall, shared: shared, key: "tenant")
        let b = RateLimiter(wallClock: Self.wall, shared: shared, key: "tenant")
        #expect(a.isShared)
        #expect(try await a.acquire() == 0)
        await a.record(Self.answer(remaining: 3), ticket: 0)
        // B sees what A learned: three tokens, spent once between them, tickets in one order.
        #expect(try await b.acquire() == 1)
        #expect(try await a.acquire() == 2)
        #expect(try await b.acquire() == 3)
        var state = try #require(shared.values.withLock { $0["tenant"] }.flatMap(RateLimiter.State.init(json:)))
        #expect(state.tokens == 0 && state.pending == 3 && state.nextTicket == 4 && state.limit == 10)
        // A fourth call now waits for a token: none is left for either instance.
        if case .go(let delay) = RateLimiter.decide(&state, now: time.now) {
            #expect(delay > 0)
        } else {
            Issue.record("expected a paced go")
        }
        // A reservation whose instance died is dropped once nothing was answered for long.
        await b.abandon()
        time.advance(RateLimiter.staleReservation + 1)
        var stale = try #require(shared.values.withLock { $0["tenant"] }.flatMap(RateLimiter.State.init(json:)))
        #expect(stale.pending == 2)
        _ = RateLimiter.decide(&stale, now: time.now)
        #expect(stale.pending == 1, "the stale two dropped, this call's reserved")
    }
}
