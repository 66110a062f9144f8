internal import Foundation

/// Which event an employee row's values came from, so that an older event — redelivered,
/// replayed, or simply late — never overwrites newer values.
///
/// Ordered by the event's `occurred_at` when both sides have one (ties by sequence), else
/// by the store's sequence (order of arrival). The store compares versions in SQL, in the
/// same statement that writes the row.
///
/// ```swift
/// let record = try await store.upsertEmployee(employee, version: EmployeeVersion(event: event, root: document.root))
/// ```
public struct EmployeeVersion: Sendable, Equatable {
    /// The event's `occurred_at`; nil when it had none or it was not RFC 3339.
    public var occurredAt: Timestamp?
    /// The event's sequence number in the store.
    public var sequence: Int64

    public init(occurredAt: Timestamp? = nil, sequence: Int64) {
        self.occurredAt = occurredAt
        self.sequence = sequence
    }

    /// The version of `event`, whose parsed payload is `root`.
    public init(event: Event, root: JSONNode) {
        let occurredAt = ((try? root.string("occurred_at")) ?? nil).flatMap(Timestamp.init(rfc3339:))
        self.init(occurredAt: occurredAt, sequence: event.seq)
    }
}
