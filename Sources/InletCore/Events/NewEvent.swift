/// An event to append, with the handlers that get a delivery of it (the intake fills
/// them in from the registry).
package struct NewEvent: Sendable {
    package let source: EventSource
    package let id: String
    package let type: EventType
    package let payload: String
    package var handlers: [String]
    /// Request headers to keep (already filtered by ``StoredHeaders/filter(_:)``).
    package var headers: [(String, String)]
    /// Who the event is about, for search (the intake fills them in, ``EventSubjects``).
    package var subjects: [String]

    package init(
        source: EventSource, id: String, type: EventType, payload: String, handlers: [String] = [], headers: [(String, String)] = [],
        subjects: [String] = []
    ) {
        self.source = source
        self.id = id
        self.type = type
        self.payload = payload
        self.handlers = handlers
        self.headers = headers
        self.subjects = subjects
    }
}
