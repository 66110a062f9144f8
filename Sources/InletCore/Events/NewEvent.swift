/// An event to append, with the handlers that get a delivery of it (the intake fills
/// them in from the registry).
package struct NewEvent: Sendable {
    package let source: EventSource
    package let id: String
    package let type: EventType
    package let payload: String
    package var handlers: [String]

    package init(source: EventSource, id: String, type: EventType, payload: String, handlers: [String] = []) {
        self.source = source
        self.id = id
        self.type = type
        self.payload = payload
        self.handlers = handlers
    }
}
