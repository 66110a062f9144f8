import InletCore
import InletTestSupport

/// The moment the tests' clocks start at: fixed, with milliseconds, so that stored times
/// can be compared as text.
enum Moment {
    static let start = Timestamp(millisecondsSinceEpoch: 1_800_000_000_123)
    /// `start` as stored: `2027-01-15T08:00:00.123Z`.
    static var startText: String { start.description }

    /// A clock the test moves, at `start`.
    static func clock() -> TestClock { TestClock(startingAt: start) }

    /// `start` plus `seconds`.
    static func after(_ seconds: Double) -> Timestamp { start.adding(seconds: seconds) }
    /// `start` plus `seconds`, as stored.
    static func text(after seconds: Double) -> String { after(seconds).description }
}
