internal import HTTPTypes
public import InletHTTPClient
public import InletCore
internal import Logging

/// POSTs each event it receives to a configured URL, signed with Standard Webhooks headers.
///
/// The receiver gets the event's payload byte for byte with `content-type:
/// application/json`, `webhook-id` (the event id, so the receiver can drop the repeats
/// that at-least-once delivery brings), `webhook-timestamp` (UNIX seconds from the
/// context's clock) and, when a secret is configured, `webhook-signature:
/// v1,<base64 HMAC-SHA256>`. A 2xx answer completes the delivery; 429, 5xx and network
/// failures are retried (honouring `Retry-After` in seconds); any other answer means the
/// receiver refuses the event, so it goes to the dead-letter set.
///
/// ```swift
/// let forward = ForwardHandler(
///     url: "https://hooks.example.com/inlet", subscriptions: ["employee.*"],
///     secret: try WebhookSecret("whsec_..."), client: httpClient, timeout: 10
/// )
/// ```
public struct ForwardHandler: EventHandler {
    public static let name = "forward"

    public let url: String
    public let subscriptions: [EventPattern]
    /// HMAC key bytes; `nil` sends no signature.
    private let secret: WebhookSecret?
    private let client: OutboundClient
    /// Seconds allowed for one delivery attempt, connection included.
    public let timeout: Double
    public var timeoutSeconds: Double? { self.timeout }

    /// How much of a refusing receiver's body goes into the error message.
    static let bodyExcerptBytes = 200

    public init(url: String, subscriptions: [EventPattern], secret: WebhookSecret?, client: OutboundClient, timeout: Double) {
        self.url = url
        self.subscriptions = subscriptions
        self.secret = secret
        self.client = client
        self.timeout = timeout
    }

    public func handle(_ event: Event, context: HandlerContext) async throws {
        // Signed as it is, the id must also travel as it is: HTTPFields would turn a CR or LF
        // into a space (so no header is ever injected) and the signature would not verify.
        guard HTTPField.isValidValue(event.id) else {
            throw HandlerError.permanent("forward: the event id cannot be sent as a webhook-id header")
        }
        let body = Array(event.payload.utf8)
        let timestamp = Int(context.clock.now().millisecondsSinceEpoch / 1000)
        var headers: HTTPFields = [
            .contentType: "application/json",
            .webhookID: event.id,
            .webhookTimestamp: String(timestamp),
        ]
        if let secret = self.secret {
            headers[.webhookSignature] = secret.sign(id: event.id, timestamp: String(timestamp), body: body)
        }
        let request = OutboundRequest(
            method: .post,
            url: self.url,
            headers: headers,
            body: body,
            connectTimeout: min(self.timeout, 10),
            timeout: self.timeout
        )

        let response: OutboundResponse
        do {
            response = try await self.client.execute(request)
        } catch let error as OutboundError where error.isInvalidRequest {
            // A header or URL the client refuses will be refused on every attempt.
            throw HandlerError.permanent("forward: \(error)")
        } catch let error as OutboundError {
            // Network failures, timeouts, TLS failures, an oversized answer: maybe better
            // next time. The message names no URL (it may carry a token in its query).
            throw HandlerError.transient("forward: \(error)")
        }

        switch response.status {
        case 200..<300:
            context.logger.debug("forwarded event", metadata: ["event": "\(event.id)", "status": "\(response.status)"])
        case 429, 500..<600:
            throw HandlerError.transient(
                "forward: receiver answered \(response.status)",
                retryAfter: Self.retryAfterSeconds(response.headers[.retryAfter])
            )
        default:
            let excerpt = String(decoding: response.body.prefix(Self.bodyExcerptBytes), as: UTF8.self)
            throw HandlerError.permanent("forward: receiver answered \(response.status): \(excerpt)")
        }
    }

    /// `Retry-After` as delta seconds; an HTTP-date (or anything else) gives nil.
    static func retryAfterSeconds(_ value: String?) -> Double? {
        guard let value else { return nil }
        let isSpace: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        var digits = Substring(value).utf8.drop(while: isSpace)
        while let last = digits.last, isSpace(last) { digits = digits.dropLast() }
        guard (1...9).contains(digits.count),
              digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              let seconds = Int(String(decoding: digits, as: UTF8.self))
        else { return nil }
        return Double(seconds)
    }
}

extension HTTPField.Name {
    /// Standard Webhooks' headers.
    static let webhookID = HTTPField.Name("webhook-id")!
    static let webhookTimestamp = HTTPField.Name("webhook-timestamp")!
    static let webhookSignature = HTTPField.Name("webhook-signature")!
}
