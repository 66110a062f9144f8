import InletCore
import Testing

@Suite struct BackoffTests {
    @Test func doublesFromTheBaseUpToTheCap() {
        #expect((0...5).map { Backoff.ceiling(retries: $0, base: 1, cap: 300) } == [1, 2, 4, 8, 16, 32])
        #expect(Backoff.ceiling(retries: 9, base: 1, cap: 300) == 300)
        #expect(Backoff.ceiling(retries: 2, base: 0.5, cap: 10) == 2)
    }

    @Test func aHugeRetryCountStaysAtTheCapAndANegativeOneAtTheBase() {
        #expect(Backoff.ceiling(retries: 10_000, base: 1, cap: 300) == 300)
        #expect(Backoff.ceiling(retries: -3, base: 0.5, cap: 10) == 0.5)
    }
}
