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
/// The tenant counts the calls of every instance together, so with several instances on
/// one database (PostgreSQL) the limiter's state is shared too: given a
/// ``SharedValueStore``, each reservation, answer and abandon updates one state in the
/// database, in turn, on the database's clock (about 1 ms each), and the instances pace
/// as one limiter would. Two instances that each mirrored the bucket alone both spent
/// the tokens the tenant reported, and each learned a rate that left out the other's
/// calls: 2–7 % of the answers were 429 where one instance got none. A reservation left
/// by an instance that died before its answer is dropped once nothing has been answered
/// for ``staleReservation`` seconds.
///
/// ```swift
/// let ticket = try await limiter.acquire()
/// let response = try await http.execute(request)
/// await limiter.record(response, ticket: ticket)
/// ```
public final class RateLimiter: Sendable {
    struct Observation: Sendable {
        let time: Double
        let remaining: Double
        let admitted: Int
    }

    struct State: Sendable {
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
        /// When a reservation was last answered or abandoned (or made with none pending).
        var lastProgress: Double?
    }

    enum Decision: Sendable {
        case go(after: Double)
        case poll(after: Double)
    }

    /// Fraction of the estimated rate actually used.
    static let safety = 0.95
    /// Seconds without any answer after which reservations still pending are taken for
    /// lost (the instance that made them died); far above any call's timeout.
    public static let staleReservation = 120.0
    /// The state when it lives in this process; a copy of the shared one otherwise.
    private let state = Mutex(State())
    private let monotonic: @Sendable () -> Double
    private let wallClock: WallClock
    private let shared: (any SharedValueStore)?
    private let sharedKey: String

    /// `monotonic` reads seconds from a monotonic clock; `wallClock` converts
    /// `x-ratelimit-reset` (UNIX seconds). With `shared`, the state lives there under
    /// `key` (one per tenant and application), on the database's clock.
    public init(
        wallClock: WallClock = .system, monotonic: (@Sendable () -> Double)? = nil, shared: (any SharedValueStore)? = nil,
        key: String = "auth0.rate-limiter"
    ) {
        self.wallClock = wallClock
        self.monotonic = monotonic ?? { RateLimiter.processSeconds() }
        self.shared = shared
        self.sharedKey = key
    }

    private static let origin = ContinuousClock.now
    static func processSeconds() -> Double {
        let elapsed = origin.duration(to: .now)
        return elapsed.seconds
    }

    /// Whether the state is shared with other instances.
    public var isShared: Bool { self.shared != nil }

    /// The current estimate of the tenant's rate (requests per second), if any (shared:
    /// as this instance last saw it).
    public var estimatedRate: Double? { self.state.withLock { $0.rate } }

    /// Runs `change` on the state where it lives with now (monotonic seconds, or the
    /// database's clock in seconds when shared) and the wall clock's UNIX seconds.
    private func update<T: Sendable>(_ change: @escaping @Sendable (inout State, _ now: Double, _ wallNow: Double) -> T) async throws -> T {
        let wallNow = self.wallClock.now().secondsSinceEpoch
        guard let shared = self.shared else {
            let now = self.monotonic()
            return self.state.withLock { change(&$0, now, wallNow) }
        }
        let (result, state) = try await shared.updateSharedValue(self.sharedKey) { text, milliseconds in
            var state = text.flatMap(State.init(json:)) ?? State()
            let result = change(&state, Double(milliseconds) / 1000, wallNow)
            text = state.json
            return (result, state)
        }
        self.state.withLock { $0 = state }
        return result
    }

    /// Waits until a call may be sent, and reserves it; returns the call's place in the
    /// send order. Pair with ``record(_:ticket:)`` or ``abandon()``.
    @discardableResult
    public func acquire() async throws -> UInt64 {
        for _ in 0..<2_000 {
            switch try await self.update({ state, now, _ in Self.decide(&state, now: now) }) {
            case .go(let delay):
                if delay > 0 {
                    do {
                        try await Task.sleep(for: .milliseconds(Int((delay * 1000).rounded(.up))))
                    } catch {
                        await self.abandon()
                        throw error
                    }
                }
                return try await self.update { state, _, _ in Self.takeTicket(&state) }
            case .poll(let delay):
                try await Task.sleep(for: .milliseconds(Int((delay * 1000).rounded(.up))))
            }
        }
        return try await self.update { state, _, _ in
            state.pending += 1
            return Self.takeTicket(&state)
        }
    }

    private static func takeTicket(_ state: inout State) -> UInt64 {
        defer { state.nextTicket &+= 1 }
        return state.nextTicket
    }

    /// The decision for a call now, on this process's state (tests).
    func decide() -> Decision {
        let now = self.monotonic()
        return self.state.withLock { Self.decide(&$0, now: now) }
    }

    static func decide(_ state: inout State, now: Double) -> Decision {
        if state.pending > 0, let progress = state.lastProgress, now - progress > Self.staleReservation {
            state.pending = 0
        }
        guard var tokens = state.tokens else {
            if state.pending > 0 { return .poll(after: 0.01) }
            state.pending += 1
            state.lastProgress = now
            return .go(after: 0)
        }
        if state.pending == 0 { state.lastProgress = now }
        let rate = Self.effectiveRate(state, now: now)
        let capacity = state.limit ?? 1
        tokens = min(capacity, tokens + rate * max(0, now - state.last))
        state.last = now
        tokens -= 1
        state.tokens = tokens
        state.pending += 1
        return .go(after: tokens >= 0 ? 0 : min(60, -tokens / rate))
    }

    private static func effectiveRate(_ state: State, now: Double) -> Double {
        if let rate = state.rate { return rate }
        let limit = state.limit ?? 1
        let untilReset = (state.resetAt ?? (now + 1)) - now
        return max(0.5, limit / max(1, untilReset))
    }

    /// A reserved call got no response (timeout, connection failure, cancellation).
    public func abandon() async {
        // A shared state out of reach: its reservation is dropped once stale.
        _ = try? await self.update { state, now, _ in
            state.pending = max(0, state.pending - 1)
            state.lastProgress = now
        }
    }

    /// Learns from a Management API response.
    public func record(_ response: OutboundResponse, ticket: UInt64? = nil) async {
        let limit = response.headers[.xRateLimitLimit].flatMap(Double.init)
        let remaining = response.headers[.xRateLimitRemaining].flatMap(Double.init)
        let reset = response.headers[.xRateLimitReset].flatMap(Double.init)
        let status = response.status
        _ = try? await self.update { state, now, wallNow in
            Self.record(&state, now: now, wallNow: wallNow, ticket: ticket, status: status, limit: limit, remaining: remaining, reset: reset)
        }
    }

    /// Learns from an answer, on this process's state (tests).
    func record(ticket: UInt64? = nil, status: Int, limit: Double?, remaining: Double?, reset: Double?) {
        let now = self.monotonic()
        let wallNow = self.wallClock.now().secondsSinceEpoch
        self.state.withLock { state in
            Self.record(&state, now: now, wallNow: wallNow, ticket: ticket, status: status, limit: limit, remaining: remaining, reset: reset)
        }
    }

    static func record(
        _ state: inout State, now: Double, wallNow: Double, ticket: UInt64?, status: Int, limit: Double?, remaining: Double?, reset: Double?
    ) {
        state.pending = max(0, state.pending - 1)
        state.lastProgress = now
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

extension RateLimiter.State {
    /// The state as JSON text, for a ``SharedValueStore``.
    var json: String {
        func number(_ value: Double?) -> JSONValue { value.map { .double($0) } ?? .null }
        let window = JSONValue.array(self.window.map { .array([.double($0.time), .double($0.remaining), .int($0.admitted)]) })
        return JSONValue.object([
            ("limit", number(self.limit)), ("tokens", number(self.tokens)), ("rate", number(self.rate)), ("last", .double(self.last)),
            ("reset_at", number(self.resetAt)), ("pending", .int(self.pending)), ("admitted", .int(self.admitted)), ("window", window),
            ("next_ticket", .int(Int(truncatingIfNeeded: self.nextTicket))),
            ("newest_read", self.newestRead.map { .int(Int(truncatingIfNeeded: $0)) } ?? .null),
            ("last_progress", number(self.lastProgress)),
        ]).serializedString
    }

    /// The state of ``json``; nil for text that is not one (it then starts afresh).
    init?(json: String) {
        guard let root = try? JSONDocument.parse(json).root.value, case .object = root else { return nil }
        func number(_ key: String) -> Double? {
            switch root[key] {
            case .double(let value)?: value
            case .int(let value)?: Double(value)
            default: nil
            }
        }
        self.init()
        self.limit = number("limit")
        self.tokens = number("tokens")
        self.rate = number("rate")
        self.last = number("last") ?? 0
        self.resetAt = number("reset_at")
        self.pending = root["pending"]?.intValue ?? 0
        self.admitted = root["admitted"]?.intValue ?? 0
        if case .array(let entries)? = root["window"] {
            self.window = entries.compactMap { entry in
                guard case .array(let fields) = entry, fields.count == 3 else { return nil }
                let values = fields.map { field -> Double? in
                    switch field {
                    case .double(let value): value
                    case .int(let value): Double(value)
                    default: nil
                    }
                }
                guard let time = values[0], let remaining = values[1], let admitted = values[2] else { return nil }
                return RateLimiter.Observation(time: time, remaining: remaining, admitted: Int(admitted))
            }
        }
        self.nextTicket = UInt64(truncatingIfNeeded: root["next_ticket"]?.intValue ?? 0)
        self.newestRead = root["newest_read"]?.intValue.map { UInt64(truncatingIfNeeded: $0) }
        self.lastProgress = number("last_progress")
    }
}

extension HTTPField.Name {
    /// Auth0's rate-limit headers: the bucket's size, the calls left in it, and the UNIX
    /// time at which it is full again.
    static let xRateLimitLimit = HTTPField.Name("x-ratelimit-limit")!
    static let xRateLimitRemaining = HTTPField.Name("x-ratelimit-remaining")!
    static let xRateLimitReset = HTTPField.Name("x-ratelimit-reset")!
}
