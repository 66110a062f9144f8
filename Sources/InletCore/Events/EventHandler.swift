public import Logging
internal import Synchronization

/// An event as stored: what handlers receive.
public struct Event: Sendable, Equatable {
    /// The store's sequence number (order of arrival).
    public let seq: Int64
    /// Where it came from (``EventSource``): `productivity`, `auth0`, `admin`.
    public let source: String
    /// Unique within its source; the idempotency key.
    public let id: String
    /// `employee.created`, `auth0.user.login`, ... (``EventType``).
    public let type: String
    /// RFC 3339 UTC, as stored.
    public let receivedAt: String
    /// The JSON document as received (the envelope for webhooks, the body for logins).
    public let payload: String

    public init(seq: Int64, source: String, id: String, type: String, receivedAt: String, payload: String) {
        self.seq = seq
        self.source = source
        self.id = id
        self.type = type
        self.receivedAt = receivedAt
        self.payload = payload
    }

    /// The payload parsed.
    public func json() throws(JSONError) -> JSONDocument {
        try JSONDocument.parse(self.payload)
    }
}

/// Which event types a handler receives: an exact type, `prefix.*`, or `*`.
///
/// ```swift
/// let patterns: [EventPattern] = ["employee.*", "auth0.user.login"]
/// patterns.contains { $0.matches("employee.created") }   // true
/// ```
public struct EventPattern: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let pattern: String

    public init(_ pattern: String) {
        self.pattern = pattern
    }

    public init(stringLiteral value: String) {
        self.pattern = value
    }

    /// Exactly `type`.
    public init(_ type: EventType) {
        self.pattern = type.rawValue
    }

    public func matches(_ type: String) -> Bool {
        if self.pattern == "*" { return true }
        if self.pattern.hasSuffix(".*") {
            return type.hasPrefix(self.pattern.dropLast())
        }
        return self.pattern == type
    }

    public var description: String { self.pattern }
}

/// Why a handler failed, and so what the dispatcher does next.
///
/// Transient failures are retried with backoff (honouring `retryAfter`); permanent ones go
/// straight to the dead-letter set. Any other error a handler throws counts as transient.
///
/// ```swift
/// throw HandlerError.transient("Auth0 answered 503", retryAfter: 30)
/// throw HandlerError.permanent("employee record has no email")
/// ```
public struct HandlerError: Error, CustomStringConvertible, Sendable {
    enum Kind: Sendable { case transient, permanent }
    let kind: Kind
    public let message: String
    /// Seconds the handler asks to wait before the next attempt.
    public let retryAfter: Double?

    public static func transient(_ message: String, retryAfter: Double? = nil) -> HandlerError {
        .init(kind: .transient, message: message, retryAfter: retryAfter)
    }

    public static func permanent(_ message: String) -> HandlerError {
        .init(kind: .permanent, message: message, retryAfter: nil)
    }

    public var isPermanent: Bool { self.kind == .permanent }
    public var description: String { self.message }
}

/// What a handler may use while it handles one delivery.
public struct HandlerContext: Sendable {
    public let logger: Logger
    /// 1 for the first attempt.
    public let attempt: Int
    package let deliveryID: Int64
    public let clock: WallClock

    /// Rows added with ``audit(_:detail:)``.
    let notes = AuditNotes()

    public init(logger: Logger, attempt: Int = 1, clock: WallClock = .system) {
        self.init(logger: logger, attempt: attempt, deliveryID: 0, clock: clock)
    }

    package init(logger: Logger, attempt: Int, deliveryID: Int64, clock: WallClock) {
        self.logger = logger
        self.attempt = attempt
        self.deliveryID = deliveryID
        self.clock = clock
    }

    /// Adds a row to the audit log, written in the transaction that records this attempt's
    /// outcome: it is stored exactly when the outcome is (an attempt cut short by a crash
    /// leaves none), and costs no commit of its own.
    public func audit(_ outcome: String, detail: String? = nil) {
        self.notes.append(AuditNote(outcome: outcome, detail: detail))
    }

    /// The rows added so far.
    package var auditNotes: [AuditNote] { self.notes.all }
}

/// The audit rows of one attempt; shared by the copies of its ``HandlerContext``.
final class AuditNotes: Sendable {
    private let notes = Mutex<[AuditNote]>([])

    func append(_ note: AuditNote) { self.notes.withLock { $0.append(note) } }
    var all: [AuditNote] { self.notes.withLock { $0 } }
}

/// A handler: receives the events it subscribes to, at least once each.
///
/// Delivery is at-least-once, so `handle` must be idempotent. Return normally for done;
/// throw ``HandlerError`` to say whether to retry.
///
/// ```swift
/// struct Greeter: EventHandler {
///     static let name = "greeter"
///     let subscriptions: [EventPattern] = ["employee.created"]
///     func handle(_ event: Event, context: HandlerContext) async throws {
///         context.logger.info("welcome", metadata: ["event": "\(event.id)"])
///     }
/// }
/// ```
public protocol EventHandler: Sendable {
    /// Configuration key, delivery row key and metric label.
    static var name: String { get }
    var subscriptions: [EventPattern] { get }
    func handle(_ event: Event, context: HandlerContext) async throws
    /// The longest one delivery may run (a handler that enforces a timeout says which);
    /// its lease must be longer, so that the delivery is never claimed again while it runs.
    var timeoutSeconds: Double? { get }
    /// Whether the outcome of every delivery (of every handler) is written to the audit
    /// log while this handler runs (the audit handler says yes).
    var recordsOutcomes: Bool { get }
}

extension EventHandler {
    public var name: String { Self.name }
    public var timeoutSeconds: Double? { nil }
    public var recordsOutcomes: Bool { false }
}
