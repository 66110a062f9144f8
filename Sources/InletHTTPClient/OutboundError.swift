internal import CCurl
internal import Foundation

/// Why an outbound request got no response.
///
/// Keeps libcurl's `CURLcode`, its `curl_easy_strerror` text and the transfer's
/// `CURLOPT_ERRORBUFFER` message (which names the host and what went wrong). It never
/// holds request headers or the body: those may carry tokens.
///
/// ```swift
/// do { _ = try await client.execute(request) }
/// catch let error as OutboundError where error.isTimeout { /* retry later */ }
/// ```
public struct OutboundError: Error, CustomStringConvertible, Sendable {
    private enum Kind: Sendable {
        case transfer
        case responseTooLarge
        case invalidRequest
        case shutdown
        case internalFailure
    }

    private let kind: Kind
    /// libcurl's `CURLcode` for the transfer (0 when the error did not come from a transfer).
    public let curlCode: Int
    /// `curl_easy_strerror(curlCode)`, or a description of the non-curl failure.
    public let curlMessage: String
    /// The transfer's `CURLOPT_ERRORBUFFER` text; may be empty.
    public let detail: String

    private init(kind: Kind, curlCode: Int, curlMessage: String, detail: String) {
        self.kind = kind
        self.curlCode = curlCode
        self.curlMessage = curlMessage
        self.detail = detail
    }

    /// The client was shut down before the request completed.
    public static let shutdown = OutboundError(
        kind: .shutdown, curlCode: 0, curlMessage: "HTTP client is shut down", detail: ""
    )

    /// The request cannot be sent as given; `reason` never quotes header values.
    public static func invalidRequest(_ reason: String) -> OutboundError {
        .init(kind: .invalidRequest, curlCode: 0, curlMessage: "invalid request", detail: reason)
    }

    static func transfer(_ code: CURLcode, detail: String) -> OutboundError {
        .init(kind: .transfer, curlCode: Int(code.rawValue), curlMessage: Self.strerror(code), detail: detail)
    }

    static func responseTooLarge(_ code: CURLcode, limit: Int) -> OutboundError {
        .init(
            kind: .responseTooLarge, curlCode: Int(code.rawValue), curlMessage: Self.strerror(code),
            detail: "response body larger than \(limit) bytes"
        )
    }

    static func internalFailure(_ message: String) -> OutboundError {
        .init(kind: .internalFailure, curlCode: 0, curlMessage: message, detail: "")
    }

    private static func strerror(_ code: CURLcode) -> String {
        String(cString: curl_easy_strerror(code))
    }

    private func isCurl(_ codes: CURLcode...) -> Bool {
        self.kind == .transfer && codes.contains { Int($0.rawValue) == self.curlCode }
    }

    /// The connect or total timeout ran out.
    public var isTimeout: Bool { self.isCurl(CURLE_OPERATION_TIMEDOUT) }
    /// No connection could be made: refused, unreachable, or the name did not resolve.
    public var isConnectionFailure: Bool {
        self.isCurl(CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY)
    }
    /// The TLS handshake or certificate verification failed (or the CA bundle is unreadable).
    public var isTLSFailure: Bool {
        self.isCurl(
            CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE,
            CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_ISSUER_ERROR
        )
    }
    /// The response body exceeded the request's `maxResponseBytes`.
    public var isResponseTooLarge: Bool { self.kind == .responseTooLarge }
    /// The request was refused before sending (bad method, header or timeout).
    public var isInvalidRequest: Bool { self.kind == .invalidRequest }
    /// The client was shut down.
    public var isShutdown: Bool { self.kind == .shutdown }

    public var description: String {
        switch self.kind {
        case .transfer:
            let text = "HTTP request failed: \(self.curlMessage) (curl \(self.curlCode))"
            return self.detail.isEmpty ? text : "\(text): \(self.detail)"
        case .responseTooLarge:
            return "HTTP request failed: \(self.detail), transfer aborted (curl \(self.curlCode))"
        case .invalidRequest, .shutdown, .internalFailure:
            return self.detail.isEmpty ? "HTTP request failed: \(self.curlMessage)" : "HTTP request failed: \(self.curlMessage): \(self.detail)"
        }
    }
}

