public import InletCore
public import InletSQLite
public import AccessTokens
internal import Foundation
internal import InletPostgres

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
    /// A SQLite file or a PostgreSQL database (`INLET_DATABASE`); set it from text with
    /// ``setDatabase(_:source:)``, which adds `INLET_DATABASE_PASSWORD`.
    public var database = DatabaseLocation.sqlite(path: "./data/inlet.sqlite")
    /// The PostgreSQL password of `INLET_DATABASE_PASSWORD` (or the file
    /// `INLET_DATABASE_PASSWORD_FILE` names); ``database`` carries it once set.
    public var databasePassword: Secret?
    /// Whether the PostgreSQL URL itself holds the password (accepted; start-up says to
    /// move it to `INLET_DATABASE_PASSWORD`, where it is not in the URL people copy around).
    public private(set) var passwordInDatabaseURL = false
    /// Where ``database`` was set from (a variable, a config key, an option), for errors.
    private var databaseSource = "INLET_DATABASE"
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
    /// Auth0 access tokens for `/auth/*` (``AccessTokenSettings``).
    public var accessTokens = AccessTokenSettings()
    /// Requests a minute per client IP on `/auth/*`; 0 turns the limit off.
    public var authRateLimit = 10
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
    /// Authorization token of the Auth0 log stream (`POST /hooks/auth0-logs`); nil disables the route.
    public var auth0LogStreamToken: Secret?
    /// The log event types the log-stream intake stores.
    public var auth0LogTypes = Auth0LogTypes.default
    /// Seconds between reconcile runs in `inlet serve`; nil: no reconciler.
    public var auth0ReconcileInterval: Double?

    public init() {}

    /// The receiver's settings, declared once: `inlet serve --help` and the README list them.
    public static let settings = SettingsSection("Receiver", [
        Setting("INLET_CONFIG", default: "none", "JSON file of the settings that have a config key (also `--config`); the environment wins over it"),
        Setting("INLET_LISTEN", key: "listen", default: "`127.0.0.1:8080`", "`host:port` to listen on"),
        Setting(
            "INLET_DATABASE", key: "database", default: "`./data/inlet.sqlite`",
            "SQLite file (its folder is created), or a PostgreSQL database that several instances share: `postgres://USER@HOST[:PORT][/DATABASE]`, with `?sslmode=` `disable`, `prefer` (default), `require` or `verify-full` (the README's PostgreSQL section says more)"
        ),
        Setting(
            secret: "INLET_DATABASE_PASSWORD",
            "password of the PostgreSQL user of a `postgres://` INLET_DATABASE (instead of a password in the URL, which is accepted but not both)"
        ),
        Setting("INLET_BODY_LIMIT", key: "body_limit", default: "`65536`", "largest request body, bytes; larger is 413 without reading the rest"),
        Setting("INLET_JSON_MAX_DEPTH", key: "json_max_depth", default: "`32`", "deepest JSON nesting accepted"),
        Setting(
            "INLET_DB_SYNCHRONOUS", key: "synchronous", default: "`full`",
            "SQLite: `full`: a commit survives power loss; `normal`: survives a crash of the process (PostgreSQL follows the server's `synchronous_commit`)"
        ),
        Setting(
            "INLET_RETENTION_DAYS", key: "retention_days", default: "`30`",
            "days an event whose deliveries are all done is kept, with its deliveries and audit rows (deleted in batches of 500, every 10 minutes); events with a dead delivery stay until replayed or `inlet purge --dead`; 0 keeps everything"
        ),
        Setting("INLET_LOG_LEVEL", key: "log_level", default: "`info`", "`trace` … `critical`"),
        Setting(
            "INLET_ACCEPT_UNKNOWN_TYPES", key: "accept_unknown_types", default: "`false`",
            "accept productivity event types other than `employee.created/updated/deactivated` (counted under `type=\"other\"` in the metrics)"
        ),
        Setting(
            "INLET_HTTP_IDLE_TIMEOUT", key: "http_idle_timeout", default: "`60`",
            "seconds a connection may sit idle between requests before it is closed"
        ),
        Setting(
            "INLET_HTTP_READ_TIMEOUT", key: "http_read_timeout", default: "`10`",
            "seconds to receive a request's head (from its first byte), and again its body; a slower client's connection is closed"
        ),
        Setting(
            "INLET_MAX_CONNECTIONS", key: "max_connections", default: "`4096`",
            "connections open at once; further ones wait at accept until one closes"
        ),
        Setting(
            "INLET_TRUSTED_PROXIES", key: "trusted_proxies", default: "none",
            "CIDR blocks (comma-separated) of the proxies in front of Inlet; only from these peers is the client taken from `X-Forwarded-For` (the right-most address not in the list)"
        ),
        Setting(
            "INLET_HTTP_PROXY", key: "http_proxy", default: "none",
            "proxy for outbound HTTP(S); `http_proxy`, `https_proxy` and `ALL_PROXY` in the environment are ignored"
        ),
        Setting(
            "INLET_CA_BUNDLE", default: "unset",
            "extra PEM bundle trusted by outbound HTTPS (Auth0, JWKS, the forward handler); verification is always on"
        ),
        Setting("INLET_AUTH_RATE_LIMIT", key: "auth_rate_limit", default: "`10`", "requests a minute per client IP on `/auth/*`; 0 turns it off"),
        Setting(
            nil, key: "handlers", default: "audit on",
            "per-handler settings (`enabled`, `subscriptions`, `max_attempts`, `concurrency`, `backoff_base_seconds`, `backoff_cap_seconds`, `lease_seconds`, and each handler's own): see Handlers below"
        ),
        Setting(secret: "INTERNAL_API_TOKEN", "bearer token of the Post-Login Action; unset disables the route"),
        Setting(
            secret: "PRODUCTIVITY_WEBHOOK_SECRET",
            "Standard Webhooks secret (`whsec_…`; several, space-separated, during a rotation)"
        ),
        Setting(
            secret: "PRODUCTIVITY_API_TOKEN",
            "bearer token for a productivity sender that cannot sign (used only without a webhook secret)"
        ),
        Setting(secret: "ADMIN_API_TOKEN", "bearer token of `/admin/*`; unset disables it"),
    ])

    /// The Auth0 log stream and the reconciler (README, Auth0 set-up).
    public static let auth0Settings = SettingsSection("Auth0 log stream and reconciler", [
        Setting(
            secret: "AUTH0_LOG_STREAM_TOKEN",
            "bearer token the Auth0 custom-webhook log stream sends to `POST /hooks/auth0-logs` (`inlet auth0 connect` makes one); unset disables the route"
        ),
        Setting(
            "INLET_AUTH0_LOG_TYPES", key: "auth0_log_types", default: "`\(Auth0LogTypes.defaultList)`",
            "log event types stored as `auth0.log.<type>` events (comma-separated, or `*` for all); entries of other types are answered 200 and skipped"
        ),
        Setting(
            "AUTH0_RECONCILE_INTERVAL", key: "auth0_reconcile_interval", default: "off",
            "run the reconciler in `inlet serve` this often (seconds, or `30m`, `6h`); needs the Management API credentials (`AUTH0_DOMAIN`, `AUTH0_CLIENT_ID`, `AUTH0_CLIENT_SECRET`) and the `read:users` scope"
        ),
    ])

    /// The keys a config file may hold: those the catalogue gives a key.
    private static let fileKeys = Set((Self.settings.settings + Self.auth0Settings.settings).compactMap(\.key))

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
            if ["token", "secret", "password"].contains(where: key.lowercased().contains) {
                throw ConfigurationError("the config file \(path) names `\(key)`: secrets are read only from the environment")
            }
            throw ConfigurationError("the config file \(path) has an unknown setting `\(key)`")
        }
        for (key, value) in members where key != "handlers" {
            let text: String
            switch value {
            case .string(let string): text = string
            case .int(let number): text = String(number)
            case .double(let number): text = String(number)
            case .bool(let flag): text = flag ? "true" : "false"
            default: throw ConfigurationError("\(key) in the config file \(path) must be a string, a number or true/false")
            }
            try self.apply(key, text, source: key)
        }
        if let handlers = try root.object("handlers") {
            guard case .object(let members) = handlers.value else { return }
            for (name, value) in members {
                guard case .object = value else { throw ConfigurationError("handlers.\(name) must be an object") }
                self.handlerSettings[name] = value
            }
        }
    }

    mutating func apply(environment: [String: String]) throws {
        // The environment wins: applied after the file, through the same parser.
        for setting in Self.settings.settings + Self.auth0Settings.settings {
            guard let variable = setting.variable, let key = setting.key, let text = environment[variable] else { continue }
            try self.apply(key, text, source: variable)
        }
        self.internalAPIToken = try Secret.read("INTERNAL_API_TOKEN", from: environment)
        self.adminAPIToken = try Secret.read("ADMIN_API_TOKEN", from: environment)
        self.productivityWebhookSecret = try Secret.read("PRODUCTIVITY_WEBHOOK_SECRET", from: environment)
        self.productivityAPIToken = try Secret.read("PRODUCTIVITY_API_TOKEN", from: environment)
        self.auth0LogStreamToken = try Secret.read("AUTH0_LOG_STREAM_TOKEN", from: environment)
        self.databasePassword = try Secret.read("INLET_DATABASE_PASSWORD", from: environment)
        try self.addDatabasePassword()
        if let bundle = EnvironmentReader(environment).string("INLET_CA_BUNDLE") { self.caBundlePath = bundle }
        self.accessTokens = try AccessTokenSettings(environment: environment)
        self.environment = environment
    }

    /// Applies one receiver setting, by its config key, from the file's value or its
    /// variable's text; `source` (the key or the variable) names it in errors. Every
    /// setting with both a key and a variable goes through here, whichever way it came.
    private mutating func apply(_ key: String, _ text: String, source: String) throws {
        switch key {
        case "listen": try self.setListen(text, source: source)
        case "database": try self.setDatabase(text, source: source)
        case "body_limit": self.bodyLimit = try Self.positive(Int(text), source)
        case "json_max_depth": self.jsonMaxDepth = try Self.positive(Int(text), source)
        case "synchronous": self.synchronous = try Self.synchronous(text, source)
        case "retention_days": self.retentionDays = try Self.nonNegative(Int(text), source)
        case "log_level": self.logLevel = text
        case "accept_unknown_types":
            guard let flag = try EnvironmentReader([source: text]).flag(source) else { return }
            self.acceptUnknownEventTypes = flag
        case "http_idle_timeout": self.httpIdleTimeout = try Self.seconds(Double(text), source)
        case "http_read_timeout": self.httpReadTimeout = try Self.seconds(Double(text), source)
        case "max_connections": self.maxConnections = try Self.positive(Int(text), source)
        case "trusted_proxies": self.trustedProxies = try IPNetwork.list(text, setting: source)
        case "http_proxy": self.httpProxy = text.isEmpty ? nil : text
        case "auth_rate_limit": self.authRateLimit = try Self.nonNegative(Int(text), source)
        case "auth0_log_types": self.auth0LogTypes = try Auth0LogTypes(parsing: text, setting: source)
        case "auth0_reconcile_interval": self.auth0ReconcileInterval = try Self.interval(text, source)
        default: throw ConfigurationError("\(source) is declared but not read; this is a bug")
        }
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
            ("PRODUCTIVITY_API_TOKEN", self.productivityAPIToken), ("AUTH0_LOG_STREAM_TOKEN", self.auth0LogStreamToken),
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

    /// Sets ``database`` from a SQLite path or a PostgreSQL URL (`source`, the setting or
    /// option it came from, names it in errors), with ``databasePassword`` added to a URL.
    /// Errors never quote the text: a URL may hold a password.
    public mutating func setDatabase(_ text: String, source: String) throws {
        self.database = try DatabaseLocation(parsing: text, setting: source)
        self.databaseSource = source
        self.passwordInDatabaseURL = if case .postgres(let location) = self.database { location.password != nil } else { false }
        try self.addDatabasePassword()
    }

    /// Puts ``databasePassword`` into a PostgreSQL ``database``; a password in the URL as
    /// well is an error (which one would win is not obvious to whoever reads the settings).
    private mutating func addDatabasePassword() throws {
        guard case .postgres(var location) = self.database, let password = self.databasePassword else { return }
        guard !self.passwordInDatabaseURL else {
            throw ConfigurationError(
                "the PostgreSQL URL of \(self.databaseSource) holds a password and INLET_DATABASE_PASSWORD (or INLET_DATABASE_PASSWORD_FILE) is set too; remove the password from the URL"
            )
        }
        location.password = password.value
        self.database = .postgres(location)
    }

    /// Shortest bearer token accepted (characters).
    public static let minimumTokenLength = 32

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

    /// An interval: seconds, or a number with `s`, `m` or `h`; `off` or `0` is none.
    static func interval(_ text: String, _ name: String) throws -> Double? {
        let text = text.trimmingCharacters(in: .whitespaces).lowercased()
        if text.isEmpty || text == "off" || text == "0" { return nil }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
        let unit = text.last.flatMap { units[$0] }
        let number = Double(unit == nil ? text : String(text.dropLast()))
        // At least a second: a shorter interval would run the reconciler back to back.
        guard let number, number.isFinite, number * (unit ?? 1) >= 1 else {
            throw ConfigurationError("\(name) must be a number of seconds (at least 1), or a number with s, m or h (such as 30m), or off")
        }
        return number * (unit ?? 1)
    }

    private static func synchronous(_ text: String, _ name: String) throws -> SQLiteSynchronous {
        guard let value = SQLiteSynchronous(rawValue: text.lowercased()) else {
            throw ConfigurationError("\(name) must be one of: full, normal")
        }
        return value
    }
}
