internal import CCurl
internal import Foundation

// MARK: - Request and response

/// One outbound HTTP request, as ``HTTPClient`` sends it.
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
public struct OutboundResponse: Sendable {
    public let status: Int
    /// Response headers in order, names lower-cased, values trimmed.
    public let headers: [(String, String)]
    public let body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of the header `name` (case-insensitive), or nil.
    public func header(_ name: String) -> String? {
        let name = name.lowercased()
        return self.headers.first { $0.0 == name }?.1
    }
}

// MARK: - Errors

/// Why an outbound request got no response.
///
/// Keeps libcurl's `CURLcode`, its `curl_easy_strerror` text and the transfer's
/// `CURLOPT_ERRORBUFFER` message (which names the host and what went wrong). It never
/// holds request headers or the body: those may carry tokens.
///
/// ```swift
/// do { _ = try await client.execute(request) }
/// catch let error as HTTPClientError where error.isTimeout { /* retry later */ }
/// ```
public struct HTTPClientError: Error, CustomStringConvertible, Sendable {
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
    public static let shutdown = HTTPClientError(
        kind: .shutdown, curlCode: 0, curlMessage: "HTTP client is shut down", detail: ""
    )

    /// The request cannot be sent as given; `reason` never quotes header values.
    public static func invalidRequest(_ reason: String) -> HTTPClientError {
        .init(kind: .invalidRequest, curlCode: 0, curlMessage: "invalid request", detail: reason)
    }

    static func transfer(_ code: CURLcode, detail: String) -> HTTPClientError {
        .init(kind: .transfer, curlCode: Int(code.rawValue), curlMessage: Self.strerror(code), detail: detail)
    }

    static func responseTooLarge(_ code: CURLcode, limit: Int) -> HTTPClientError {
        .init(
            kind: .responseTooLarge, curlCode: Int(code.rawValue), curlMessage: Self.strerror(code),
            detail: "response body larger than \(limit) bytes"
        )
    }

    static func internalFailure(_ message: String) -> HTTPClientError {
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

// MARK: - Client

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
/// let client = HTTPClient(configuration: .init(caBundlePath: configuration.caBundlePath))
/// let response = try await client.execute(OutboundRequest(url: "https://example.com/", timeout: 5))
/// await client.shutdown()
/// ```
public final class HTTPClient: Sendable {
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
            userAgent: String = "inlet/\(InletCoreVersion.string)",
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
    /// Throws ``HTTPClientError`` when no response was received (connection, TLS, timeout,
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

    /// Fails the requests still in flight with ``HTTPClientError/shutdown``, closes the
    /// connections and ends the thread. Later requests fail the same way.
    public func shutdown() async {
        await self.loop.stop()
    }

    /// Refuses what would be sent wrongly: header injection through CR/LF, C strings cut
    /// at a NUL, timeouts that libcurl reads as "wait forever".
    private static func validate(_ request: OutboundRequest) throws {
        func clean(_ text: String) -> Bool {
            !text.utf8.contains { $0 == 0 || $0 == 10 || $0 == 13 }
        }
        guard !request.method.isEmpty, request.method.utf8.allSatisfy(Self.isTokenByte) else {
            throw HTTPClientError.invalidRequest("method is not an HTTP token")
        }
        guard !request.url.isEmpty, clean(request.url) else {
            throw HTTPClientError.invalidRequest("URL is empty or holds a control character")
        }
        for (name, value) in request.headers {
            guard !name.isEmpty, name.utf8.allSatisfy(Self.isTokenByte) else {
                throw HTTPClientError.invalidRequest("a header name is not an HTTP token")
            }
            guard clean(value) else {
                throw HTTPClientError.invalidRequest("the value of header \(name) holds CR, LF or NUL")
            }
        }
        guard request.connectTimeout.isFinite, request.connectTimeout > 0,
              request.timeout.isFinite, request.timeout > 0
        else {
            throw HTTPClientError.invalidRequest("timeouts must be positive and finite")
        }
        guard request.maxResponseBytes >= 0 else {
            throw HTTPClientError.invalidRequest("maxResponseBytes must not be negative")
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

// MARK: - One transfer

/// The state of one request while libcurl runs it; C callbacks reach it through an
/// unretained pointer (CURLOPT_WRITEDATA / CURLOPT_HEADERDATA) while the loop's `active`
/// table holds it.
private final class Transfer: @unchecked Sendable {
    // @unchecked Sendable: `continuation` is set by the caller before the transfer is
    // queued; `cancelRequested` and `queued` are guarded by the loop's lock; everything
    // else is touched only by the loop thread after the transfer is queued.
    let request: OutboundRequest
    var continuation: CheckedContinuation<OutboundResponse, any Error>?
    var cancelRequested = false
    var queued = false

    var easy: UnsafeMutableRawPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    let errorBuffer: UnsafeMutablePointer<CChar>
    var responseHeaders: [(String, String)] = []
    var body: [UInt8] = []
    var exceededLimit = false

    init(request: OutboundRequest) {
        self.request = request
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        self.errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        if let headerList = self.headerList { curl_slist_free_all(headerList) }
        self.errorBuffer.deallocate()
    }

    /// Resumes the caller; later calls do nothing.
    func finish(_ result: Result<OutboundResponse, any Error>) {
        let continuation = self.continuation
        self.continuation = nil
        continuation?.resume(with: result)
    }

    var errorText: String {
        self.errorBuffer[Int(CURL_ERROR_SIZE) - 1] = 0
        return String(cString: self.errorBuffer).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// One header line from libcurl (with its CRLF). A status line starts a new header
    /// block (after `100 Continue` or a proxy's CONNECT answer), so only the final
    /// response's headers are kept.
    func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        var line = Substring(String(decoding: bytes, as: UTF8.self))
        while let last = line.last, last == "\r\n" || last == "\n" || last == "\r" { line.removeLast() }
        if line.isEmpty { return }
        if line.hasPrefix("HTTP/") {
            self.responseHeaders.removeAll()
            return
        }
        if let first = line.first, first == " " || first == "\t", !self.responseHeaders.isEmpty {
            // Obsolete line folding: continues the previous value.
            let index = self.responseHeaders.count - 1
            let more = line.trimmingCharacters(in: .whitespaces)
            self.responseHeaders[index].1 += " " + more
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        self.responseHeaders.append((name, value))
    }

    /// Body bytes from libcurl; false once the limit is passed (the transfer then aborts).
    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if self.body.count + bytes.count > self.request.maxResponseBytes {
            self.exceededLimit = true
            return false
        }
        self.body.append(contentsOf: bytes)
        return true
    }
}

// MARK: - The multi loop

/// The thread that owns the `CURLM` handle and runs every transfer.
private final class CurlMultiLoop: @unchecked Sendable {
    // @unchecked Sendable: `multi`, `active` and `idleHandles` are touched only by the
    // loop thread, except `curl_multi_wakeup`, which libcurl allows from any thread and
    // which is called under `lock` only while `stopping` is false (the handle is then
    // alive). `pending`, `cancellations`, `stopping`, `stopped` and `stopWaiters` are
    // guarded by `lock`.
    private let lock = NSLock()
    private var pending: [Transfer] = []
    private var cancellations: [Transfer] = []
    private var stopping = false
    private var stopped = false
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []

    private let configuration: HTTPClient.Configuration
    private let multi: UnsafeMutableRawPointer
    private var active: [UnsafeMutableRawPointer: Transfer] = [:]
    private var idleHandles: [UnsafeMutableRawPointer] = []

    init(configuration: HTTPClient.Configuration) {
        _ = CurlGlobal.initialized
        self.configuration = configuration
        guard let multi = curl_multi_init() else { preconditionFailure("curl_multi_init failed (out of memory)") }
        self.multi = multi
        _ = CCurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(1, configuration.maxConnections))
        _ = CCurl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, max(1, configuration.maxConnectionsPerHost))
        // The thread keeps the loop alive until it stops.
        let thread = Thread { [self] in self.run() }
        thread.name = "inlet.http.curl"
        thread.stackSize = 1 << 20
        thread.start()
    }

    // MARK: Called from any thread

    func enqueue(_ transfer: Transfer) {
        self.lock.lock()
        if self.stopping {
            self.lock.unlock()
            transfer.finish(.failure(HTTPClientError.shutdown))
            return
        }
        if transfer.cancelRequested {
            self.lock.unlock()
            transfer.finish(.failure(CancellationError()))
            return
        }
        transfer.queued = true
        self.pending.append(transfer)
        _ = curl_multi_wakeup(self.multi)
        self.lock.unlock()
    }

    func cancel(_ transfer: Transfer) {
        self.lock.lock()
        transfer.cancelRequested = true
        if transfer.queued && !self.stopping {
            self.cancellations.append(transfer)
            _ = curl_multi_wakeup(self.multi)
        }
        self.lock.unlock()
    }

    func requestStop() {
        self.lock.lock()
        if !self.stopping {
            self.stopping = true
            _ = curl_multi_wakeup(self.multi)
        }
        self.lock.unlock()
    }

    func stop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            self.lock.lock()
            if self.stopped {
                self.lock.unlock()
                continuation.resume()
                return
            }
            self.stopWaiters.append(continuation)
            if !self.stopping {
                self.stopping = true
                _ = curl_multi_wakeup(self.multi)
            }
            self.lock.unlock()
        }
    }

    // MARK: The loop thread

    private func run() {
        while true {
            self.lock.lock()
            if self.stopping {
                let orphans = self.pending
                self.pending = []
                self.cancellations = []
                self.lock.unlock()
                self.close(orphans: orphans)
                return
            }
            let starting = self.pending
            let cancelling = self.cancellations
            self.pending = []
            self.cancellations = []
            self.lock.unlock()

            for transfer in starting { self.start(transfer) }
            for transfer in cancelling {
                guard let easy = transfer.easy, self.active[easy] === transfer else { continue }
                self.active[easy] = nil
                curl_multi_remove_handle(self.multi, easy)
                self.release(easy, of: transfer)
                transfer.finish(.failure(CancellationError()))
            }

            var running: Int32 = 0
            let performed = curl_multi_perform(self.multi, &running)
            if performed != CURLM_OK { self.failAll(performed) }
            self.collectFinished()
            // Sleeps until a socket is ready, curl's next timer, a wakeup, or 1 s.
            _ = curl_multi_poll(self.multi, nil, 0, 1000, nil)
        }
    }

    private func close(orphans: [Transfer]) {
        for transfer in orphans { transfer.finish(.failure(HTTPClientError.shutdown)) }
        let inFlight = self.active
        self.active = [:]
        for (easy, transfer) in inFlight {
            curl_multi_remove_handle(self.multi, easy)
            self.release(easy, of: transfer)
            transfer.finish(.failure(HTTPClientError.shutdown))
        }
        for easy in self.idleHandles { curl_easy_cleanup(easy) }
        self.idleHandles = []
        curl_multi_cleanup(self.multi)

        self.lock.lock()
        self.stopped = true
        let waiters = self.stopWaiters
        self.stopWaiters = []
        self.lock.unlock()
        for waiter in waiters { waiter.resume() }
    }

    /// The multi handle itself failed (out of memory): fail what it was running.
    private func failAll(_ code: CURLMcode) {
        let message = "curl_multi_perform failed: \(String(cString: curl_multi_strerror(code)))"
        let inFlight = self.active
        self.active = [:]
        for (easy, transfer) in inFlight {
            curl_multi_remove_handle(self.multi, easy)
            self.release(easy, of: transfer)
            transfer.finish(.failure(HTTPClientError.internalFailure(message)))
        }
    }

    private func collectFinished() {
        var queued: Int32 = 0
        while let message = curl_multi_info_read(self.multi, &queued) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                  let transfer = self.active.removeValue(forKey: easy)
            else { continue }
            // Read the message before removing the handle: that invalidates it.
            let code = CCurl_msg_result(message)
            var status = 0
            _ = CCurl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
            curl_multi_remove_handle(self.multi, easy)

            let result: Result<OutboundResponse, any Error>
            if code == CURLE_OK {
                result = .success(OutboundResponse(status: status, headers: transfer.responseHeaders, body: transfer.body))
            } else if transfer.exceededLimit || code == CURLE_FILESIZE_EXCEEDED {
                result = .failure(HTTPClientError.responseTooLarge(code, limit: transfer.request.maxResponseBytes))
            } else {
                result = .failure(HTTPClientError.transfer(code, detail: transfer.errorText))
            }
            self.release(easy, of: transfer)
            transfer.finish(result)
        }
    }

    private func start(_ transfer: Transfer) {
        guard let easy = self.idleHandles.popLast() ?? curl_easy_init() else {
            transfer.finish(.failure(HTTPClientError.internalFailure("curl_easy_init failed (out of memory)")))
            return
        }
        transfer.easy = easy
        let configured = self.configure(easy, for: transfer)
        if configured != CURLE_OK {
            let error = HTTPClientError.transfer(configured, detail: transfer.errorText)
            self.release(easy, of: transfer)
            transfer.finish(.failure(error))
            return
        }
        let added = curl_multi_add_handle(self.multi, easy)
        if added != CURLM_OK {
            let message = "curl_multi_add_handle failed: \(String(cString: curl_multi_strerror(added)))"
            self.release(easy, of: transfer)
            transfer.finish(.failure(HTTPClientError.internalFailure(message)))
            return
        }
        self.active[easy] = transfer
    }

    /// Resets the handle (which drops every pointer into `transfer`) and keeps it for the
    /// next request, or frees it when enough are kept.
    private func release(_ easy: UnsafeMutableRawPointer, of transfer: Transfer) {
        curl_easy_reset(easy)
        transfer.easy = nil
        if let headerList = transfer.headerList {
            curl_slist_free_all(headerList)
            transfer.headerList = nil
        }
        if self.idleHandles.count < max(1, self.configuration.maxConnections) {
            self.idleHandles.append(easy)
        } else {
            curl_easy_cleanup(easy)
        }
    }

    /// Sets every option of one transfer; returns the first failure, or CURLE_OK.
    private func configure(_ easy: UnsafeMutableRawPointer, for transfer: Transfer) -> CURLcode {
        let request = transfer.request
        var failure = CURLE_OK
        func set(_ code: CURLcode) {
            if failure == CURLE_OK && code != CURLE_OK { failure = code }
        }
        func milliseconds(_ seconds: Double) -> Int {
            Int(min(max(1, (seconds * 1000).rounded(.up)), Double(Int32.max)))
        }

        set(CCurl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(transfer.errorBuffer)))
        set(CCurl_easy_setopt_string(easy, CURLOPT_URL, request.url))
        set(CCurl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https"))
        set(CCurl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        set(CCurl_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0))
        set(CCurl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1))
        set(CCurl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2))
        if let caBundle = self.configuration.caBundlePath {
            set(CCurl_easy_setopt_string(easy, CURLOPT_CAINFO, caBundle))
        }
        set(CCurl_easy_setopt_string(easy, CURLOPT_USERAGENT, self.configuration.userAgent))
        // An empty proxy turns the *_proxy environment variables off.
        set(CCurl_easy_setopt_string(easy, CURLOPT_PROXY, self.configuration.proxy ?? ""))
        set(CCurl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(request.connectTimeout)))
        set(CCurl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, milliseconds(request.timeout)))
        // Refuses a declared Content-Length over the limit before reading the body; the
        // write callback catches bodies without one.
        set(CCurl_easy_setopt_off(easy, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(request.maxResponseBytes)))

        let context = Unmanaged.passUnretained(transfer).toOpaque()
        set(CCurl_easy_setopt_write_callback(easy) { data, size, count, context in
            let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
        })
        set(CCurl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, context))
        set(CCurl_easy_setopt_header_callback(easy) { data, size, count, context in
            let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: length))
            return length
        })
        set(CCurl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, context))

        // Headers. "Name;" is curl's spelling of an empty value; an empty "Expect:" stops
        // curl from waiting for `100 Continue` before sending a large body.
        var list: UnsafeMutablePointer<curl_slist>? = nil
        var hasExpect = false
        for (name, value) in request.headers {
            if name.lowercased() == "expect" { hasExpect = true }
            let line = value.isEmpty ? "\(name);" : "\(name): \(value)"
            guard let extended = curl_slist_append(list, line) else { set(CURLE_OUT_OF_MEMORY); break }
            list = extended
        }
        if !hasExpect, let extended = curl_slist_append(list, "Expect:") { list = extended }
        transfer.headerList = list
        set(CCurl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list))

        // Method and body.
        switch request.method {
        case "GET": set(CCurl_easy_setopt_long(easy, CURLOPT_HTTPGET, 1))
        case "HEAD": set(CCurl_easy_setopt_long(easy, CURLOPT_NOBODY, 1))
        case "POST": set(CCurl_easy_setopt_long(easy, CURLOPT_POST, 1))
        default: set(CCurl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method))
        }
        if request.body != nil || request.method == "POST" {
            let body = request.body ?? []
            set(CCurl_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            // COPYPOSTFIELDS copies the bytes now; a real pointer even for an empty body,
            // since NULL would make curl read the body from its read callback.
            var placeholder: UInt8 = 0
            withUnsafeMutablePointer(to: &placeholder) { placeholder in
                body.withUnsafeBytes { bytes in
                    let pointer = UnsafeMutableRawPointer(mutating: bytes.baseAddress) ?? UnsafeMutableRawPointer(placeholder)
                    set(CCurl_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, pointer))
                }
            }
            // Setting a body turns GET/HEAD into POST; keep the verb the caller asked for.
            if request.method == "GET" || request.method == "HEAD" {
                set(CCurl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method))
            }
        }
        return failure
    }
}
