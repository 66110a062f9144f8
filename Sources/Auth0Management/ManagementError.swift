internal import InletHTTPClient
internal import InletCore

/// A failed Auth0 call: the token endpoint or the Management API.
///
/// Keeps what Auth0 said (`statusCode`, `error`, `message` — the token endpoint's
/// `error_description` — and `errorCode`), never the request: no client secret, no token.
/// Transport failures keep libcurl's text. ``isTransient`` says whether trying later may
/// help (429, 5xx, timeouts, connection failures).
///
/// ```swift
/// do { _ = try await client.createUser(body) }
/// catch let error as ManagementError where error.statusCode == 409 { /* link the existing account */ }
/// ```
public struct ManagementError: Error, CustomStringConvertible, Sendable {
    private enum Kind: Sendable, Equatable {
        case token
        case api
        case transport
        case invalidResponse
        case configuration
    }

    private let kind: Kind
    /// The HTTP status (0 when no response was received).
    public let statusCode: Int
    /// Auth0's `error` (`"Conflict"`, `"access_denied"`, ...), or a short code of Inlet's.
    public let error: String
    /// Auth0's `message` or `error_description`.
    public let message: String
    /// Auth0's `errorCode` when it sent one (`"auth0_idp_error"`, `"inexistent_user"`).
    public let errorCode: String?
    /// The call, as `METHOD /path/template`.
    public let operation: String
    /// Seconds Auth0 asked to wait (429), if known.
    public let retryAfter: Double?
    private let timedOut: Bool

    private init(
        kind: Kind, statusCode: Int, error: String, message: String, errorCode: String?, operation: String,
        retryAfter: Double? = nil, timedOut: Bool = false
    ) {
        self.kind = kind
        self.statusCode = statusCode
        self.error = error
        self.message = message
        self.errorCode = errorCode
        self.operation = operation
        self.retryAfter = retryAfter
        self.timedOut = timedOut
    }

    /// An error answer of the Management API (`{statusCode, error, message, errorCode?}`).
    static func api(status: Int, body: [UInt8], operation: String, retryAfter: Double?) -> ManagementError {
        let fields = Self.fields(body)
        return .init(
            kind: .api, statusCode: status, error: fields.error ?? "http_\(status)", message: fields.message ?? "HTTP \(status)",
            errorCode: fields.errorCode, operation: operation, retryAfter: retryAfter
        )
    }

    /// An error answer of `/oauth/token` (`{error, error_description}`).
    static func token(status: Int, body: [UInt8], retryAfter: Double?) -> ManagementError {
        let fields = Self.fields(body)
        return .init(
            kind: .token, statusCode: status, error: fields.error ?? "http_\(status)", message: fields.message ?? "HTTP \(status)",
            errorCode: fields.errorCode, operation: "POST /oauth/token", retryAfter: retryAfter
        )
    }

    static func transport(_ error: OutboundError, operation: String) -> ManagementError {
        .init(
            kind: .transport, statusCode: 0, error: error.isTimeout ? "timeout" : "network", message: error.description,
            errorCode: nil, operation: operation, timedOut: error.isTimeout
        )
    }

    static func invalidResponse(_ message: String, status: Int, operation: String) -> ManagementError {
        .init(kind: .invalidResponse, statusCode: status, error: "invalid_response", message: message, errorCode: nil, operation: operation)
    }

    static func configuration(_ message: String) -> ManagementError {
        .init(kind: .configuration, statusCode: 0, error: "configuration", message: message, errorCode: nil, operation: "")
    }

    private static func fields(_ body: [UInt8]) -> (error: String?, message: String?, errorCode: String?) {
        guard !body.isEmpty, let document = try? JSONDocument.parse(body), document.root.isObject else {
            return (nil, nil, nil)
        }
        let root = document.root
        let error = (try? root.string("error")) ?? nil
        let message = ((try? root.string("message")) ?? nil) ?? ((try? root.string("error_description")) ?? nil)
        let errorCode = (try? root.string("errorCode")) ?? nil
        return (error, message.map { String($0.prefix(500)) }, errorCode)
    }

    /// The error came from `/oauth/token`.
    public var isTokenError: Bool { self.kind == .token }
    /// No response: connection refused, TLS, timeout.
    public var isTransport: Bool { self.kind == .transport }
    public var isTimeout: Bool { self.timedOut }
    public var isConflict: Bool { self.kind == .api && self.statusCode == 409 }
    public var isNotFound: Bool { self.kind == .api && self.statusCode == 404 }

    /// Trying again later may succeed: 429, 5xx, 408, no response.
    public var isTransient: Bool {
        switch self.kind {
        case .transport: return true
        case .api, .token: return self.statusCode == 429 || self.statusCode == 408 || self.statusCode >= 500
        case .invalidResponse: return self.statusCode >= 500
        case .configuration: return false
        }
    }

    /// A label for `auth0_api_errors_total{code}`: the status, or `timeout` / `network`.
    public var metricCode: String {
        self.kind == .transport ? self.error : String(self.statusCode)
    }

    public var description: String {
        var text = "Auth0 \(self.operation.isEmpty ? "" : self.operation + " ")failed"
        if self.statusCode > 0 { text += ": \(self.statusCode)" }
        text += " \(self.error): \(self.message)"
        if let code = self.errorCode { text += " (\(code))" }
        return text
    }
}
