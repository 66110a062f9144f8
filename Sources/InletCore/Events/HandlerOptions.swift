/// How the dispatcher runs one handler.
public struct HandlerOptions: Sendable, Equatable {
    /// Attempts before a transiently failing delivery is dead-lettered.
    public var maxAttempts = 8
    /// Deliveries of this handler running at once.
    public var concurrency = 4
    /// Backoff: attempt n waits a random time in [0, min(cap, base * 2^(n-1))] (full jitter).
    public var backoffBase = 1.0
    public var backoffCap = 300.0
    /// How long a claimed delivery is leased; after that another start takes it back.
    public var leaseSeconds = 60.0

    public init() {}
}
