#if canImport(Glibc)
internal import Glibc
#endif

/// A point on the monotonic clock, for `poll` timeouts; none for a non-finite timeout.
///
/// `CLOCK_MONOTONIC` rather than the wall clock, so a clock step cannot kill a program
/// early or let it run on.
///
/// ```swift
/// let deadline = Deadline(seconds: 30)
/// poll(&fds, nfds, min(deadline.remainingMilliseconds(), 50))
/// ```
struct Deadline {
    private let nanoseconds: Int64?

    init(seconds: Double) {
        if seconds.isFinite {
            let budget = Int64(max(0, min(seconds, 1e9)) * 1e9)
            self.nanoseconds = Self.now() + budget
        } else {
            self.nanoseconds = nil
        }
    }

    /// Milliseconds left, rounded up; `Int32.max` without a deadline.
    func remainingMilliseconds() -> Int32 {
        guard let deadline = self.nanoseconds else { return .max }
        let left = deadline - Self.now()
        if left <= 0 { return 0 }
        return Int32(min((left + 999_999) / 1_000_000, Int64(Int32.max)))
    }

    private static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}
