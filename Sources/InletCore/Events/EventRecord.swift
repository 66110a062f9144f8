/// An event with every handler's delivery of it.
public struct EventRecord: Sendable, Equatable {
    public let event: Event
    public let deliveries: [DeliveryRecord]

    /// `payload` is included parsed when it is JSON.
    public func json(includePayload: Bool) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .string(self.event.id)), ("source", .string(self.event.source)), ("type", .string(self.event.type)),
            ("received_at", .string(self.event.receivedAt)), ("deliveries", .array(self.deliveries.map(\.json))),
        ]
        if includePayload, let document = try? self.event.json() {
            members.append(("payload", document.root.value))
        }
        return .object(members)
    }

    package init(event: Event, deliveries: [DeliveryRecord]) {
        self.event = event
        self.deliveries = deliveries
    }
}
