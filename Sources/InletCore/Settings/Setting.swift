/// One setting Inlet reads: declared once, next to the code that reads it, and listed in
/// `inlet serve --help` and the README's settings tables from that one declaration.
///
/// ```swift
/// public static let settings = SettingsSection("Receiver", [
///     Setting("INLET_LISTEN", key: "listen", default: "`127.0.0.1:8080`", "`host:port` to listen on"),
///     Setting(secret: "ADMIN_API_TOKEN", "bearer token of `/admin/*`; unset disables it"),
/// ])
/// ```
public struct Setting: Sendable, Equatable {
    /// The environment variable; nil for a setting only the config file holds.
    public let variable: String?
    /// The config-file key; nil for a setting read only from the environment.
    public let key: String?
    /// The default as shown to people (Markdown), `unset` or `none` when there is none.
    public let defaultValue: String
    /// What it does (Markdown, one line).
    public let meaning: String
    /// Read only from the environment or from the file `NAME_FILE` names; never logged.
    public let isSecret: Bool

    public init(_ variable: String?, key: String? = nil, default defaultValue: String, _ meaning: String) {
        self.variable = variable
        self.key = key
        self.defaultValue = defaultValue
        self.meaning = meaning
        self.isSecret = false
    }

    /// A secret: environment (or `NAME_FILE`) only, unset by default.
    public init(secret variable: String, _ meaning: String) {
        self.variable = variable
        self.key = nil
        self.defaultValue = "unset"
        self.meaning = meaning
        self.isSecret = true
    }
}

extension Setting {
    /// The Auth0 tenant, read by the access-token verifier and by the Management API
    /// client alike: declared once for both.
    public static let auth0Domain = Setting(
        "AUTH0_DOMAIN", default: "unset",
        "the tenant (`tenant.eu.auth0.com`; may carry a port), for `/auth/*` and for the Management API handlers; always reached over verified HTTPS"
    )
}
