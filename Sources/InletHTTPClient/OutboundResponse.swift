public import HTTPTypes

/// The answer to an ``OutboundRequest``: any status, including 4xx and 5xx.
///
/// Header lookups go through `HTTPFields`, so they ignore case.
///
/// ```swift
/// let response = try await client.execute(request)
/// if response.status == 429, let wait = response.headers[.retryAfter] { ... }
/// ```
public struct OutboundResponse: Sendable {
    /// The status code (`200`, `429`, ...).
    public let status: Int
    /// Response headers in order, names lower-cased, values trimmed. A line whose name is
    /// not an HTTP token is dropped; bytes not allowed in a field value become spaces.
    public let headers: HTTPFields
    public let body: [UInt8]

    public init(status: Int, headers: HTTPFields, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}
