public import Auth0Management
public import Hummingbird
internal import HTTPTypes
internal import InletHTTPClient
internal import HummingbirdCore
public import InletCore
public import Logging
internal import NIOCore
internal import ServiceLifecycle
public import Prometheus

/// Builds the application that `inlet serve` runs and that the tests run.
///
/// Opens the store (applying migrations; SQLite or PostgreSQL, see ``openStore``), wires
/// the routes, and attaches the store as a service that closes after the HTTP server has
/// stopped. Logs what is enabled and why anything is not.
///
/// `clock` is the system's unless a test injects one (PostgreSQL then takes its leases on
/// it too, instead of on the database's clock).
///
/// ```swift
/// let app = try await buildApplication(configuration: configuration, logger: logger)
/// try await app.runService()
/// ```
public func buildApplication(
    configuration: Configuration,
    logger: Logger,
    handlers: [HandlerFactory] = [],
    clock injectedClock: WallClock? = nil,
    metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
    dispatcherOptions: Dispatcher.Options = Dispatcher.Options(),
    auth0Clients: ManagementClientProvider? = nil,
    onServerRunning: @escaping @Sendable (_ host: String, _ port: Int) async -> Void = { _, _ in }
) async throws -> some ApplicationProtocol {
    try configuration.checkSecrets()
    let clock = injectedClock ?? .system
    let store = try await openStore(configuration, clock: injectedClock, logger: logger)
    let registry: HandlerRegistry
    let verifier: StandardWebhooksVerifier?
    do {
        registry = try HandlerRegistry(
            factories: handlers, settings: configuration.handlerSettings, environment: configuration.environment, stores: store,
            clock: clock, logger: logger
        )
        verifier = try configuration.productivityWebhookSecret.map { secret in
            StandardWebhooksVerifier(secrets: try secret.value.split(separator: " ").map {
                try WebhookSecret.checked(String($0), setting: "PRODUCTIVITY_WEBHOOK_SECRET")
            })
        }
    } catch {
        await store.close()
        throw error
    }
    for entry in registry.active {
        logger.info(
            "handler active",
            metadata: [
                "handler": "\(entry.name)", "subscriptions": "\(entry.subscriptions.map(\.pattern).joined(separator: ","))",
                "concurrency": "\(entry.options.concurrency)", "max_attempts": "\(entry.options.maxAttempts)",
            ]
        )
    }
    for entry in registry.inactive {
        logger.notice(
            "handler inactive",
            metadata: [
                "handler": "\(entry.name)", "reason": "\(entry.reason)",
                "deliveries": "\(entry.waitingOn == nil ? "none planned" : "planned; they wait until it can run")",
            ]
        )
    }

    let metricsFactory = PrometheusMetricsFactory(registry: metrics)
    let dispatcher = Dispatcher(
        store: store, registry: registry, logger: logger, options: dispatcherOptions, clock: clock, metricsFactory: metricsFactory
    )
    let intake = EventIntake(store: store, registry: registry, dispatcher: dispatcher, clock: clock)

    let router = Router(context: InletRequestContext.self)
    let routes = RouteTable(router: router)
    // Middleware applies to the routes registered after it.
    router.middlewares.add(APIErrorMiddleware(routes: routes))
    // The console's security headers on every /console answer, its errors as pages (before
    // the client limits, so that their 429 on the sign-in form gets the headers too).
    let consolePages: ConsolePages
    do {
        consolePages = try ConsolePages()
    } catch {
        await store.close()
        throw error
    }
    router.middlewares.add(ConsoleHeadersMiddleware<InletRequestContext>(pages: consolePages))
    // Per-client limits: /auth/* requests, and failed authentications on the bearer routes.
    router.middlewares.add(ClientLimitsMiddleware<InletRequestContext>(
        authLimiter: configuration.authRateLimit > 0 ? ClientRateLimiter(limit: configuration.authRateLimit, clock: clock) : nil,
        failureGuard: ClientRateLimiter(limit: 20, clock: clock),
        clients: ClientAddressResolver(trustedProxies: configuration.trustedProxies)
    ))
    let auth = AccessTokenSetup(configuration: configuration, clock: clock, logger: logger)
    let body = JSONBodyReader(limits: JSONDocument.Limits(maxBytes: configuration.bodyLimit, maxDepth: configuration.jsonMaxDepth))
    // Batches (an Auth0 log-stream delivery, an employee import) are many events in one
    // body: at least 8 MiB, whatever the single-event limit (Auth0 pauses a stream whose
    // deliveries keep failing, so a 413 there would stop the channel).
    let batchBody = JSONBodyReader(limits: JSONDocument.Limits(maxBytes: max(configuration.bodyLimit, 8 << 20), maxDepth: configuration.jsonMaxDepth))

    HealthRoutes(dispatcher: dispatcher, waiting: registry.inactive.filter { $0.waitingOn != nil }, writable: WritableCheck(store: store))
        .register(on: routes)
    MetricsRoute(store: store, registry: metrics, clock: clock).register(on: routes)
    OpenAPIRoute().register(on: routes)
    SyncUserRoute(
        intake: intake,
        authenticator: BearerTokenAuthenticator(expected: configuration.internalAPIToken, settingName: "INTERNAL_API_TOKEN"),
        body: body
    ).register(on: routes)
    AuthRoutes(verifier: auth.verifier, disabledReason: auth.disabledReason, intake: intake, users: store, body: body).register(on: routes)
    ProductivityHookRoute(
        intake: intake, verifier: verifier,
        bearer: configuration.productivityAPIToken.map { BearerTokenAuthenticator(expected: $0, settingName: "PRODUCTIVITY_API_TOKEN") },
        body: body, clock: clock, acceptUnknownTypes: configuration.acceptUnknownEventTypes,
        received: ReceivedEventCounters(factory: metricsFactory)
    ).register(on: routes)
    Auth0LogStreamRoute(
        intake: intake, store: store,
        authenticator: BearerTokenAuthenticator(expected: configuration.auth0LogStreamToken, settingName: "AUTH0_LOG_STREAM_TOKEN"),
        body: batchBody, types: configuration.auth0LogTypes,
        received: ReceivedEventCounters(
            factory: metricsFactory, source: .auth0Logs, knownTypes: configuration.auth0LogTypes.types.union(Auth0LogTypes.default.types)
        )
    ).register(on: routes)
    let admin = BearerTokenAuthenticator(expected: configuration.adminAPIToken, settingName: "ADMIN_API_TOKEN")
    AdminRoutes(store: store, intake: intake, authenticator: admin, clock: clock).register(on: routes)
    let overview = AdminOverview(registry: registry, store: store, clock: clock)
    let catalogue = HandlerCatalogue(registry: registry, settings: configuration.handlerSettings, environment: configuration.environment)
    OperatorRoutes(store: store, intake: intake, overview: overview, catalogue: catalogue, authenticator: admin).register(on: routes)
    ConsoleRoutes(
        store: store, intake: intake, overview: overview, catalogue: catalogue,
        sessions: ConsoleSessions(store: store, adminToken: configuration.adminAPIToken, clock: clock), pages: consolePages, clock: clock
    ).register(on: routes)
    EmployeeAdminRoutes(
        intake: intake, employees: store, authenticator: admin,
        body: body,
        importBody: batchBody
    ).register(on: routes)

    logRoute("POST /internal/auth/sync-user", enabled: configuration.internalAPIToken != nil, auth: "bearer INTERNAL_API_TOKEN",
             reason: "INTERNAL_API_TOKEN is not set; every call is refused with 401", logger: logger)
    logRoute("POST /hooks/productivity", enabled: verifier != nil || configuration.productivityAPIToken != nil,
             auth: verifier != nil ? "Standard Webhooks signature (PRODUCTIVITY_WEBHOOK_SECRET)" : "bearer PRODUCTIVITY_API_TOKEN",
             reason: "neither PRODUCTIVITY_WEBHOOK_SECRET nor PRODUCTIVITY_API_TOKEN is set; every call is refused with 401", logger: logger)
    logRoute("POST /hooks/auth0-logs", enabled: configuration.auth0LogStreamToken != nil, auth: "bearer AUTH0_LOG_STREAM_TOKEN",
             reason: "AUTH0_LOG_STREAM_TOKEN is not set; every call is refused with 401", logger: logger)
    var reconcile: [any Service] = []
    if let interval = configuration.auth0ReconcileInterval {
        do {
            let settings = try ManagementSettings(environment: configuration.environment)
            let provider = auth0Clients ?? ManagementClientProvider(
                http: OutboundClient(configuration: .init(caBundlePath: configuration.caBundlePath, proxy: configuration.httpProxy)), logger: logger
            )
            let client = provider.client(settings: settings, sharedState: store as? any SharedValueStore)
            reconcile = [ReconcileService(
                reconciler: UserReconciler(client: client, store: store, intake: intake, logger: logger),
                interval: .milliseconds(Int64(interval * 1000)), logger: logger
            )]
            logger.info("reconciler enabled", metadata: ["interval_seconds": "\(interval)", "tenant": "\(settings.domain)"])
        } catch {
            await store.close()
            throw ConfigurationError("AUTH0_RECONCILE_INTERVAL is set but the reconciler cannot run: \(error)")
        }
    }
    logRoute("/console/", enabled: configuration.adminAPIToken != nil, auth: "sign-in with ADMIN_API_TOKEN (session cookie)",
             reason: "ADMIN_API_TOKEN is not set; nobody can sign in", logger: logger)
    logRoute("/admin/*", enabled: configuration.adminAPIToken != nil, auth: "bearer ADMIN_API_TOKEN",
             reason: "ADMIN_API_TOKEN is not set; every call is refused with 401", logger: logger)
    logger.info("route enabled", metadata: ["route": "GET /healthz, GET /readyz, GET /metrics, GET /openapi.yaml"])

    return Application(
        router: router,
        server: .inlet(idleTimeout: configuration.httpIdleTimeout, readTimeout: configuration.httpReadTimeout),
        configuration: .init(
            address: .hostname(configuration.listenHost, port: configuration.listenPort), serverName: nil,
            availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections, logger: logger)
        ),
        // Started in order, stopped in reverse: the server stops first, then the
        // dispatcher lets running handlers finish, then the store closes.
        services: [StoreService(store: store, logger: logger), dispatcher]
            + [Retention(store: store, days: configuration.retentionDays, clock: clock, logger: logger)] + auth.services + reconcile,
        onServerRunning: { channel in
            let host = channel.localAddress?.ipAddress ?? configuration.listenHost
            let port = channel.localAddress?.port ?? configuration.listenPort
            logger.info("listening", metadata: ["address": "\(host):\(port)"])
            await onServerRunning(host, port)
        },
        logger: logger
    )
}

private func logRoute(_ route: String, enabled: Bool, auth: String, reason: String, logger: Logger) {
    if enabled {
        logger.info("route enabled", metadata: ["route": "\(route)", "auth": "\(auth)"])
    } else {
        logger.warning("route disabled", metadata: ["route": "\(route)", "reason": "\(reason)"])
    }
}

