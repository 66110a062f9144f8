internal import CCurl
internal import Foundation

/// One outbound HTTP request, as ``OutboundClient`` sends it.
///
/// Named `OutboundRequest` so it never clashes with the server framework's `HTTPRequest`.
/// Every request carries a connect timeout and a total timeout (libcurl's defaults wait
/// forever), and a bound on the response body, so a misbehaving peer can neither hang a
/// handler nor fill memory.
///
/// ```swift
/// let request = OutboundRequest(
///     method: "POST", url: "https://example.com/hook",
///     headers: [("content-type", "application/json")], body: Array(json.utf8),
///     timeout: 10
/// )
/// ```
public struct OutboundRequest: Sendable {
    /// The HTTP method, sent as written (`GET`, `POST`, `PATCH`, ...).
    public var method: String
    /// An `http://` or `https://` URL; other schemes are refused.
    public var url: String
    /// Request headers in order. Values may hold secrets: they never appear in errors.
    public var headers: [(String, String)]
    /// The request body; `nil` sends none (a `POST` then sends `Content-Length: 0`).
    public var body: [UInt8]?
    /// Seconds allowed to establish the connection (TCP and TLS).
    public var connectTimeout: Double
    /// Seconds allowed for the whole transfer, connection included.
    public var timeout: Double
    /// The largest response body accepted; a larger one aborts the transfer with an error.
    public var maxResponseBytes: Int

    /// 1 MiB.
    public static let defaultMaxResponseBytes = 1 << 20

    public init(
        method: String = "GET",
        url: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil,
        connectTimeout: Double = 10,
        timeout: Double = 30,
        maxResponseBytes: Int = OutboundRequest.defaultMaxResponseBytes
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
    }
}

/// The answer to an ``OutboundRequest``: any status, including 4xx and 5xx.
///
/// ```swift
/// let response = try await client.execute(request)
/// if response.status == 429, let wait = response.header("Retry-After") { ... }
/// ```
