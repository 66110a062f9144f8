internal import CCurl
internal import Foundation
internal import HTTPTypes

/// An async HTTP client on libcurl's multi interface.
///
/// libcurl blocks, and on a two-core machine a blocking transfer on the cooperative pool
/// stalls half the server. So one dedicated thread runs a `curl_multi` loop: callers queue
/// requests under a lock and wake the loop with `curl_multi_wakeup`; the loop drives every
/// transfer with `curl_multi_perform` / `curl_multi_poll` and resumes each caller when
/// `curl_multi_info_read` reports its transfer done. The multi handle keeps a connection
/// cache (`CURLMOPT_MAXCONNECTS`), so requests to the same host reuse kept-alive
/// connections, and finished easy handles are reset and reused (they keep TLS sessions).
///
/// TLS is always verified (`CURLOPT_SSL_VERIFYPEER=1`, `CURLOPT_SSL_VERIFYHOST=2`);
/// there is no switch to turn that off. ``Configuration/caBundlePath`` (`INLET_CA_BUNDLE`)
/// adds a PEM bundle to trust. Only `http` and `https` URLs are followed; redirects are not.
///
/// Cancelling the calling task aborts its transfer. Call ``shutdown()`` when done; the
/// client also stops its thread when released.
///
/// ```swift
/// let client = OutboundClient(configuration: .init(caBundlePath: configuration.caBundlePath))
/// let response = try await client.execute(OutboundRequest(url: "https://example.com/", timeout: 5))
/// await client.shutdown()
/// ```
public final class OutboundClient: Sendable {
    /// How the client connects.
    public struct Configuration: Sendable {
        /// A PEM bundle of CA certificates (`CURLOPT_CAINFO`). It replaces libcurl's default
        /// bundle file; the default CA directory (`/etc/ssl/certs` on Debian) still applies,
        /// so system roots stay trusted.
        public var caBundlePath: String?
        /// Idle connections kept for reuse (`CURLMOPT_MAXCONNECTS`).
        public var maxConnections: Int
        /// Connections open at once to one host (`CURLMOPT_MAX_HOST_CONNECTIONS`); more
        /// requests wait for a free connection, and their timeouts include the wait.
        public var maxConnectionsPerHost: Int
        /// The `User-Agent` header, unless a request sets its own.
        public var userAgent: String
        /// The proxy every request goes through (`CURLOPT_PROXY`, `INLET_HTTP_PROXY`); nil
        /// means none: libcurl's reading of `http_proxy`, `https_proxy` and `ALL_PROXY` from
        /// the environment is turned off, so secrets never follow a variable set for
        /// something else.
        public var proxy: String?

        public init(
            caBundlePath: String? = nil,
            maxConnections: Int = 32,
            maxConnectionsPerHost: Int = 8,
            userAgent: String = "inlet/0.1.0",
            proxy: String? = nil
        ) {
            self.caBundlePath = caBundlePath
            self.proxy = proxy
            self.maxConnections = maxConnections
            self.maxConnectionsPerHost = maxConnectionsPerHost
            self.userAgent = userAgent
        }
    }

    public let configuration: Configuration
    private let loop: CurlMultiLoop

    /// Starts the client's thread.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.loop = CurlMultiLoop(configuration: configuration)
    }

    deinit {
        self.loop.requestStop()
    }

    /// Sends `request` and returns the response, whatever its status.
    ///
    /// Throws ``OutboundError`` when no response was received (connection, TLS, timeout,
    /// oversized body, shutdown) and `CancellationError` when the task is cancelled.
    public func execute(_ request: OutboundRequest) async throws -> OutboundResponse {
        try Self.validate(request)
        let transfer = Transfer(request: request)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<OutboundResponse, any Error>) in
                transfer.continuation = continuation
                self.loop.enqueue(transfer)
            }
        } onCancel: {
            self.loop.cancel(transfer)
        }
    }

    /// Fails the requests still in flight with ``OutboundError/shutdown``, closes the
    /// connections and ends the thread. Later requests fail the same way.
    public func shutdown() async {
        await self.loop.stop()
    }

    /// Refuses what would be sent wrongly: header injection through CR/LF, C strings cut
    /// at a NUL, timeouts that libcurl reads as "wait forever".
    ///
    /// `HTTPRequest.Method` and `HTTPFields` already hold only tokens and legal values; the
    /// method and header checks restate that at the point where the strings become curl's
    /// request line and header lines, so the client stays safe whatever builds them.
    private static func validate(_ request: OutboundRequest) throws {
        func clean(_ bytes: some Sequence<UInt8>) -> Bool {
            !bytes.contains { $0 == 0 || $0 == 10 || $0 == 13 }
        }
        let method = request.method.rawValue
        guard !method.isEmpty, method.utf8.allSatisfy(Self.isTokenByte) else {
            throw OutboundError.invalidRequest("method is not an HTTP token")
        }
        guard !request.url.isEmpty, clean(request.url.utf8) else {
            throw OutboundError.invalidRequest("URL is empty or holds a control character")
        }
        for field in request.headers {
            let name = field.name.canonicalName
            guard !name.isEmpty, name.utf8.allSatisfy(Self.isTokenByte) else {
                throw OutboundError.invalidRequest("a header name is not an HTTP token")
            }
            guard field.withUnsafeBytesOfValue({ clean($0) }) else {
                throw OutboundError.invalidRequest("the value of header \(name) holds CR, LF or NUL")
            }
        }
        guard request.connectTimeout.isFinite, request.connectTimeout > 0,
              request.timeout.isFinite, request.timeout > 0
        else {
            throw OutboundError.invalidRequest("timeouts must be positive and finite")
        }
        guard request.maxResponseBytes >= 0 else {
            throw OutboundError.invalidRequest("maxResponseBytes must not be negative")
        }
    }

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}

// MARK: - Process-wide initialisation

enum CurlGlobal {
    /// `curl_global_init` once per process, before the first handle is made. A static
    /// `let` is initialised exactly once, thread-safely.
    static let initialized: Void = {
        let code = CCurl_global_init_default()
        precondition(code == CURLE_OK, "curl_global_init failed: \(String(cString: curl_easy_strerror(code)))")
    }()
}

