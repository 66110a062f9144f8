internal import HTTPTypes
public import InletHTTPClient
public import CoreMetrics
public import InletCore
public import Logging

/// Management API access tokens from the client-credentials grant, kept in memory only.
///
/// A token is reused until `refreshBuffer` seconds before it expires (never more than
/// half its lifetime early); then the next caller refreshes it. However many callers
/// arrive while a refresh runs, there is one request to `/oauth/token`: they all await
/// it. ``invalidate(_:)`` drops a token the API refused (401), so the next call fetches a
/// new one. If a refresh fails while the old token is still valid, the old one is used.
///
/// Errors are ``ManagementError``s carrying Auth0's `error` and `error_description`; the
/// client secret is sent in the request body only and appears in no log or error.
///
/// ```swift
/// let tokens = TokenManager(tokenURL: "https://tenant.auth0.com/oauth/token", clientID: id,
///                           clientSecret: secret, audience: "https://tenant.auth0.com/api/v2/", http: http)
/// let token = try await tokens.token()
/// ```
public actor TokenManager {
    struct Cached: Sendable {
        let value: String
        let expiresAt: Timestamp
        let refreshAt: Timestamp
    }

    private let tokenURL: String
    private let clientID: String
    private let clientSecret: Secret
    private let audience: String
    private let http: OutboundClient
    private let clock: WallClock
    private let refreshBuffer: Double
    private let timeout: Double
    private let logger: Logger
    private let metrics: (any MetricsFactory)?
    private var current: Cached?
    private var inFlight: Task<Cached, any Error>?

    public init(
        tokenURL: String, clientID: String, clientSecret: Secret, audience: String, http: OutboundClient,
        refreshBuffer: Double = 300, timeout: Double = 10, clock: WallClock = .system,
        logger: Logger = Logger(label: "inlet.auth0"), metrics: (any MetricsFactory)? = nil
    ) {
        self.tokenURL = tokenURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.audience = audience
        self.http = http
        self.refreshBuffer = max(0, refreshBuffer)
        self.timeout = timeout
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
    }

    /// A valid access token: the cached one, or a fresh one (one fetch for all waiters).
    public func token() async throws -> String {
        let now = self.clock.now()
        if let current = self.current, now < current.refreshAt {
            return current.value
        }
        let task: Task<Cached, any Error>
        if let running = self.inFlight {
            task = running
        } else {
            task = Task { try await self.fetch() }
            self.inFlight = task
        }
        do {
            let fresh = try await task.value
            if self.inFlight == task { self.inFlight = nil }
            self.current = fresh
            return fresh.value
        } catch {
            if self.inFlight == task { self.inFlight = nil }
            // Still valid (refreshing early failed): keep using it.
            if let current = self.current, self.clock.now() < current.expiresAt, !(error is CancellationError) {
                self.logger.warning("auth0 token refresh failed; the current token is still valid", metadata: ["error": "\(error)"])
                return current.value
            }
            throw error
        }
    }

    /// Forgets `token` if it is the cached one (the API answered 401 with it).
    public func invalidate(_ token: String) {
        if self.current?.value == token { self.current = nil }
    }

    private func fetch() async throws -> Cached {
        let body: JSONValue = [
            "grant_type": "client_credentials", "client_id": .string(self.clientID),
            "client_secret": .string(self.clientSecret.value), "audience": .string(self.audience),
        ]
        let request = OutboundRequest(
            method: .post, url: self.tokenURL, headers: [.contentType: "application/json", .accept: "application/json"],
            body: body.serialized(), connectTimeout: min(self.timeout, 10), timeout: self.timeout, maxResponseBytes: 64 * 1024
        )
        let started = ContinuousClock.now
        let response: OutboundResponse
        do {
            response = try await self.http.execute(request)
        } catch let error as OutboundError {
            self.finish(status: 0, started: started, success: false)
            throw ManagementError.transport(error, operation: "POST /oauth/token")
        } catch {
            self.finish(status: 0, started: started, success: false)
            throw error
        }
        guard response.status == 200 else {
            self.finish(status: response.status, started: started, success: false)
            throw ManagementError.token(
                status: response.status, body: response.body, retryAfter: response.headers[.retryAfter].flatMap(Double.init)
            )
        }
        guard let document = try? JSONDocument.parse(response.body), document.root.isObject,
            let accessToken = (try? document.root.string("access_token")) ?? nil, !accessToken.isEmpty,
            // It goes out in an Authorization header, which would carry a CR or LF as a space.
            HTTPField.isValidValue(accessToken)
        else {
            self.finish(status: response.status, started: started, success: false)
            throw ManagementError.invalidResponse("the token response has no access_token", status: response.status, operation: "POST /oauth/token")
        }
        let lifetime = Double(max(1, ((try? document.root.int("expires_in")) ?? nil) ?? 86_400))
        let now = self.clock.now()
        let early = min(self.refreshBuffer, lifetime / 2)
        self.finish(status: response.status, started: started, success: true)
        return Cached(value: accessToken, expiresAt: now.adding(seconds: lifetime), refreshAt: now.adding(seconds: lifetime - early))
    }

    private func finish(status: Int, started: ContinuousClock.Instant, success: Bool) {
        let elapsed = ContinuousClock.now - started
        self.logger.info(
            "auth0 call",
            metadata: [
                "method": "POST", "path": "/oauth/token", "status": "\(status)",
                "duration_ms": "\(elapsed.wholeMilliseconds)",
            ]
        )
        if let metrics = self.metrics {
            Counter(label: "auth0_token_refresh_total", dimensions: [("status", success ? "success" : "failure")], factory: metrics).increment()
        }
    }
}
