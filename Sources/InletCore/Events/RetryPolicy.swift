/// Decides what becomes of one attempt of a delivery: done, retried later, or dead-lettered.
///
/// A success is done. A permanent ``HandlerError`` is dead at once (`permanent`); a
/// transient failure on the last allowed attempt is dead too (`exhausted`). Any other
/// failure is retried after a full-jitter backoff: attempt n waits a random time in
/// [0, min(cap, base·2^(n-1))], or the handler's `retryAfter` when that is longer. The
/// jitter source and the clock are injected, so tests fix both.
///
/// ```swift
/// let policy = RetryPolicy(options: entry.options, jitter: { $0 }, clock: clock)
/// policy.outcome(of: .failure(HandlerError.transient("busy")), attempt: 1)  // .retry(at: now + 1 s, …)
/// ```
struct RetryPolicy: Sendable {
    let maxAttempts: Int
    let backoffBase: Double
    let backoffCap: Double
    /// Returns a number in [0, upperBound].
    let jitter: @Sendable (Double) -> Double
    let clock: WallClock

    init(options: HandlerOptions, jitter: @escaping @Sendable (Double) -> Double, clock: WallClock) {
        self.maxAttempts = options.maxAttempts
        self.backoffBase = options.backoffBase
        self.backoffCap = options.backoffCap
        self.jitter = jitter
        self.clock = clock
    }

    /// The outcome of attempt number `attempt` (1 for the first) that ended with `result`.
    func outcome(of result: Result<Void, any Error>, attempt: Int) -> DeliveryOutcome {
        switch result {
        case .success: .done
        case .failure(let error): self.outcome(after: error, attempt: attempt)
        }
    }

    /// Retry with backoff, or dead-letter.
    func outcome(after error: any Error, attempt: Int) -> DeliveryOutcome {
        let handlerError = error as? HandlerError
        let message = String((handlerError?.message ?? String(describing: error)).prefix(2000))
        if handlerError?.isPermanent == true {
            return .dead(error: message, reason: .permanent)
        }
        if attempt >= self.maxAttempts {
            return .dead(error: message, reason: .exhausted)
        }
        let ceiling = Backoff.ceiling(retries: attempt - 1, base: self.backoffBase, cap: self.backoffCap)
        var delay = self.jitter(ceiling)
        if let retryAfter = handlerError?.retryAfter {
            delay = max(delay, retryAfter)
        }
        return .retry(at: self.clock.now().adding(seconds: delay), error: message)
    }
}
