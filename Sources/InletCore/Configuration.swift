internal import Foundation

/// A secret value: it prints as `<redacted>`, so it cannot reach a log line by accident.
public struct Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The value itself; read it only to compare or to send it where it belongs.
    public let value: String

    public init(_ value: String) {
        self.value = value
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    /// No children, so `dump` of a value holding a secret does not print it either.
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

/// A setting that cannot be used, named in the message, its value never echoed.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { self.message }
}

/// Everything `inlet serve` can be told.
///
/// Receiver settings come from an optional JSON file, then from the environment, which
/// wins. Secrets come only from the environment, or from a file named by `NAME_FILE`.
///
/// ```swift
/// var configuration = try Configuration.load(environment: ProcessInfo.processInfo.environment)
/// configuration.listenPort = 0   // an ephemeral port, for tests
/// ```
public struct Configuration: Sendable {
    public var listenHost = "127.0.0.1"
    public var listenPort = 8080
    public var databasePath = "./data/inlet.sqlite"
    /// Largest request body accepted, in bytes.
    public var bodyLimit = 65_536
    /// Deepest JSON nesting accepted in a request body.
    public var jsonMaxDepth = 32
    public var synchronous = SQLiteSynchronous.full
    /// Days finished events (every delivery done) are kept, with their deliveries and audit
    /// rows; 0 keeps everything. Dead deliveries stay until replayed or purged.
    public var retentionDays = 30
    public var logLevel = "info"
    /// Bearer token of the Auth0 Post-Login Action; nil disables the route.
    public var internalAPIToken: Secret?
    /// Bearer token of the operators' admin API; nil disables it.
    public var adminAPIToken: Secret?
    /// Standard Webhooks secret(s) of the productivity system (`whsec_...`, space-separated
    /// during a rotation).
    public var productivityWebhookSecret: Secret?
    /// Bearer token for a productivity sender that cannot sign.
    public var productivityAPIToken: Secret?
    /// Accept productivity events of types Inlet does not know (stored and dispatched).
    public var acceptUnknownEventTypes = false
    /// Each handler's object from the config file's `handlers`.
    public var handlerSettings: [String: JSONValue] = [:]
    /// The environment the configuration was read from (handlers read named secrets).
    public var environment: [String: String] = [:]
    /// The Auth0 tenant, `host` or `host:port` (no scheme); nil leaves provisioning and
    /// metadata-sync inactive.
    public var auth0Domain: String?
    /// Management API (client-credentials) application of provisioning and metadata-sync.
    public var auth0ClientID: String?
    public var auth0ClientSecret: Secret?
    /// Audience of Management API tokens; nil means `https://$AUTH0_DOMAIN/api/v2/`.
    public var auth0Audience: String?
    public var auth0EnableRoleAssignment = true
    public var auth0SendVerificationEmail = true
    public var auth0DefaultRole = "production_associate"
    public var auth0Connection = "Username-Password-Authentication"
    /// Seconds before expiry at which a Management API token is refreshed.
    public var auth0TokenRefreshBuffer = 300.0
    /// Seconds allowed for one Management API call.
    public var auth0RequestTimeout = 10.0
    /// Retries of one Management API call after a 429, a 5xx or a timeout.
    public var auth0MaxRetries = 3
    /// Audience that access tokens for `/auth/*` must carry; nil (or no AUTH0_DOMAIN)
    /// makes `/auth/*` answer 503.
    public var auth0APIIdentifier: String?
    /// Where the tenant's signing keys are; nil means `https://$AUTH0_DOMAIN/.well-known/jwks.json`.
    public var auth0JWKSURL: String?
    /// Requests a minute per client IP on `/auth/*`; 0 turns the limit off.
    public var authRateLimit = 10
    /// Seconds of clock skew tolerated on access-token `exp` and `nbf`.
    public var jwtLeeway = 5.0
    /// An extra PEM bundle of CA certificates to trust for outbound HTTPS (`INLET_CA_BUNDLE`).
    public var caBundlePath: String?
    /// Seconds a connection may sit idle between requests before it is closed.
    public var httpIdleTimeout = 60.0
    /// Seconds allowed to read a request's head (from its first byte), and again its body.
    public var httpReadTimeout = 10.0
    /// Connections open at once; further ones wait in the listen backlog until one closes.
    public var maxConnections = 4096
    /// Peers whose `X-Forwarded-For` names the client (the TLS-terminating proxy); empty
    /// means the TCP peer is the client.
    public var trustedProxies: [IPNetwork] = []
    /// The proxy outbound HTTP goes through; nil means none, whatever `*_proxy` says.
    public var httpProxy: String?

    public init() {}

    /// The settings, their environment names and config-file keys, for `--help` and the README.
    public static let settingsHelp = """
        Settings (environment variable, or key in the JSON file given by --config / INLET_CONFIG;
        the environment wins):
          INLET_LISTEN           listen     host:port to listen on (default 127.0.0.1:8080)
          INLET_DATABASE         database   SQLite file (default ./data/inlet.sqlite)
          INLET_BODY_LIMIT       body_limit largest request body in bytes (default 65536)
          INLET_JSON_MAX_DEPTH   json_max_depth  deepest JSON nesting accepted (default 32)
          INLET_DB_SYNCHRONOUS   synchronous     full (default; a commit survives power loss) or normal
          INLET_RETENTION_DAYS   retention_days  days finished events are kept (default 30; 0 keeps all;
                                 events with a dead delivery stay until replayed or `inlet purge --dead`)
          INLET_LOG_LEVEL        log_level  trace, debug, info (default), notice, warning, error, critical
          INLET_AUTH_RATE_LIMIT  auth_rate_limit  requests a minute per client IP on /auth/* (default 10;
                                 0 turns the limit off)
          INLET_HTTP_IDLE_TIMEOUT  http_idle_timeout  seconds an idle connection is kept (default 60)
          INLET_HTTP_READ_TIMEOUT  http_read_timeout  seconds to receive a request's head, and again its
                                 body, before the connection is closed (default 10)
          INLET_MAX_CONNECTIONS  max_connections  connections open at once; more wait at accept (default 4096)
          INLET_TRUSTED_PROXIES  trusted_proxies  CIDR blocks (comma-separated) of proxies whose
                                 X-Forwarded-For names the client (default none: the TCP peer is the client)
          INLET_HTTP_PROXY       http_proxy proxy for outbound HTTP(S) (default none; http_proxy,
                                 https_proxy and ALL_PROXY in the environment are ignored)
          INLET_ACCEPT_UNKNOWN_TYPES  accept_unknown_types  true to accept productivity event types
                                 other than employee.created/updated/deactivated (default false)
          -                      handlers   per-handler settings: {"audit": {"enabled": true},
                                 "command": {"program": "/path", "arguments": [], "timeout_seconds": 30},
                                 "forward": {"url": "https://...", "secret_env": "NAME"}}; each also takes
                                 subscriptions, max_attempts, concurrency, backoff_base_seconds,
                                 backoff_cap_seconds, lease_seconds
        Secrets (environment only, or NAME_FILE naming a file that holds the value):
          INTERNAL_API_TOKEN     bearer token of the Auth0 Post-Login Action for
                                 POST /internal/auth/sync-user; unset disables that route
          PRODUCTIVITY_WEBHOOK_SECRET  Standard Webhooks secret (whsec_...) of POST /hooks/productivity;
                                 several, space-separated, during a rotation
          PRODUCTIVITY_API_TOKEN bearer token for /hooks/productivity when the sender cannot sign
          ADMIN_API_TOKEN        bearer token of /admin/*; unset disables the admin API
          AUTH0_CLIENT_SECRET    Management API client secret (client-credentials grant)
        Auth0 Management API (provisioning and metadata-sync run only with AUTH0_DOMAIN,
        AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET; environment only):
          AUTH0_DOMAIN           tenant host, may carry a port (tenant.eu.auth0.com, 127.0.0.1:8443);
                                 always reached over verified HTTPS (INLET_CA_BUNDLE adds a CA)
          AUTH0_CLIENT_ID        Management API client id
          AUTH0_AUDIENCE         Management API audience (default https://$AUTH0_DOMAIN/api/v2/)
          AUTH0_ENABLE_ROLE_ASSIGNMENT   true (default) to assign AUTH0_DEFAULT_ROLE to new accounts
          AUTH0_SEND_VERIFICATION_EMAIL  true (default) to have Auth0 send a verification email
          AUTH0_DEFAULT_ROLE     role name assigned to new accounts (default production_associate)
          AUTH0_CONNECTION       database connection (default Username-Password-Authentication)
          AUTH0_TOKEN_REFRESH_BUFFER  seconds before expiry to refresh the token (default 300)
          AUTH0_REQUEST_TIMEOUT  seconds per Management API call (default 10)
          AUTH0_MAX_RETRIES      retries after a 429, 5xx or timeout (default 3)
        Auth0 access tokens for POST /auth/sync and GET /auth/verify (RS256; environment only;
        without AUTH0_DOMAIN and AUTH0_API_IDENTIFIER those routes answer 503):
          AUTH0_API_IDENTIFIER   the API's identifier: the audience access tokens must carry
          AUTH0_JWKS_URL         signing keys (default https://$AUTH0_DOMAIN/.well-known/jwks.json);
                                 https, or http only to a loopback address
          INLET_JWT_LEEWAY       seconds of clock skew tolerated on exp and nbf (default 5)
          INLET_CA_BUNDLE        extra PEM bundle of CA certificates for outbound HTTPS
        """

    private static let fileKeys: Set<String> = [
        "listen", "database", "body_limit", "json_max_depth", "synchronous", "log_level", "accept_unknown_types", "handlers",
        "auth_rate_limit", "retention_days", "http_idle_timeout", "http_read_timeout", "max_connections", "trusted_proxies", "http_proxy",
    ]

    /// Reads the optional config file, then the environment.
    public static func load(environment: [String: String], configFile: String? = nil) throws -> Configuration {
        var configuration = Configuration()
        if let path = configFile ?? environment["INLET_CONFIG"] {
            try configuration.apply(file: path)
        }
        try configuration.apply(environment: environment)
        return configuration
    }

    mutating func apply(file path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("cannot read the config file \(path)")
        }
        let document: JSONDocument
        do {
            document = try JSONDocument.parse([UInt8](data))
        } catch {
            throw ConfigurationError("the config file \(path) is not valid JSON: \(error.message)")
        }
        let root = try document.root.requireObject()
        guard case .object(let members) = root.value else { return }
        for (key, _) in members where !Self.fileKeys.contains(key) {
            if key.lowercased().contains("token") || key.lowercased().contains("secret") {
                throw ConfigurationError("the config file \(path) names `\(key)`: secrets are read only from the environment")
            }
            throw ConfigurationError("the config file \(path) has an unknown setting `\(key)`")
        }
        if let listen = try root.string("listen") { try self.setListen(listen, source: "listen") }
        if let database = try root.string("database") { self.databasePath = database }
        if let limit = try root.int("body_limit") { self.bodyLimit = try Self.positive(limit, "body_limit") }
        if let depth = try root.int("json_max_depth") { self.jsonMaxDepth = try Self.positive(depth, "json_max_depth") }
        if let synchronous = try root.string("synchronous") { self.synchronous = try Self.synchronous(synchronous, "synchronous") }
        if let level = try root.string("log_level") { self.logLevel = level }
        if let accept = try root.bool("accept_unknown_types") { self.acceptUnknownEventTypes = accept }
        if let limit = try root.int("auth_rate_limit") { self.authRateLimit = try Self.nonNegative(limit, "auth_rate_limit") }
        if let days = try root.int("retention_days") { self.retentionDays = try Self.nonNegative(days, "retention_days") }
        if let seconds = try root.int("http_idle_timeout") { self.httpIdleTimeout = try Self.seconds(Double(seconds), "http_idle_timeout") }
        if let seconds = try root.int("http_read_timeout") { self.httpReadTimeout = try Self.seconds(Double(seconds), "http_read_timeout") }
        if let count = try root.int("max_connections") { self.maxConnections = try Self.positive(count, "max_connections") }
        if let list = try root.string("trusted_proxies") { self.trustedProxies = try IPNetwork.list(list, setting: "trusted_proxies") }
        if let proxy = try root.string("http_proxy") { self.httpProxy = proxy.isEmpty ? nil : proxy }
        if let handlers = try root.object("handlers") {
            guard case .object(let members) = handlers.value else { return }
            for (name, value) in members {
                guard case .object = value else { throw ConfigurationError("handlers.\(name) must be an object") }
                self.handlerSettings[name] = value
            }
        }
    }

    mutating func apply(environment: [String: String]) throws {
        if let listen = environment["INLET_LISTEN"] { try self.setListen(listen, source: "INLET_LISTEN") }
        if let database = environment["INLET_DATABASE"] { self.databasePath = database }
        if let limit = environment["INLET_BODY_LIMIT"] { self.bodyLimit = try Self.positive(Int(limit), "INLET_BODY_LIMIT") }
        if let depth = environment["INLET_JSON_MAX_DEPTH"] {
            self.jsonMaxDepth = try Self.positive(Int(depth), "INLET_JSON_MAX_DEPTH")
        }
        if let synchronous = environment["INLET_DB_SYNCHRONOUS"] {
            self.synchronous = try Self.synchronous(synchronous, "INLET_DB_SYNCHRONOUS")
        }
        if let level = environment["INLET_LOG_LEVEL"] { self.logLevel = level }
        if let days = environment["INLET_RETENTION_DAYS"] { self.retentionDays = try Self.nonNegative(Int(days), "INLET_RETENTION_DAYS") }
        if let text = environment["INLET_HTTP_IDLE_TIMEOUT"] { self.httpIdleTimeout = try Self.seconds(Double(text), "INLET_HTTP_IDLE_TIMEOUT") }
        if let text = environment["INLET_HTTP_READ_TIMEOUT"] { self.httpReadTimeout = try Self.seconds(Double(text), "INLET_HTTP_READ_TIMEOUT") }
        if let count = environment["INLET_MAX_CONNECTIONS"] { self.maxConnections = try Self.positive(Int(count), "INLET_MAX_CONNECTIONS") }
        if let list = environment["INLET_TRUSTED_PROXIES"] { self.trustedProxies = try IPNetwork.list(list, setting: "INLET_TRUSTED_PROXIES") }
        if let proxy = environment["INLET_HTTP_PROXY"] { self.httpProxy = proxy.isEmpty ? nil : proxy }
        if let accept = environment["INLET_ACCEPT_UNKNOWN_TYPES"] { self.acceptUnknownEventTypes = ["1", "true", "yes"].contains(accept.lowercased()) }
        self.internalAPIToken = try Self.secret("INTERNAL_API_TOKEN", environment)
        self.adminAPIToken = try Self.secret("ADMIN_API_TOKEN", environment)
        self.productivityWebhookSecret = try Self.secret("PRODUCTIVITY_WEBHOOK_SECRET", environment)
        self.productivityAPIToken = try Self.secret("PRODUCTIVITY_API_TOKEN", environment)
        try self.applyAuth0(environment: environment)
        try self.applyAccessTokens(environment: environment)
        self.environment = environment
    }

    /// Reads the Auth0 Management API settings (`AUTH0_*`) through a handler's
    /// ``HandlerSettings/secrets``.
    public mutating func applyAuth0(from secrets: SecretResolver) throws {
        var environment: [String: String] = [:]
        for name in Self.auth0Settings {
            environment[name] = try secrets.value(name)
        }
        environment["AUTH0_CLIENT_SECRET"] = try secrets.secret("AUTH0_CLIENT_SECRET")?.value
        try self.applyAuth0(environment: environment)
    }

    /// The `AUTH0_*` settings other than the client secret.
    static let auth0Settings = [
        "AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_AUDIENCE", "AUTH0_ENABLE_ROLE_ASSIGNMENT", "AUTH0_SEND_VERIFICATION_EMAIL",
        "AUTH0_DEFAULT_ROLE", "AUTH0_CONNECTION", "AUTH0_TOKEN_REFRESH_BUFFER", "AUTH0_REQUEST_TIMEOUT", "AUTH0_MAX_RETRIES",
    ]

    /// Reads the Auth0 Management API settings (`AUTH0_*`) from `environment`.
    public mutating func applyAuth0(environment: [String: String]) throws {
        func nonEmpty(_ name: String) -> String? {
            guard let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        func flag(_ name: String) throws -> Bool? {
            guard let value = nonEmpty(name)?.lowercased() else { return nil }
            if ["1", "true", "yes", "on"].contains(value) { return true }
            if ["0", "false", "no", "off"].contains(value) { return false }
            throw ConfigurationError("\(name) must be true or false")
        }
        func seconds(_ name: String) throws -> Double? {
            guard let text = nonEmpty(name) else { return nil }
            guard let value = Double(text), value.isFinite, value >= 0 else { throw ConfigurationError("\(name) must be a number of seconds") }
            return value
        }
        if let domain = nonEmpty("AUTH0_DOMAIN") { self.auth0Domain = domain }
        if let id = nonEmpty("AUTH0_CLIENT_ID") { self.auth0ClientID = id }
        if let secret = try Self.secret("AUTH0_CLIENT_SECRET", environment) { self.auth0ClientSecret = secret }
        if let audience = nonEmpty("AUTH0_AUDIENCE") { self.auth0Audience = audience }
        if let value = try flag("AUTH0_ENABLE_ROLE_ASSIGNMENT") { self.auth0EnableRoleAssignment = value }
        if let value = try flag("AUTH0_SEND_VERIFICATION_EMAIL") { self.auth0SendVerificationEmail = value }
        if let role = nonEmpty("AUTH0_DEFAULT_ROLE") { self.auth0DefaultRole = role }
        if let connection = nonEmpty("AUTH0_CONNECTION") { self.auth0Connection = connection }
        if let value = try seconds("AUTH0_TOKEN_REFRESH_BUFFER") { self.auth0TokenRefreshBuffer = value }
        if let value = try seconds("AUTH0_REQUEST_TIMEOUT") {
            guard value > 0 else { throw ConfigurationError("AUTH0_REQUEST_TIMEOUT must be a positive number of seconds") }
            self.auth0RequestTimeout = value
        }
        if let text = nonEmpty("AUTH0_MAX_RETRIES") {
            guard let value = Int(text), (0...10).contains(value) else { throw ConfigurationError("AUTH0_MAX_RETRIES must be a whole number from 0 to 10") }
            self.auth0MaxRetries = value
        }
    }

    /// Reads the settings of `/auth/*`: `AUTH0_API_IDENTIFIER`, `AUTH0_JWKS_URL`,
    /// `INLET_AUTH_RATE_LIMIT`, `INLET_JWT_LEEWAY`, and `INLET_CA_BUNDLE`.
    mutating func applyAccessTokens(environment: [String: String]) throws {
        func nonEmpty(_ name: String) -> String? {
            guard let value = environment[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        if let identifier = nonEmpty("AUTH0_API_IDENTIFIER") { self.auth0APIIdentifier = identifier }
        if let url = nonEmpty("AUTH0_JWKS_URL") {
            try Self.checkJWKSURL(url)
            self.auth0JWKSURL = url
        }
        if let limit = nonEmpty("INLET_AUTH_RATE_LIMIT") { self.authRateLimit = try Self.nonNegative(Int(limit), "INLET_AUTH_RATE_LIMIT") }
        if let text = nonEmpty("INLET_JWT_LEEWAY") {
            guard let leeway = Double(text), leeway.isFinite, (0...300).contains(leeway) else {
                throw ConfigurationError("INLET_JWT_LEEWAY must be a number of seconds from 0 to 300")
            }
            self.jwtLeeway = leeway
        }
        if let bundle = nonEmpty("INLET_CA_BUNDLE") { self.caBundlePath = bundle }
    }

    /// Refuses secrets that are easy to guess or that stand in for one another: a bearer
    /// token shorter than 32 characters or with surrounding whitespace, two bearer tokens
    /// that are equal (the Action's token would open the admin API), a webhook secret
    /// of fewer than 24 key bytes. The message names the setting, never its value.
    ///
    /// `buildApplication` calls it, so the server does not start with such secrets.
    public func checkSecrets() throws {
        let tokens = [
            ("INTERNAL_API_TOKEN", self.internalAPIToken), ("ADMIN_API_TOKEN", self.adminAPIToken),
            ("PRODUCTIVITY_API_TOKEN", self.productivityAPIToken),
        ].compactMap { name, secret in secret.map { (name: name, value: $0.value) } }
        for token in tokens {
            guard token.value.trimmingCharacters(in: .whitespacesAndNewlines) == token.value else {
                throw ConfigurationError("\(token.name) begins or ends with whitespace; remove it")
            }
            guard token.value.count >= Self.minimumTokenLength else {
                throw ConfigurationError(
                    "\(token.name) is shorter than \(Self.minimumTokenLength) characters; use a random value (openssl rand -hex 32)"
                )
            }
        }
        for (index, token) in tokens.enumerated() {
            for other in tokens[(index + 1)...] where other.value == token.value {
                throw ConfigurationError("\(token.name) and \(other.name) are equal; give each its own random value")
            }
        }
        if let secrets = self.productivityWebhookSecret {
            for text in secrets.value.split(separator: " ") {
                _ = try WebhookSecret.checked(String(text), setting: "PRODUCTIVITY_WEBHOOK_SECRET")
            }
        }
    }

    /// Shortest bearer token accepted (characters).
    public static let minimumTokenLength = 32

    /// The JWKS must come over HTTPS; plain HTTP is allowed only to a loopback address
    /// (a test tenant), where nothing travels on a network.
    static func checkJWKSURL(_ url: String) throws {
        guard Self.isHTTPSOrLoopback(url) else {
            throw ConfigurationError("AUTH0_JWKS_URL must be an https:// URL (http:// only to a loopback address)")
        }
    }

    /// Whether `url` is `https://`, or `http://` to a loopback address (`localhost`,
    /// `127.x.y.z`, `[::1]`), where nothing travels on a network.
    public static func isHTTPSOrLoopback(_ url: String) -> Bool {
        let lowered = url.lowercased()
        if lowered.hasPrefix("https://") { return true }
        guard lowered.hasPrefix("http://") else { return false }
        let rest = lowered.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.contains("@") else { return false }
        let host: Substring
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = authority[authority.index(after: authority.startIndex)..<close]
        } else {
            host = authority.prefix { $0 != ":" }
        }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        let loopbackIPv4 = octets.count == 4 && octets.first == "127"
            && octets.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && UInt8($0) != nil }
        return host == "localhost" || host == "::1" || loopbackIPv4
    }

    /// Parses `host:port` into the listen address.
    public mutating func setListen(_ text: String, source: String = "listen") throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65_535).contains(port)
        else {
            throw ConfigurationError("\(source) must be host:port, such as 127.0.0.1:8080")
        }
        let host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        self.listenHost = host.isEmpty ? "127.0.0.1" : host
        self.listenPort = port
    }

    /// A secret from `NAME`, or from the file named by `NAME_FILE` (trailing newline removed).
    public static func secret(_ name: String, _ environment: [String: String]) throws -> Secret? {
        if let value = environment[name], !value.isEmpty {
            return Secret(value)
        }
        guard let path = environment["\(name)_FILE"], !path.isEmpty else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("\(name)_FILE names a file that cannot be read: \(path)")
        }
        let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
        guard !value.isEmpty else { throw ConfigurationError("\(name)_FILE names an empty file: \(path)") }
        return Secret(value)
    }

    private static func nonNegative(_ value: Int?, _ name: String) throws -> Int {
        guard let value, value >= 0 else { throw ConfigurationError("\(name) must be a whole number, 0 or more") }
        return value
    }

    private static func positive(_ value: Int?, _ name: String) throws -> Int {
        guard let value, value > 0 else { throw ConfigurationError("\(name) must be a positive whole number") }
        return value
    }

    private static func seconds(_ value: Double?, _ name: String) throws -> Double {
        guard let value, value.isFinite, value > 0 else { throw ConfigurationError("\(name) must be a positive number of seconds") }
        return value
    }

    private static func synchronous(_ text: String, _ name: String) throws -> SQLiteSynchronous {
        guard let value = SQLiteSynchronous(rawValue: text.lowercased()) else {
            throw ConfigurationError("\(name) must be one of: full, normal")
        }
        return value
    }
}
