/// One handler's deliveries by state, for the overview: what ``InletStore/handlerCounts()``
/// returns for every handler that has deliveries or is paused.
public struct HandlerQueueCounts: Sendable, Equatable {
    public let handler: String
    public let pending: Int
    public let running: Int
    public let dead: Int
    /// The due time of its oldest pending delivery.
    public let oldestDueAt: Timestamp?
    public let paused: Bool

    public init(handler: String, pending: Int, running: Int, dead: Int, oldestDueAt: Timestamp?, paused: Bool) {
        self.handler = handler
        self.pending = pending
        self.running = running
        self.dead = dead
        self.oldestDueAt = oldestDueAt
        self.paused = paused
    }
}
