/// An event with every handler's delivery of it.
public struct EventRecord: Sendable, Equatable {
    public let event: Event
    public let deliveries: [DeliveryRecord]
    /// The request headers stored with it (``StoredHeaders``: an allow-list, never
    /// credentials), names lower-case, in the order received.
    public let headers: [(String, String)]

    public static func == (lhs: EventRecord, rhs: EventRecord) -> Bool {
        lhs.event == rhs.event && lhs.deliveries == rhs.deliveries && lhs.headers.elementsEqual(rhs.headers) { $0 == $1 }
    }

    /// `payload` is included parsed when it is JSON.
    public func json(includePayload: Bool) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .string(self.event.id)), ("source", .string(self.event.source)), ("type", .string(self.event.type)),
            ("received_at", .string(self.event.receivedAt)), ("deliveries", .array(self.deliveries.map(\.json))),
        ]
        if includePayload {
            members.append(("headers", .object(self.headers.map { ($0.0, .string($0.1)) })))
            if let document = try? self.event.json() {
                members.append(("payload", document.root.value))
            }
        }
        return .object(members)
    }

    package init(event: Event, deliveries: [DeliveryRecord], headers: [(String, String)] = []) {
        self.event = event
        self.deliveries = deliveries
        self.headers = headers
    }
}
