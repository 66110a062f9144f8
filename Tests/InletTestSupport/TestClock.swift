public import InletCore
internal import Synchronization

/// A wall clock the test sets and moves; hand ``clock`` to the code under test.
///
/// ```swift
/// let time = TestClock(seconds: 1_772_323_200)
/// let verifier = JWTVerifier(options: options, keys: keys, clock: time.clock)
/// time.advance(seconds: 3601)  // the token has expired now
/// ```
public final class TestClock: Sendable {
    private let milliseconds: Mutex<Int64>

    /// Starts at `seconds` since the epoch.
    public init(seconds: Int64) { self.milliseconds = Mutex(seconds * 1000) }

    /// Starts at `start`, e.g. `WallClock.system.now()`.
    public init(startingAt start: Timestamp) { self.milliseconds = Mutex(start.millisecondsSinceEpoch) }

    public func advance(seconds: Double) { self.milliseconds.withLock { $0 += Int64(seconds * 1000) } }
    public func set(seconds: Double) { self.milliseconds.withLock { $0 = Int64(seconds * 1000) } }

    /// Reads this clock.
    public var clock: WallClock { WallClock { Timestamp(millisecondsSinceEpoch: self.milliseconds.withLock { $0 }) } }
}
