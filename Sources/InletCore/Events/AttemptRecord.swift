/// One attempt of a delivery, recorded by ``InletStore/complete(_:)`` in the outcome's
/// transaction: the attempt history that the event detail shows per handler.
///
/// An outcome that lost its lease (the delivery was claimed again or replayed) records
/// no attempt, as it records nothing else.
///
/// ```swift
/// let record = try await store.eventRecord(id: "evt-1")
/// for attempt in record?.deliveries.first?.attemptHistory ?? [] { print(attempt.attempt, attempt.outcome) }
/// ```
public struct AttemptRecord: Sendable, Equatable {
    /// The most bytes of an error kept with an attempt.
    public static let maxErrorBytes = 2048

    public let deliveryID: Int64
    public let attempt: Int
    /// Which inlet instance ran it (``Dispatcher/Options/instance``).
    public let instance: String
    public let startedAt: Timestamp
    public let finishedAt: Timestamp
    /// `done`, `retry` or `dead`.
    public let outcome: String
    /// At most ``maxErrorBytes`` of UTF-8, cut on a character boundary.
    public let error: String?
    /// When the next attempt is due (a `retry`).
    public let nextAttemptAt: Timestamp?

    public init(
        deliveryID: Int64, attempt: Int, instance: String, startedAt: Timestamp, finishedAt: Timestamp, outcome: String, error: String?,
        nextAttemptAt: Timestamp?
    ) {
        self.deliveryID = deliveryID
        self.attempt = attempt
        self.instance = instance
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.outcome = outcome
        self.error = error
        self.nextAttemptAt = nextAttemptAt
    }

    public var json: JSONValue {
        [
            "attempt": .int(self.attempt), "instance": .string(self.instance), "started_at": .string(self.startedAt.description),
            "finished_at": .string(self.finishedAt.description),
            "duration_ms": .int(Int(self.finishedAt.millisecondsSinceEpoch - self.startedAt.millisecondsSinceEpoch)),
            "outcome": .string(self.outcome), "error": .string(self.error), "next_attempt_at": .string(self.nextAttemptAt?.description),
        ]
    }

    /// `text` cut to at most `maxBytes` bytes of UTF-8, never inside a character.
    public static func excerpt(_ text: String, maxBytes: Int = Self.maxErrorBytes) -> String {
        let utf8 = text.utf8
        guard utf8.count > maxBytes else { return text }
        var end = utf8.index(utf8.startIndex, offsetBy: maxBytes)
        // Back off continuation bytes (10xxxxxx) to the start of the cut character.
        while end > utf8.startIndex && utf8[end] & 0xC0 == 0x80 {
            end = utf8.index(before: end)
        }
        return String(decoding: utf8[utf8.startIndex..<end], as: UTF8.self)
    }
}
