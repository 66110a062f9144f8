internal import Hummingbird
internal import HTTPTypes
internal import InletCore
internal import NIOCore
internal import Synchronization

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
}

// MARK: - Counting per client

/// Counts events per key (a client IP) in fixed windows that start at each key's first
/// event, in a table of bounded size.
///
/// The table holds at most `capacity` keys; when a new key arrives and none has expired,
/// the key whose window started first is dropped, so a flood of distinct addresses
/// costs bounded memory (and at worst forgets the oldest counts). Windows are kept in a
/// queue in start order, which is also expiry order: pruning and eviction take O(1)
/// amortised per event.
struct WindowCounter {
    private struct Window {
        var start: Int64
        var count: Int
    }

    let windowMilliseconds: Int64
    let capacity: Int
    private var windows: [String: Window] = [:]
    /// (key, start) in start order; an entry whose start no longer matches its key's
    /// window is stale and skipped.
    private var queue: [(key: String, start: Int64)] = []
    private var head = 0

    init(windowSeconds: Double, capacity: Int) {
        self.windowMilliseconds = max(1, Int64(windowSeconds * 1000))
        self.capacity = max(1, capacity)
    }

    var count: Int { self.windows.count }

    /// Events of `key` counted in its current window (0 when it has none).
    mutating func events(_ key: String, now: Int64) -> Int {
        self.prune(now: now)
        return self.windows[key]?.count ?? 0
    }

    /// Milliseconds until `key`'s window ends (nil when it has none).
    mutating func remaining(_ key: String, now: Int64) -> Int64? {
        self.prune(now: now)
        guard let window = self.windows[key] else { return nil }
        return max(0, window.start + self.windowMilliseconds - now)
    }

    /// Counts one event of `key`, opening a window for it if it has none; returns the
    /// count in the window, this event included.
    @discardableResult
    mutating func record(_ key: String, now: Int64) -> Int {
        self.prune(now: now)
        if var window = self.windows[key] {
            window.count += 1
            self.windows[key] = window
            return window.count
        }
        while self.windows.count >= self.capacity, self.head < self.queue.count {
            let oldest = self.queue[self.head]
            self.head += 1
            if self.windows[oldest.key]?.start == oldest.start { self.windows[oldest.key] = nil }
        }
        self.windows[key] = Window(start: now, count: 1)
        self.queue.append((key, now))
        self.compact()
        return 1
    }

    /// Drops every window that has ended by `now`.
    private mutating func prune(now: Int64) {
        while self.head < self.queue.count, self.queue[self.head].start + self.windowMilliseconds <= now {
            let expired = self.queue[self.head]
            self.head += 1
            if self.windows[expired.key]?.start == expired.start { self.windows[expired.key] = nil }
        }
        self.compact()
    }

    private mutating func compact() {
        if self.head > 1024 && self.head * 2 > self.queue.count {
            self.queue.removeFirst(self.head)
            self.head = 0
        }
    }
}

/// Per-client limits, safe to share between requests.
///
/// `allow` counts every request of a client and refuses those over `limit` per window
/// (`/auth/*`); `blocked` / `recordFailure` count only failures and refuse a client once
/// it has `limit` in its window (the failure guard of the bearer routes).
/// Time comes from the injected clock.
///
/// ```swift
/// let limiter = ClientRateLimiter(limit: 10, windowSeconds: 60, clock: .system)
/// if let wait = limiter.allow("203.0.113.9") { /* 429, Retry-After: wait */ }
/// ```
final class ClientRateLimiter: Sendable {
    let limit: Int
    let clock: WallClock
    private let counter: Mutex<WindowCounter>

    /// Most clients tracked at once.
    static let defaultCapacity = 10_000

    init(limit: Int, windowSeconds: Double = 60, capacity: Int = ClientRateLimiter.defaultCapacity, clock: WallClock) {
        self.limit = limit
        self.clock = clock
        self.counter = Mutex(WindowCounter(windowSeconds: windowSeconds, capacity: capacity))
    }

    /// Counts a request of `client`; nil when allowed, else the seconds until its window ends.
    func allow(_ client: String) -> Int? {
        let now = self.clock.now().millisecondsSinceEpoch
        return self.counter.withLock { counter -> Int? in
            if counter.events(client, now: now) >= self.limit {
                return Self.seconds(counter.remaining(client, now: now))
            }
            counter.record(client, now: now)
            return nil
        }
    }

    /// Seconds `client` stays refused, or nil when it may try.
    func blocked(_ client: String) -> Int? {
        let now = self.clock.now().millisecondsSinceEpoch
        return self.counter.withLock { counter -> Int? in
            guard counter.events(client, now: now) >= self.limit else { return nil }
            return Self.seconds(counter.remaining(client, now: now))
        }
    }

    /// Counts one failure of `client`.
    func recordFailure(_ client: String) {
        let now = self.clock.now().millisecondsSinceEpoch
        self.counter.withLock { _ = $0.record(client, now: now) }
    }

    /// Clients tracked now (for tests of the memory bound).
    var trackedClients: Int { self.counter.withLock { $0.count } }

    private static func seconds(_ milliseconds: Int64?) -> Int {
        max(1, Int(((milliseconds ?? 1000) + 999) / 1000))
    }
}

// MARK: - Middleware

