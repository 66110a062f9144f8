/// What became of one attempt.
public enum DeliveryOutcome: Sendable, Equatable {
    case done
    /// Try again at `at`; `error` is kept as the delivery's last error.
    case retry(at: Timestamp, error: String)
    /// Stop: `permanent` when the handler refused, `exhausted` when attempts ran out.
    case dead(error: String, reason: DeadReason)

    public enum DeadReason: String, Sendable {
        case permanent, exhausted
    }

    /// The last error of a delivery that was claimed `attempts` times without an outcome.
    public static func abandonedError(attempts: Int) -> String {
        "no outcome after \(attempts) attempts (the process stopped while running it)"
    }
}
