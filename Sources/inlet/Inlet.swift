import ArgumentParser
import Foundation
import Hummingbird
import InletCore
import InletServer
import Logging
import Metrics
import Prometheus

@main
struct Inlet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inlet",
        abstract: "A durable webhook and event receiver for Auth0 and the productivity system.",
        subcommands: [Serve.self, Migrate.self, Events.self, Replay.self, Purge.self, Handlers.self],
        defaultSubcommand: Serve.self
    )
}

/// Options shared by the subcommands that open the database.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "JSON config file (also INLET_CONFIG).")
    var config: String?

    @Option(name: .long, help: "SQLite file; overrides INLET_DATABASE.")
    var database: String?

    func load() throws -> Configuration {
        var configuration = try Configuration.load(environment: ProcessInfo.processInfo.environment, configFile: self.config)
        if let database = self.database { configuration.databasePath = database }
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
    static let configuration = CommandConfiguration(
        abstract: "Run the receiver until SIGTERM or SIGINT.",
        discussion: Configuration.settingsHelp
    )

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "host:port to listen on; overrides INLET_LISTEN.")
    var listen: String?

    func run() async throws {
        var configuration = try self.common.load()
        if let listen = self.listen { try configuration.setListen(listen, source: "--listen") }
        let logger = makeLogger(level: configuration.logLevel)
        let metrics = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics))
        let app = try await buildApplication(configuration: configuration, logger: logger, handlers: builtinHandlers(caBundlePath: configuration.caBundlePath, proxy: configuration.httpProxy), metrics: metrics)
        try await app.runService()
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the database or bring its schema up to date, then exit.",
        discussion: Configuration.settingsHelp
    )

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let configuration = try self.common.load()
        if let pid = DatabaseLock.currentHolder(databasePath: configuration.databasePath) {
            // The server applied its migrations when it started; a newer schema needs a
            // start of the newer build (which migrates), never a second writer.
            let store = try await SQLiteStore.openReadOnly(path: configuration.databasePath)
            await store.close()
            print("\(configuration.databasePath): schema version \(Migrations.latestVersion), applied by the running inlet serve (pid \(pid))")
            return
        }
        let store = try await SQLiteStore.open(path: configuration.databasePath, options: .init(synchronous: configuration.synchronous))
        await store.close()
        print("\(configuration.databasePath): schema version \(Migrations.latestVersion)")
    }
}
