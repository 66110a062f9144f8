/// What ``InletStore/searchEvents(_:)`` looks for: every filter optional, newest first.
///
/// `search` matches an event id exactly, or an employee id or email that the event is
/// about (its subjects, extracted at append, see ``EventSubjects``). `cursor` comes from
/// the previous ``EventPage/nextCursor``: pages follow the store's order of arrival, so
/// events that arrive meanwhile never shift a later page.
///
/// ```swift
/// var query = EventQuery(limit: 50)
/// query.state = .dead
/// let page = try await store.searchEvents(query)
/// query.cursor = page.nextCursor
/// ```
public struct EventQuery: Sendable, Equatable {
    public var source: String?
    public var type: String?
    /// Events with at least one delivery in this state (of `handler`, when given).
    public var state: DeliveryState?
    /// Events with a delivery to this handler.
    public var handler: String?
    /// Received at or after.
    public var receivedFrom: Timestamp?
    /// Received before.
    public var receivedBefore: Timestamp?
    /// An event id, an employee id or an email.
    public var search: String?
    /// Opaque, from ``EventPage/nextCursor``.
    public var cursor: String?
    /// 1...1000.
    public var limit: Int

    public init(
        source: String? = nil, type: String? = nil, state: DeliveryState? = nil, handler: String? = nil, receivedFrom: Timestamp? = nil,
        receivedBefore: Timestamp? = nil, search: String? = nil, cursor: String? = nil, limit: Int = 50
    ) {
        self.source = source
        self.type = type
        self.state = state
        self.handler = handler
        self.receivedFrom = receivedFrom
        self.receivedBefore = receivedBefore
        self.search = search
        self.cursor = cursor
        self.limit = limit
    }

    /// The sequence number below which the page starts (from `cursor`), or nil for the
    /// newest; throws for a cursor no page gave.
    package func cursorSeq() throws(EventQueryError) -> Int64? {
        guard let cursor = self.cursor else { return nil }
        guard cursor.hasPrefix("s"), let seq = Int64(cursor.dropFirst()), seq > 0 else { throw EventQueryError("cursor is not one a page gave") }
        return seq
    }

    /// The cursor of the page after the one that ended with `seq`.
    package static func cursor(after seq: Int64) -> String { "s\(seq)" }

    /// `search` as stored among subjects (trimmed, lower-cased), or nil when empty.
    package var subject: String? {
        guard let search = self.search else { return nil }
        let normalised = EventSubjects.normalised(search)
        return normalised.isEmpty ? nil : normalised
    }

    /// `search` as an event id is compared (trimmed, case kept), or nil when empty.
    package var eventID: String? {
        guard let search = self.search else { return nil }
        let trimmed = EventSubjects.trimmed(search)
        return trimmed.isEmpty ? nil : trimmed
    }
}

/// An ``EventQuery`` the store cannot answer (a cursor no page gave).
public struct EventQueryError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { self.message }
}

/// One page of ``InletStore/searchEvents(_:)``: events newest first, each with its
/// deliveries (without attempt history), and the cursor of the next page (nil at the end).
public struct EventPage: Sendable, Equatable {
    public let records: [EventRecord]
    public let nextCursor: String?

    public init(records: [EventRecord], nextCursor: String?) {
        self.records = records
        self.nextCursor = nextCursor
    }
}
