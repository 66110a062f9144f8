/// Exponential backoff, shared by the dispatcher (between attempts of a delivery) and the
/// Management API client (between retries of one call); each adds its own jitter below it.
public enum Backoff {
    /// The longest wait after `retries` earlier retries: `base`·2^`retries`, at most `cap`.
    ///
    /// ```swift
    /// Backoff.ceiling(retries: 3, base: 1, cap: 300)  // 8
    /// ```
    public static func ceiling(retries: Int, base: Double, cap: Double) -> Double {
        min(cap, base * Double(1 << min(max(retries, 0), 30)))
    }
}
