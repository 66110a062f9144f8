/// The result of appending an event.
public struct AppendResult: Sendable, Equatable {
    public let seq: Int64
    public let eventID: String
    /// The same source and id were already stored; nothing was planned again.
    public let duplicate: Bool
    /// The handlers a delivery was planned for (none for a duplicate).
    public var handlers: [String] = []

    package init(seq: Int64, eventID: String, duplicate: Bool, handlers: [String] = []) {
        self.seq = seq
        self.eventID = eventID
        self.duplicate = duplicate
        self.handlers = handlers
    }
}
