public import InletCore
public import InletHTTPClient
public import Auth0Management
public import CoreMetrics
import ArgumentParser
import Foundation
import Hummingbird
import AccessTokens
import InletServer
import InletPostgres
import InletSQLite
import Logging
import Metrics
import Prometheus
import Synchronization

/// The `inlet` command line, as a library: a package that adds its own handlers builds
/// its own executable with one call.
///
/// ```swift
/// // Sources/my-inlet/main.swift
/// import InletCommand
/// await InletCommand.main { resources in
///     [AuditHandler.factory, ForwardHandler.factory(client: resources.http), HandlerFactory(Greeter.self) { _ in Greeter() }]
/// }
/// ```
public enum InletCommand {
    /// What handler factories are built from, once the configuration is read.
    public struct Resources: Sendable {
        /// The outbound HTTP client (`INLET_CA_BUNDLE`, `INLET_HTTP_PROXY`): one curl
        /// thread and one connection pool, shared by the handlers that call out.
        public let http: OutboundClient
        /// The metrics system (Prometheus, served at `/metrics`).
        public let metrics: any MetricsFactory
        /// One Management API client per tenant (one token, one rate limiter), shared by
        /// the handlers that call Auth0 and by the reconciler of `inlet serve`.
        public let auth0: ManagementClientProvider
    }

    /// The handlers of a build, from its resources.
    public typealias HandlerList = @Sendable (Resources) -> [HandlerFactory]

    /// Parses the command line and runs it with `handlers` registered; exits the process.
    public static func main(handlers: @escaping HandlerList) async {
        registered.withLock { $0 = handlers }
        await Inlet.main()
    }

    static let registered = Mutex<HandlerList>({ _ in [] })

    /// The registered handler factories for `configuration`.
    static func factories(_ configuration: Configuration) -> [HandlerFactory] {
        self.resourcesAndFactories(configuration).factories
    }

    /// The resources made for `configuration` and the factories built from them.
    static func resourcesAndFactories(_ configuration: Configuration) -> (resources: Resources, factories: [HandlerFactory]) {
        let http = OutboundClient(configuration: .init(caBundlePath: configuration.caBundlePath, proxy: configuration.httpProxy))
        let resources = Resources(
            http: http, metrics: MetricsSystem.factory,
            auth0: ManagementClientProvider(http: http, logger: Logger(label: "inlet.auth0"), metrics: MetricsSystem.factory)
        )
        return (resources, registered.withLock { $0 }(resources))
    }

    /// Every setting of this build: the receiver's, the access tokens', and each
    /// registered handler's. Made once, on first use (help and `inlet settings` only): the
    /// factories built to read their settings are then released, with their HTTP client.
    static let catalogue: SettingsCatalogue = {
        let sections = factories(Configuration()).flatMap(\.settings)
        return SettingsCatalogue([Configuration.settings, AccessTokenSettings.settings, Configuration.auth0Settings] + sections)
    }()
}

struct Inlet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inlet",
        abstract: "A durable webhook and event receiver for Auth0 and the productivity system.",
        subcommands: [Serve.self, Migrate.self, Events.self, Replay.self, Purge.self, Handlers.self, Copy.self, Auth0.self, Settings.self],
        defaultSubcommand: Serve.self
    )
}

/// Options shared by the subcommands that open the database.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "JSON config file (also INLET_CONFIG).")
    var config: String?

    @Option(name: .long, help: "SQLite file or postgres:// URL; overrides INLET_DATABASE.")
    var database: String?

    func load() throws -> Configuration {
        var configuration = try Configuration.load(environment: ProcessInfo.processInfo.environment, configFile: self.config)
        if let database = self.database { try configuration.setDatabase(database, source: "--database") }
        return configuration
    }
}

func makeLogger(level: String) -> Logger {
    LoggingSystem.bootstrap { label in
        StandardErrorLogHandler(label: label, logLevel: Logger.Level(rawValue: level) ?? .info)
    }
    return Logger(label: "inlet")
}

struct Serve: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(abstract: "Run the receiver until SIGTERM or SIGINT.", discussion: InletCommand.catalogue.helpText)
    }

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "host:port to listen on; overrides INLET_LISTEN.")
    var listen: String?

    func run() async throws {
        var configuration = try self.common.load()
        if let listen = self.listen { try configuration.setListen(listen, source: "--listen") }
        let logger = makeLogger(level: configuration.logLevel)
        let metrics = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics))
        let (resources, factories) = InletCommand.resourcesAndFactories(configuration)
        let app = try await buildApplication(
            configuration: configuration, logger: logger, handlers: factories, metrics: metrics, auth0Clients: resources.auth0
        )
        try await app.runService()
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the database or bring its schema up to date, then exit.",
        discussion: "Settings: see inlet serve --help."
    )

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let configuration = try self.common.load()
        switch configuration.database {
        case .sqlite(let path):
            if let pid = DatabaseLock.currentHolder(databasePath: path) {
                // The server applied its migrations when it started; a newer schema needs a
                // start of the newer build (which migrates), never a second writer.
                let store = try await SQLiteStore.openReadOnly(path: path)
                await store.close()
                print("\(path): schema version \(Migrations.latestVersion), applied by the running inlet serve (pid \(pid))")
                return
            }
            let store = try await SQLiteStore.open(path: path, options: .init(synchronous: configuration.synchronous))
            await store.close()
            print("\(path): schema version \(Migrations.latestVersion)")
        case .postgres(let location):
            // Under the advisory lock: instances starting meanwhile wait, then find it done.
            let applied = try await PostgresStore.migrate(
                location, options: CommandDatabase.postgresOptions, logger: CommandDatabase.logger(configuration)
            )
            let detail = applied.isEmpty ? "already up to date" : "applied \(applied.map(String.init).joined(separator: ", "))"
            print("\(location): schema version \(PostgresStore.latestVersion) (\(detail))")
        }
    }
}

struct Settings: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every setting of this build: its variable, config key, default and meaning."
    )
    @Flag(help: "As the README's Markdown tables.")
    var markdown = false

    func run() async throws {
        let catalogue = InletCommand.catalogue
        print(self.markdown ? catalogue.markdown : catalogue.helpText)
    }
}
