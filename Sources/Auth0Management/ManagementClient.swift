public import InletHTTPClient
public import CoreMetrics
internal import Foundation
internal import HTTPTypes
public import InletCore
public import Logging
internal import Synchronization

/// What the Management API client needs to know about the tenant.
///
/// Production builds it from the environment (``init(secrets:)``): the tenant
/// is always reached at `https://$AUTH0_DOMAIN` with certificate verification on.
/// `AUTH0_DOMAIN` may carry a port (`127.0.0.1:8443`).
///
/// ```swift
/// let settings = try ManagementSettings(secrets: handlerSettings.secrets)
/// ```
public struct ManagementSettings: Sendable {
    /// `host` or `host:port`, no scheme, no path.
    public var domain: String
    public var clientID: String
    public var clientSecret: Secret
    /// Audience of the client-credentials grant; default `https://$AUTH0_DOMAIN/api/v2/`.
    public var audience: String
    public var requestTimeout: Double
    public var maxRetries: Int
    public var tokenRefreshBuffer: Double

    public init(
        domain: String, clientID: String, clientSecret: Secret, audience: String? = nil,
        requestTimeout: Double = 10, maxRetries: Int = 3, tokenRefreshBuffer: Double = 300
    ) throws(ManagementError) {
        let domain = domain.trimmingCharacters(in: .whitespaces)
        guard !domain.isEmpty, !domain.contains("/"), !domain.contains("@"), !domain.contains(" ") else {
            throw ManagementError.configuration("AUTH0_DOMAIN must be a host name, optionally with a port (no scheme or path)")
        }
        self.domain = domain
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.audience = audience ?? "https://\(domain)/api/v2/"
        self.requestTimeout = requestTimeout
        self.maxRetries = max(0, maxRetries)
        self.tokenRefreshBuffer = tokenRefreshBuffer
    }

    /// From the `AUTH0_*` variables a handler's secrets resolve; throws
    /// ``HandlerUnavailable`` naming what is missing, ``ConfigurationError`` for a value
    /// that cannot be used.
    public init(secrets: SecretResolver) throws {
        try self.init(environment: try secrets.reader(for: Self.settings).environment)
    }

    /// From `AUTH0_*` in `environment` (``init(secrets:)``).
    public init(environment: [String: String]) throws {
        let reader = EnvironmentReader(environment)
        let domain = reader.string("AUTH0_DOMAIN")
        let id = reader.string("AUTH0_CLIENT_ID")
        let secret = try reader.secret("AUTH0_CLIENT_SECRET")
        let requestTimeout = try reader.seconds("AUTH0_REQUEST_TIMEOUT", positive: true) ?? 10
        let maxRetries = try reader.integer("AUTH0_MAX_RETRIES", in: 0...10) ?? 3
        let refreshBuffer = try reader.seconds("AUTH0_TOKEN_REFRESH_BUFFER") ?? 300
        let missing = [
            domain == nil ? "AUTH0_DOMAIN" : nil, id == nil ? "AUTH0_CLIENT_ID" : nil, secret == nil ? "AUTH0_CLIENT_SECRET" : nil,
        ].compactMap { $0 }
        guard missing.isEmpty, let domain, let id, let secret else {
            throw HandlerUnavailable("the Auth0 Management API credentials are not set: \(missing.joined(separator: ", "))")
        }
        do {
            try self.init(
                domain: domain, clientID: id, clientSecret: secret, audience: reader.string("AUTH0_AUDIENCE"),
                requestTimeout: requestTimeout, maxRetries: maxRetries, tokenRefreshBuffer: refreshBuffer
            )
        } catch {
            throw ConfigurationError(error.message)
        }
    }

    /// These settings, declared once for `--help` and the README.
    public static let settings = SettingsSection(
        "Auth0 Management API (provisioning and metadata-sync run only with `AUTH0_DOMAIN`, `AUTH0_CLIENT_ID` and `AUTH0_CLIENT_SECRET`)",
        [
            .auth0Domain,
            Setting("AUTH0_CLIENT_ID", default: "unset", "Management API client id (client-credentials grant)"),
            Setting(secret: "AUTH0_CLIENT_SECRET", "Management API client secret"),
            Setting("AUTH0_AUDIENCE", default: "`https://$AUTH0_DOMAIN/api/v2/`", "Management API audience"),
            Setting("AUTH0_TOKEN_REFRESH_BUFFER", default: "`300`", "seconds before expiry at which the token is refreshed"),
            Setting("AUTH0_REQUEST_TIMEOUT", default: "`10`", "seconds allowed for one Management API call"),
            Setting("AUTH0_MAX_RETRIES", default: "`3`", "retries of one call after a 429, a 5xx or a timeout (0 to 10)"),
        ]
    )
}

/// An Auth0 user as the Management API returns one.
public struct Auth0User: Sendable, Equatable {
    public let userID: String
    public let email: String?
    public let emailVerified: Bool
    public let blocked: Bool
    public let appMetadata: JSONValue?
    public let userMetadata: JSONValue?
    /// The connections of the user's identities (`identities[].connection`).
    public let connections: [String]

    init(_ value: JSONValue) throws {
        guard case .object = value, let id = value["user_id"]?.stringValue, !id.isEmpty else {
            throw ManagementError.invalidResponse("a user object has no user_id", status: 200, operation: "")
        }
        self.userID = id
        self.email = value["email"]?.stringValue
        self.emailVerified = value["email_verified"]?.boolValue ?? false
        self.blocked = value["blocked"]?.boolValue ?? false
        self.appMetadata = value["app_metadata"].flatMap { if case .object = $0 { $0 } else { nil } }
        self.userMetadata = value["user_metadata"].flatMap { if case .object = $0 { $0 } else { nil } }
        if case .array(let identities)? = value["identities"] {
            self.connections = identities.compactMap { $0["connection"]?.stringValue }
        } else {
            self.connections = []
        }
    }
}

/// The Auth0 Management API v2: users, roles and tickets, with retries and pacing.
///
/// Every call takes a token from the shared ``TokenManager`` (a 401 invalidates it and
/// the call is tried once more with a fresh one) and a slot from the shared
/// ``RateLimiter``. A 429 waits for `Retry-After` when present, else until
/// `x-ratelimit-reset` plus jitter, clamped to 1–10 s; a 5xx, a timeout or a connection
/// failure backs off exponentially with jitter; at most `maxRetries` retries. Each call is
/// logged once per attempt with its method, path template, status and duration — never
/// the token. Errors are ``ManagementError``s.
///
/// The tenant is reached at `https://$AUTH0_DOMAIN`. ``init(baseURL:settings:http:options:logger:metrics:)``
/// exists for tests only: it lets a fake tenant on loopback be reached over plain HTTP.
///
/// ```swift
/// let client = ManagementClient(settings: settings, http: OutboundClient(configuration: .init(caBundlePath: caBundle)))
/// let user = try await client.createUser(["connection": "Username-Password-Authentication", "email": "a@example.com", ...])
/// ```
public final class ManagementClient: Sendable {
    /// Retry timing, injectable so tests need not wait for real.
    public struct Options: Sendable {
        /// First backoff after a 5xx or a timeout, in seconds; doubled per retry.
        public var backoffBase = 0.5
        public var backoffCap = 10.0
        /// Clamp of a 429 wait, in seconds.
        public var rateLimitWaitRange: ClosedRange<Double> = 1...10
        /// Sleeps between retries.
        public var sleep: @Sendable (Double) async throws -> Void = { seconds in
            try await Task.sleep(for: .milliseconds(Int((seconds * 1000).rounded(.up))))
        }
        public var random: @Sendable (ClosedRange<Double>) -> Double = { Double.random(in: $0) }
        public var clock: WallClock = .system
        /// Where the rate limiter keeps its state when several instances share a database
        /// (``HandlerSetup/sharedValues``), so that together they keep to the tenant's rate;
        /// nil: in this process.
        public var sharedState: (any SharedValueStore)?

        public init() {}
    }

    public let settings: ManagementSettings
    public let baseURL: String
    public let tokens: TokenManager
    public let limiter: RateLimiter
    private let http: OutboundClient
    private let options: Options
    private let logger: Logger
    private let metrics: (any MetricsFactory)?
    private let roleIDs = Mutex<[String: String]>([:])

    /// The production client: `https://$AUTH0_DOMAIN`, TLS verified.
    public convenience init(
        settings: ManagementSettings, http: OutboundClient, options: Options = Options(),
        logger: Logger = Logger(label: "inlet.auth0"), metrics: (any MetricsFactory)? = nil
    ) {
        self.init(baseURL: "https://\(settings.domain)", settings: settings, http: http, options: options, logger: logger, metrics: metrics)
    }

    /// For tests: reaches the tenant at `baseURL` (e.g. `http://127.0.0.1:PORT`, a fake
    /// tenant on loopback). Production code uses ``init(settings:http:options:logger:metrics:)``.
    public init(
        baseURL: String, settings: ManagementSettings, http: OutboundClient, options: Options = Options(),
        logger: Logger = Logger(label: "inlet.auth0"), metrics: (any MetricsFactory)? = nil
    ) {
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.baseURL = base
        self.settings = settings
        self.http = http
        self.options = options
        self.logger = logger
        self.metrics = metrics
        self.limiter = RateLimiter(wallClock: options.clock, shared: options.sharedState, key: "auth0.rate-limiter." + settings.domain)
        self.tokens = TokenManager(
            tokenURL: base + "/oauth/token", clientID: settings.clientID, clientSecret: settings.clientSecret,
            audience: settings.audience, http: http, refreshBuffer: settings.tokenRefreshBuffer, timeout: settings.requestTimeout,
            clock: options.clock, logger: logger, metrics: metrics
        )
    }

    // MARK: Users

    /// `POST /api/v2/users`; a 409 (the user exists) throws with ``ManagementError/isConflict``.
    public func createUser(_ body: JSONValue) async throws -> Auth0User {
        let response = try await self.send(.post, "/api/v2/users", path: "/api/v2/users", body: body)
        return try Self.user(response, operation: "POST /api/v2/users")
    }

    /// `GET /api/v2/users/{id}`; nil when the user does not exist.
    public func user(id: String) async throws -> Auth0User? {
        do {
            let response = try await self.send(.get, "/api/v2/users/{id}", path: "/api/v2/users/\(Self.encode(id))")
            return try Self.user(response, operation: "GET /api/v2/users/{id}")
        } catch let error as ManagementError where error.isNotFound {
            return nil
        }
    }

    /// `GET /api/v2/users-by-email`, the address lower-cased first (Auth0 stores database
    /// emails lower-case and the parameter is case-sensitive).
    public func users(email: String) async throws -> [Auth0User] {
        try await self.userList("/api/v2/users-by-email", path: "/api/v2/users-by-email?email=\(Self.encode(email.lowercased()))")
    }

    /// `GET /api/v2/users?q=…&search_engine=v3`: the users a Lucene query matches (first
    /// page). The search index lags writes by a few seconds; exact look-ups use
    /// ``users(email:)``.
    ///
    /// ```swift
    /// let ours = try await client.searchUsers(query: #"app_metadata.employee_id:"EMP-1""#)
    /// ```
    public func searchUsers(query: String) async throws -> [Auth0User] {
        try await self.userList("/api/v2/users", path: "/api/v2/users?q=\(Self.encode(query))&search_engine=v3")
    }

    /// `GET path`, whose answer is an array of users (`route` names it in errors and metrics).
    private func userList(_ route: String, path: String) async throws -> [Auth0User] {
        let response = try await self.send(.get, route, path: path)
        let operation = "GET \(route)"
        let document = try Self.parse(response, operation: operation)
        guard case .array(let items) = document.root.value else {
            throw ManagementError.invalidResponse("\(route) did not return an array", status: response.status, operation: operation)
        }
        return try items.map(Auth0User.init)
    }

    /// `PATCH /api/v2/users/{id}`. Metadata objects merge at their first level; send only
    /// the keys the caller owns (an empty metadata object would erase it all).
    public func patchUser(id: String, _ body: JSONValue) async throws -> Auth0User {
        for key in ["app_metadata", "user_metadata"] {
            if case .object(let members)? = body[key], members.isEmpty {
                throw ManagementError.configuration("refusing to PATCH an empty \(key): Auth0 would delete all of it")
            }
        }
        let response = try await self.send(.patch, "/api/v2/users/{id}", path: "/api/v2/users/\(Self.encode(id))", body: body)
        return try Self.user(response, operation: "PATCH /api/v2/users/{id}")
    }

    // MARK: Roles

    /// The id of the role named exactly `name` (Auth0's filter is case-insensitive and
    /// maybe a substring match; the comparison here is exact). Cached once found.
    public func roleID(named name: String) async throws -> String? {
        if let cached = self.roleIDs.withLock({ $0[name] }) { return cached }
        let path = "/api/v2/roles?name_filter=\(Self.encode(name))&per_page=100"
        let response = try await self.send(.get, "/api/v2/roles", path: path)
        let document = try Self.parse(response, operation: "GET /api/v2/roles")
        let items: [JSONValue]
        switch document.root.value {
        case .array(let array): items = array
        case let object where object["roles"] != nil:
            guard case .array(let array)? = object["roles"] else { items = []; break }
            items = array
        default: items = []
        }
        guard let id = items.first(where: { $0["name"]?.stringValue == name })?["id"]?.stringValue else { return nil }
        self.roleIDs.withLock { $0[name] = id }
        return id
    }

    /// Drops a cached role id (the role was deleted).
    public func forgetRole(named name: String) {
        _ = self.roleIDs.withLock { $0.removeValue(forKey: name) }
    }

    /// `POST /api/v2/users/{id}/roles` (Auth0 ignores roles the user already has).
    public func assignRoles(userID: String, roleIDs: [String]) async throws {
        _ = try await self.send(
            .post, "/api/v2/users/{id}/roles", path: "/api/v2/users/\(Self.encode(userID))/roles",
            body: ["roles": .array(roleIDs.map { .string($0) })]
        )
    }

    // MARK: Tickets

    /// `POST /api/v2/tickets/password-change`: a link with which the user sets the first
    /// password of an account created with a random one.
    public func passwordChangeTicket(userID: String, resultURL: String? = nil, ttlSeconds: Int? = nil) async throws -> String {
        var body: [(String, JSONValue)] = [("user_id", .string(userID))]
        if let resultURL { body.append(("result_url", .string(resultURL))) }
        if let ttlSeconds { body.append(("ttl_sec", .int(ttlSeconds))) }
        let response = try await self.send(.post, "/api/v2/tickets/password-change", path: "/api/v2/tickets/password-change", body: .object(body))
        let document = try Self.parse(response, operation: "POST /api/v2/tickets/password-change")
        guard let ticket = (try? document.root.string("ticket")) ?? nil else {
            throw ManagementError.invalidResponse("the ticket response has no ticket", status: response.status, operation: "POST /api/v2/tickets/password-change")
        }
        return ticket
    }

    // MARK: Transport

    /// Sends one call with pacing, token handling and retries; returns a 2xx response.
    func send(_ method: HTTPRequest.Method, _ template: String, path: String, body: JSONValue? = nil) async throws -> OutboundResponse {
        let operation = "\(method) \(template)"
        let bytes = body?.serialized()
        var retries = 0
        var refreshedToken = false
        // Bounded: each pass either returns, throws, or spends a retry / the one token refresh.
        for _ in 0...(self.settings.maxRetries + 2) {
            let ticket = try await self.limiter.acquire()
            let token: String
            do {
                token = try await self.tokens.token()
            } catch {
                await self.limiter.abandon()
                throw error
            }
            var headers: HTTPFields = [.authorization: "Bearer \(token)", .accept: "application/json"]
            if bytes != nil { headers[.contentType] = "application/json" }
            let request = OutboundRequest(
                method: method, url: self.baseURL + path, headers: headers, body: bytes,
                connectTimeout: min(self.settings.requestTimeout, 10), timeout: self.settings.requestTimeout
            )
            let started = ContinuousClock.now
            let response: OutboundResponse
            do {
                response = try await self.http.execute(request)
            } catch let error as OutboundError {
                await self.limiter.abandon()
                let failure = ManagementError.transport(error, operation: operation)
                self.log(method, template, status: 0, started: started, attempt: retries + 1, error: failure.error)
                self.countError(failure.metricCode)
                guard retries < self.settings.maxRetries, !error.isShutdown, !error.isInvalidRequest else { throw failure }
                try await self.options.sleep(self.backoff(retries))
                retries += 1
                continue
            } catch {
                await self.limiter.abandon()
                throw error
            }
            await self.limiter.record(response, ticket: ticket)
            self.log(method, template, status: response.status, started: started, attempt: retries + 1, error: nil)
            switch response.status {
            case 200..<300:
                return response
            case 401 where !refreshedToken:
                self.countError("401")
                await self.tokens.invalidate(token)
                refreshedToken = true
                continue
            case 429:
                self.countError("429")
                let wait = self.rateLimitWait(response)
                guard retries < self.settings.maxRetries else {
                    throw ManagementError.api(status: 429, body: response.body, operation: operation, retryAfter: wait)
                }
                try await self.options.sleep(wait)
                retries += 1
            case 500..<600, 408:
                self.countError(String(response.status))
                guard retries < self.settings.maxRetries else {
                    throw ManagementError.api(status: response.status, body: response.body, operation: operation, retryAfter: nil)
                }
                try await self.options.sleep(self.backoff(retries))
                retries += 1
            default:
                self.countError(String(response.status))
                throw ManagementError.api(status: response.status, body: response.body, operation: operation, retryAfter: nil)
            }
        }
        throw ManagementError.invalidResponse("gave up after repeated retries", status: 0, operation: operation)
    }

    /// `Retry-After` when present; else until `x-ratelimit-reset` plus 0–25 % jitter
    /// (at least a quarter second); clamped to ``Options/rateLimitWaitRange``.
    func rateLimitWait(_ response: OutboundResponse) -> Double {
        let range = self.options.rateLimitWaitRange
        if let text = response.headers[.retryAfter], let seconds = Double(text), seconds.isFinite {
            return min(max(seconds, range.lowerBound), range.upperBound)
        }
        var wait = range.lowerBound
        if let text = response.headers[.xRateLimitReset], let reset = Double(text) {
            let untilReset = max(0, reset - self.options.clock.now().secondsSinceEpoch)
            wait = untilReset + self.options.random(0...max(0.25, untilReset * 0.25))
        }
        return min(max(wait, range.lowerBound), range.upperBound)
    }

    /// Exponential backoff with jitter: between half and all of base × 2^retry, capped.
    func backoff(_ retry: Int) -> Double {
        let ceiling = Backoff.ceiling(retries: retry, base: self.options.backoffBase, cap: self.options.backoffCap)
        return self.options.random((ceiling / 2)...max(ceiling / 2, ceiling))
    }

    private func log(_ method: HTTPRequest.Method, _ template: String, status: Int, started: ContinuousClock.Instant, attempt: Int, error: String?) {
        let elapsed = ContinuousClock.now - started
        var metadata: Logger.Metadata = [
            "method": "\(method)", "path": "\(template)", "status": "\(status)", "attempt": "\(attempt)",
            "duration_ms": "\(elapsed.wholeMilliseconds)",
        ]
        if let error { metadata["error"] = "\(error)" }
        self.logger.info("auth0 call", metadata: metadata)
    }

    private func countError(_ code: String) {
        guard let metrics = self.metrics else { return }
        Counter(label: "auth0_api_errors_total", dimensions: [("code", code)], factory: metrics).increment()
    }

    private static func parse(_ response: OutboundResponse, operation: String) throws -> JSONDocument {
        do {
            return try JSONDocument.parse(response.body)
        } catch {
            throw ManagementError.invalidResponse("the response is not JSON: \(error.message)", status: response.status, operation: operation)
        }
    }

    private static func user(_ response: OutboundResponse, operation: String) throws -> Auth0User {
        try Auth0User(Self.parse(response, operation: operation).root.value)
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters (`auth0|1` → `auth0%7C1`).
    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}
