public import Hummingbird
internal import HTTPTypes
public import InletCore
public import Logging
internal import NIOCore
internal import ServiceLifecycle

/// Builds the application that `inlet serve` runs and that the tests run.
///
/// Opens the store (applying migrations), wires the routes, and attaches the store as a
/// service that closes after the HTTP server has stopped. Logs what is enabled and why
/// anything is not.
///
/// ```swift
/// let app = try await buildApplication(configuration: configuration, logger: logger)
/// try await app.runService()
/// ```
public func buildApplication(
    configuration: Configuration,
    logger: Logger,
    clock: WallClock = .system,
    onServerRunning: @escaping @Sendable (_ host: String, _ port: Int) async -> Void = { _, _ in }
) async throws -> some ApplicationProtocol {
    let store = try await SQLiteStore.open(
        path: configuration.databasePath,
        options: .init(synchronous: configuration.synchronous, clock: clock)
    )
    logger.info(
        "database open",
        metadata: [
            "database.path": "\(configuration.databasePath)",
            "database.synchronous": "\(configuration.synchronous.rawValue)",
            "database.schema": "\(Migrations.latestVersion)",
        ]
    )

    let router = Router(context: BasicRequestContext.self)
    let routes = RouteTable()
    // Middleware applies to the routes registered after it.
    router.middlewares.add(APIErrorMiddleware(routes: routes))
    let limits = JSONDocument.Limits(maxBytes: configuration.bodyLimit, maxDepth: configuration.jsonMaxDepth)

    HealthRoutes(store: store).register(on: router, routes: routes)
    SyncUserRoute(
        store: store,
        authenticator: BearerTokenAuthenticator(expected: configuration.internalAPIToken, settingName: "INTERNAL_API_TOKEN"),
        body: JSONBodyReader(limits: limits)
    ).register(on: router, routes: routes)

    if configuration.internalAPIToken == nil {
        logger.warning(
            "route disabled",
            metadata: ["route": "POST /internal/auth/sync-user", "reason": "INTERNAL_API_TOKEN is not set; every call is refused with 401"]
        )
    } else {
        logger.info("route enabled", metadata: ["route": "POST /internal/auth/sync-user", "auth": "bearer INTERNAL_API_TOKEN"])
    }
    logger.info("route enabled", metadata: ["route": "GET /healthz, GET /readyz"])

    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.listenHost, port: configuration.listenPort), serverName: nil),
        services: [StoreService(store: store)],
        onServerRunning: { channel in
            let host = channel.localAddress?.ipAddress ?? configuration.listenHost
            let port = channel.localAddress?.port ?? configuration.listenPort
            logger.info("listening", metadata: ["address": "\(host):\(port)"])
            await onServerRunning(host, port)
        },
        logger: logger
    )
}

/// Keeps the store open while the application runs and closes it after the server has
/// stopped (services shut down in reverse order, the server first).
struct StoreService: Service {
    let store: SQLiteStore

    func run() async throws {
        try? await gracefulShutdown()
        await self.store.close()
    }
}
