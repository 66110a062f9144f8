@testable import InletCore
import Testing

@Suite struct RetryPolicyTests {
    static let now = Timestamp(millisecondsSinceEpoch: 1_800_000_000_000)

    /// Eight attempts, backoff 1 s doubling up to 300 s, on a fixed clock.
    static func policy(jitter: @escaping @Sendable (Double) -> Double = { $0 }) -> RetryPolicy {
        var options = HandlerOptions()
        options.maxAttempts = 8
        options.backoffBase = 1
        options.backoffCap = 300
        return RetryPolicy(options: options, jitter: jitter, clock: WallClock { Self.now })
    }

    static func retry(afterSeconds seconds: Double, error: String) -> DeliveryOutcome {
        .retry(at: Self.now.adding(seconds: seconds), error: error)
    }

    @Test func aSuccessIsDone() {
        #expect(Self.policy().outcome(of: .success(()), attempt: 1) == .done)
        #expect(Self.policy().outcome(of: .success(()), attempt: 8) == .done)
    }

    @Test func aPermanentFailureIsDeadAtOnceWhateverTheAttempt() {
        for attempt in [1, 3, 8] {
            #expect(
                Self.policy().outcome(of: .failure(HandlerError.permanent("no such user")), attempt: attempt)
                    == .dead(error: "no such user", reason: .permanent)
            )
        }
    }

    @Test func aTransientFailureBeforeTheLastAttemptIsRetriedWithinTheFullJitterCeiling() {
        // Attempt n waits at most min(cap, base * 2^(n-1)): 1, 2, 4, ... seconds.
        let error = HandlerError.transient("busy")
        for (attempt, ceiling) in [(1, 1.0), (2, 2.0), (3, 4.0), (7, 64.0)] {
            #expect(Self.policy(jitter: { $0 }).outcome(after: error, attempt: attempt) == Self.retry(afterSeconds: ceiling, error: "busy"))
            #expect(Self.policy(jitter: { $0 / 4 }).outcome(after: error, attempt: attempt) == Self.retry(afterSeconds: ceiling / 4, error: "busy"))
            #expect(Self.policy(jitter: { _ in 0 }).outcome(after: error, attempt: attempt) == Self.retry(afterSeconds: 0, error: "busy"))
        }
    }

    @Test func theBackoffCeilingStopsAtTheCap() {
        var options = HandlerOptions()
        options.maxAttempts = 20
        options.backoffBase = 1
        options.backoffCap = 300
        let policy = RetryPolicy(options: options, jitter: { $0 }, clock: WallClock { Self.now })
        #expect(policy.outcome(after: HandlerError.transient("busy"), attempt: 19) == Self.retry(afterSeconds: 300, error: "busy"))
    }

    @Test func retryAfterIsHonouredWhenItIsLongerThanTheJitteredDelay() {
        let slowDown = HandlerError.transient("rate limited", retryAfter: 30)
        #expect(Self.policy(jitter: { _ in 0 }).outcome(after: slowDown, attempt: 1) == Self.retry(afterSeconds: 30, error: "rate limited"))
        // A jittered delay longer than retry-after wins: the handler asked for at least that long.
        let shortWait = HandlerError.transient("rate limited", retryAfter: 0.5)
        #expect(Self.policy(jitter: { $0 }).outcome(after: shortWait, attempt: 4) == Self.retry(afterSeconds: 8, error: "rate limited"))
    }

    @Test func theLastAllowedAttemptIsDeadExhausted() {
        let error = HandlerError.transient("busy", retryAfter: 5)
        #expect(Self.policy().outcome(after: error, attempt: 8) == .dead(error: "busy", reason: .exhausted))
        #expect(Self.policy().outcome(after: error, attempt: 9) == .dead(error: "busy", reason: .exhausted))
        #expect(Self.policy().outcome(after: error, attempt: 7) == Self.retry(afterSeconds: 64, error: "busy"))
    }

    @Test func anyOtherErrorIsTransientAndKeepsItsDescriptionCutTo2000Characters() {
        struct Refused: Error, CustomStringConvertible {
            let description: String
        }
        #expect(Self.policy().outcome(of: .failure(Refused(description: "connection refused")), attempt: 2) == Self.retry(afterSeconds: 2, error: "connection refused"))
        let long = String(repeating: "x", count: 5000)
        #expect(Self.policy().outcome(after: HandlerError.permanent(long), attempt: 1) == .dead(error: String(repeating: "x", count: 2000), reason: .permanent))
    }

    @Test func theDefaultJitterStaysWithinZeroAndItsBound() {
        let jitter = Dispatcher.Options().jitter
        for bound in [0.0, 1, 8, 300] {
            for _ in 0..<100 {
                let delay = jitter(bound)
                #expect(delay >= 0 && delay <= bound)
            }
        }
    }
}
