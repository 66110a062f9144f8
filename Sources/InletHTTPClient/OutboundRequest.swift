internal import CCurl
internal import Foundation
public import HTTPTypes

/// One outbound HTTP request, as ``OutboundClient`` sends it.
///
/// Named `OutboundRequest` so it never clashes with swift-http-types' `HTTPRequest`, whose
/// method and field types it uses. Every request carries a connect timeout and a total
/// timeout (libcurl's defaults wait forever), and a bound on the response body, so a
/// misbehaving peer can neither hang a handler nor fill memory.
///
/// ```swift
/// let request = OutboundRequest(
///     method: .post, url: "https://example.com/hook",
///     headers: [.contentType: "application/json"], body: Array(json.utf8),
///     timeout: 10
/// )
/// ```
public struct OutboundRequest: Sendable {
    /// The HTTP method (`.get`, `.post`, `.patch`, ...), sent as its `rawValue`.
    public var method: HTTPRequest.Method
    /// An `http://` or `https://` URL; other schemes are refused.
    public var url: String
    /// Request headers in order, sent with lower-cased names (the field names'
    /// `canonicalName`). Values may hold secrets: they never appear in errors.
    ///
    /// Neither names nor values can smuggle in another header: `HTTPField.Name.init?`
    /// refuses a name that is not an HTTP token, and `HTTPField` replaces the bytes a value
    /// may not hold (CR, LF and NUL among them) with spaces.
    public var headers: HTTPFields
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
        method: HTTPRequest.Method = .get,
        url: String,
        headers: HTTPFields = [:],
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
