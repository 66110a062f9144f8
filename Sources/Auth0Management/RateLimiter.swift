internal import HTTPTypes
public import InletHTTPClient
public import InletCore
internal import Synchronization

/// Paces Management API calls to the tenant's rate, learned from its rate-limit headers.
///
/// Auth0 limits with a token bucket and reports it on every response
/// (`x-ratelimit-limit`, `x-ratelimit-remaining`, `x-ratelimit-reset`). One limiter is
/// shared by every caller of a tenant, so that a bulk import runs at the tenant's rate
/// instead of into 429s:
///
/// - it mirrors the bucket: after each response its tokens are what the tenant said
///   remain, less the calls already reserved and not yet answered;
/// - it estimates the refill rate from successive responses (tokens gained = remaining
///   now − remaining then + calls admitted in between, over the time between), ignoring
///   stretches where the bucket may have been full, and keeps 95 % of it; before it has
///   an estimate it assumes the bucket refills once until `x-ratelimit-reset`;
/// - each call reserves a token and waits until its token is due (reservations may go
///   into debt, so concurrent callers queue in order); a 429 empties the bucket and
///   lowers the estimate.
///
/// Until the first headers arrive, one call at a time is let through.
///
/// ```swift
/// try await limiter.acquire()
/// let response = try await http.execute(request)
/// limiter.record(response)
/// ```
public final class RateLimiter: Sendable {
    struct Observation {
        let time: Double
        let remaining: Double
        let admitted: Int
    }

    struct State {
        var limit: Double?
        var tokens: Double?
        var rate: Double?
        var last = 0.0
        var resetAt: Double?
        /// Reserved and not yet answered (waiting or in flight).
        var pending = 0
        /// Answers that consumed a token (not 429), counted in arrival order.
        var admitted = 0
        var window: [Observation] = []
        /// Send order: each call takes the next ticket when it is let through.
        var nextTicket: UInt64 = 0
        /// The ticket of the latest-sent call whose answer has been read: an answer of an
        /// earlier call that arrives later is stale (its `remaining` is higher than now).
        var newestRead: UInt64?
    }

    enum Decision {
        case go(after: Double)
        case poll(after: Double)
    }

    /// Fraction of the estimated rate actually used.
    static let safety = 0.95
    private let state = Mutex(State())
    private let monotonic: @Sendable () -> Double
    private let wallClock: WallClock

    /// `monotonic` reads seconds from a monotonic clock; `wallClock` converts
    /// `x-ratelimit-reset` (UNIX seconds).
    public init(wallClock: WallClock = .system, monotonic: (@Sendable () -> Double)? = nil) {
        self.wallClock = wallClock
        self.monotonic = monotonic ?? { RateLimiter.processSeconds() }
    }

    private static let origin = ContinuousClock.now
    static func processSeconds() -> Double {
        let elapsed = origin.duration(to: .now)
        return elapsed.seconds
    }

    /// The current estimate of the tenant's rate (requests per second), if any.
    public var estimatedRate: Double? { self.state.withLock { $0.rate } }

    /// Waits until a call may be sent, and reserves it; returns the call's place in the
    /// send order. Pair with ``record(_:ticket:)`` or ``abandon()``.
    @discardableResult
    public func acquire() async throws -> UInt64 {
        for _ in 0..<2_000 {
            switch self.decide() {
            case .go(let delay):
                if delay > 0 {
                    do {
                        try await Task.sleep(for: .milliseconds(Int((delay * 1000).rounded(.up))))
                    } catch {
                        self.abandon()
                        throw error
                    }
                }
                return self.takeTicket()
            case .poll(let delay):
                try await Task.sleep(for: .milliseconds(Int((delay * 1000).rounded(.up))))
            }
        }
        self.state.withLock { $0.pending += 1 }
        return self.takeTicket()
    }

    private func takeTicket() -> UInt64 {
        self.state.withLock { state in
            defer { state.nextTicket &+= 1 }
            return state.nextTicket
        }
    }

    func decide() -> Decision {
        let now = self.monotonic()
        return self.state.withLock { state in
            guard var tokens = state.tokens else {
                if state.pending > 0 { return .poll(after: 0.01) }
                state.pending += 1
                return .go(after: 0)
            }
            let rate = Self.effectiveRate(state, now: now)
            let capacity = state.limit ?? 1
            tokens = min(capacity, tokens + rate * max(0, now - state.last))
            state.last = now
            tokens -= 1
            state.tokens = tokens
            state.pending += 1
            return .go(after: tokens >= 0 ? 0 : min(60, -tokens / rate))
        }
    }

    private static func effectiveRate(_ state: State, now: Double) -> Double {
        if let rate = state.rate { return rate }
        let limit = state.limit ?? 1
        let untilReset = (state.resetAt ?? (now + 1)) - now
        return max(0.5, limit / max(1, untilReset))
    }

    /// A reserved call got no response (timeout, connection failure, cancellation).
    public func abandon() {
        self.state.withLock { $0.pending = max(0, $0.pending - 1) }
    }

    /// Learns from a Management API response.
    public func record(_ response: OutboundResponse, ticket: UInt64? = nil) {
        self.record(
            ticket: ticket, status: response.status,
            limit: response.headers[.xRateLimitLimit].flatMap(Double.init),
            remaining: response.headers[.xRateLimitRemaining].flatMap(Double.init),
            reset: response.headers[.xRateLimitReset].flatMap(Double.init)
        )
    }

    func record(ticket: UInt64? = nil, status: Int, limit: Double?, remaining: Double?, reset: Double?) {
        let now = self.monotonic()
        let wallNow = self.wallClock.now().secondsSinceEpoch
        self.state.withLock { state in
            state.pending = max(0, state.pending - 1)
            if let limit, limit > 0 { state.limit = limit }
            if let reset { state.resetAt = now + max(0, reset - wallNow) }
            if status == 429 {
                // The caller waits as the 429 says; the others start again from an empty
                // bucket. Without any bucket headers there is nothing to pace by.
                guard state.limit != nil else { return }
                state.tokens = min(state.tokens ?? 0, 0)
                state.last = now
                if let rate = state.rate { state.rate = max(0.1, rate * 0.9) }
                state.window.removeAll()
                return
            }
            guard let remaining else { return }
            state.admitted += 1
            if let ticket {
                // Answers can overtake each other on separate connections: read only the
                // newest, or `remaining` would count tokens already spent.
                if let newest = state.newestRead, ticket < newest { return }
                state.newestRead = ticket
            }
            // What the tenant has left, less what we reserved and it has not answered yet.
            state.tokens = remaining - Double(state.pending)
            state.last = now
            let limit = state.limit ?? (remaining + 1)
            let observation = Observation(time: now, remaining: remaining, admitted: state.admitted)
            if remaining >= limit - 1 {
                // The bucket was full when this call arrived: refill was lost, so the rate
                // cannot be read from this stretch. If calls are waiting, the pace is too
                // slow (a small bucket hides spare tokens in the rounding): speed up by 3 %;
                // a 429 brings it down again.
                if state.pending > 0, let rate = state.rate { state.rate = rate * 1.03 }
                state.window = [observation]
                return
            }
            state.window.append(observation)
            // Keep about three seconds of history, and never more than 512 observations.
            while let first = state.window.first, now - first.time > 3 || state.window.count > 512 {
                state.window.removeFirst()
            }
            guard let first = state.window.first, now - first.time >= 0.5 else { return }
            let gained = remaining - first.remaining + Double(state.admitted - first.admitted)
            let estimate = gained / (now - first.time)
            if estimate > 0 { state.rate = estimate * Self.safety }
        }
    }
}

extension HTTPField.Name {
    /// Auth0's rate-limit headers: the bucket's size, the calls left in it, and the UNIX
    /// time at which it is full again.
    static let xRateLimitLimit = HTTPField.Name("x-ratelimit-limit")!
    static let xRateLimitRemaining = HTTPField.Name("x-ratelimit-remaining")!
    static let xRateLimitReset = HTTPField.Name("x-ratelimit-reset")!
}
