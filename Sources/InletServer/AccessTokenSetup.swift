internal import AccessTokens
internal import InletCore
internal import InletHTTPClient
internal import Logging
internal import ServiceLifecycle

/// What `/auth/*` needs, resolved once at start-up from the configuration.
///
/// With `AUTH0_DOMAIN` and `AUTH0_API_IDENTIFIER` set: a ``JWTVerifier`` over a
/// ``JWKSCache`` of the tenant's keys (its own libcurl client, trusting
/// `INLET_CA_BUNDLE`), and the ``JWKSRefresher`` service that keeps it fresh. Without
/// them: no verifier, and the message `/auth/*` answers 503 with.
///
/// ```swift
/// let auth = AccessTokenSetup(configuration: configuration, clock: clock, logger: logger)
/// services += auth.services
/// ```
struct AccessTokenSetup {
    let verifier: JWTVerifier?
    /// Why `/auth/*` is off (nil when on).
    let disabledReason: String?
    let services: [any Service]

    init(configuration: Configuration, clock: WallClock, logger: Logger) {
        var missing: [String] = []
        let settings = configuration.accessTokens
        if settings.domain == nil { missing.append("AUTH0_DOMAIN") }
        if settings.apiIdentifier == nil { missing.append("AUTH0_API_IDENTIFIER") }
        guard let domain = settings.domain, let audience = settings.apiIdentifier else {
            let names = missing.joined(separator: " and ")
            self.verifier = nil
            let reason = "\(names) \(missing.count == 1 ? "is" : "are") not set; access tokens cannot be verified"
            self.disabledReason = reason
            self.services = []
            logger.warning(
                "route disabled",
                metadata: ["route": "POST /auth/sync, GET /auth/verify", "reason": "\(reason); every call is answered 503"]
            )
            return
        }
        let url = settings.jwksURL ?? JWKSCache.Options.defaultURL(domain: domain)
        let client = OutboundClient(configuration: .init(
            caBundlePath: configuration.caBundlePath,
            maxConnections: 2, maxConnectionsPerHost: 2, proxy: configuration.httpProxy
        ))
        let cache = JWKSCache(options: .init(url: url), client: client, clock: clock, logger: logger)
        self.verifier = JWTVerifier(
            options: .auth0(domain: domain, audience: audience, leeway: settings.leeway), keys: cache, clock: clock
        )
        self.disabledReason = nil
        self.services = [JWKSRefresher(cache: cache, shutdownClient: client)]
        logger.info(
            "route enabled",
            metadata: [
                "route": "POST /auth/sync, GET /auth/verify", "auth": "Auth0 access token (RS256)",
                "issuer": "https://\(domain)/", "audience": "\(audience)", "jwks.url": "\(url)",
                "rate_limit_per_minute": "\(configuration.authRateLimit == 0 ? "off" : String(configuration.authRateLimit))",
            ]
        )
    }
}
