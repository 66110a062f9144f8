public import InletCore

/// What `POST /auth/sync` and `GET /auth/verify` need to verify Auth0 access tokens,
/// read from the environment (`AUTH0_DOMAIN`, `AUTH0_API_IDENTIFIER`, `AUTH0_JWKS_URL`,
/// `INLET_JWT_LEEWAY`).
///
/// ```swift
/// let settings = try AccessTokenSettings(environment: ProcessInfo.processInfo.environment)
/// if let domain = settings.domain, let audience = settings.apiIdentifier { ... }
/// ```
public struct AccessTokenSettings: Sendable {
    /// The tenant, `host` or `host:port`; nil leaves `/auth/*` answering 503.
    public var domain: String?
    /// The audience access tokens must carry; nil leaves `/auth/*` answering 503.
    public var apiIdentifier: String?
    /// Where the signing keys are; nil means `https://$AUTH0_DOMAIN/.well-known/jwks.json`.
    public var jwksURL: String?
    /// Seconds of clock skew tolerated on `exp` and `nbf`.
    public var leeway = 5.0

    public init() {}

    public init(environment: [String: String]) throws {
        let reader = EnvironmentReader(environment)
        self.domain = reader.string("AUTH0_DOMAIN")
        self.apiIdentifier = reader.string("AUTH0_API_IDENTIFIER")
        if let url = reader.string("AUTH0_JWKS_URL") {
            guard URLPolicy.isHTTPSOrLoopback(url) else {
                throw ConfigurationError("AUTH0_JWKS_URL must be an https:// URL (http:// only to a loopback address)")
            }
            self.jwksURL = url
        }
        if let text = reader.string("INLET_JWT_LEEWAY") {
            guard let leeway = Double(text), leeway.isFinite, (0...300).contains(leeway) else {
                throw ConfigurationError("INLET_JWT_LEEWAY must be a number of seconds from 0 to 300")
            }
            self.leeway = leeway
        }
    }

    /// These settings, declared once for `--help` and the README.
    public static let settings = SettingsSection("Auth0 access tokens (`POST /auth/sync`, `GET /auth/verify`)", [
        .auth0Domain,
        Setting(
            "AUTH0_API_IDENTIFIER", default: "unset",
            "audience of access tokens for `/auth/*`; with it or `AUTH0_DOMAIN` unset, `/auth/*` answers 503"
        ),
        Setting(
            "AUTH0_JWKS_URL", default: "`https://$AUTH0_DOMAIN/.well-known/jwks.json`",
            "where the signing keys are (`https://`, or `http://` only to a loopback address)"
        ),
        Setting("INLET_JWT_LEEWAY", default: "`5`", "seconds of clock leeway on `exp`/`nbf` (0 to 300)"),
    ])
}
