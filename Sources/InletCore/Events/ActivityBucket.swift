/// Events received and deliveries finished in one time slice, for the overview's charts
/// (``InletStore/activity(since:bucketSeconds:)``).
public struct ActivityBucket: Sendable, Equatable {
    /// The start of the slice.
    public let start: Timestamp
    /// Events received in the slice.
    public let received: Int
    /// Attempts that ended `done` in the slice.
    public let delivered: Int

    public init(start: Timestamp, received: Int, delivered: Int) {
        self.start = start
        self.received = received
        self.delivered = delivered
    }

    public var json: JSONValue {
        ["start": .string(self.start.description), "received": .int(self.received), "delivered": .int(self.delivered)]
    }

    /// `counts` (slice start in ms → count) laid out as every slice from `since` to `now`,
    /// empty ones included.
    package static func series(since: Timestamp, now: Timestamp, bucketSeconds: Int, received: [Int64: Int], delivered: [Int64: Int]) -> [ActivityBucket] {
        let width = Int64(max(1, bucketSeconds)) * 1000
        let first = since.millisecondsSinceEpoch / width * width
        var buckets: [ActivityBucket] = []
        var start = first
        while start <= now.millisecondsSinceEpoch && buckets.count < 10_000 {
            buckets.append(ActivityBucket(start: Timestamp(millisecondsSinceEpoch: start), received: received[start] ?? 0, delivered: delivered[start] ?? 0))
            start += width
        }
        return buckets
    }
}
