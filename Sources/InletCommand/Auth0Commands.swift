import ArgumentParser
import Auth0Management
import Foundation
import InletCore
import InletHTTPClient
import InletServer
import Logging

/// `inlet auth0 connect` and `inlet auth0 reconcile`: the Auth0 side of the set-up, through
/// the Management API (`AUTH0_DOMAIN`, `AUTH0_CLIENT_ID`, `AUTH0_CLIENT_SECRET`).
struct Auth0: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth0",
        abstract: "Connect the tenant's log stream to this Inlet, or reconcile Inlet's users with the tenant's.",
        subcommands: [Connect.self, Reconcile.self]
    )

    /// The Management API client of the configured tenant; the reason when it cannot be made.
    static func client(_ configuration: Configuration, http: OutboundClient, sharedState: (any SharedValueStore)? = nil) throws -> ManagementClient {
        let settings: ManagementSettings
        do {
            settings = try ManagementSettings(environment: configuration.environment)
        } catch let error as HandlerUnavailable {
            throw ValidationError("the Management API credentials are missing: \(error.reason)")
        }
        var options = ManagementClient.Options()
        options.sharedState = sharedState
        return ManagementClient(settings: settings, http: http, options: options, logger: CommandDatabase.logger(configuration))
    }

    /// Runs `body` with an outbound client, shut down afterwards whatever happens.
    static func withHTTP<T>(_ configuration: Configuration, _ body: (OutboundClient) async throws -> T) async throws -> T {
        let http = OutboundClient(configuration: .init(caBundlePath: configuration.caBundlePath, proxy: configuration.httpProxy))
        do {
            let value = try await body(http)
            await http.shutdown()
            return value
        } catch {
            await http.shutdown()
            throw error
        }
    }

    struct Connect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or update the tenant's custom-webhook log stream that sends to this Inlet, with a fresh token.",
            discussion: """
                Finds the stream by its name (`Inlet <host>`), so running it again updates that stream (and makes a new token) \
                instead of adding another. Prints the token once: set it as AUTH0_LOG_STREAM_TOKEN where inlet serve runs. \
                Needs the scopes read:log_streams, create:log_streams and update:log_streams.
                """
        )
        @OptionGroup var common: CommonOptions
        @Option(help: "The Inlet's public URL, such as https://inlet.example (the stream sends to URL/hooks/auth0-logs).")
        var url: String

        func run() async throws {
            let configuration = try self.common.load()
            let result = try await Auth0.withHTTP(configuration) { http in
                try await LogStreamConnector(client: try Auth0.client(configuration, http: http)).connect(inletURL: self.url)
            }
            print(LogStreamConnector.report(result))
        }
    }

    struct Reconcile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or update Inlet's users from the tenant's users changed since the last run; print the counts.",
            discussion: """
                Resumes from the cursor of the last run (kept in the database). Needs the read:users scope. With a SQLite \
                database held by a running inlet serve, set AUTH0_RECONCILE_INTERVAL there instead.
                """
        )
        @OptionGroup var common: CommonOptions

        func run() async throws {
            let configuration = try self.common.load()
            let counts: ReconcileCounts = try await CommandDatabase.writing(configuration) { store in
                try await Auth0.withHTTP(configuration) { http in
                    let registry = try HandlerRegistry(
                        factories: InletCommand.factories(configuration), settings: configuration.handlerSettings,
                        environment: configuration.environment, stores: store
                    )
                    let logger = CommandDatabase.logger(configuration)
                    let intake = EventIntake(store: store, registry: registry, dispatcher: Dispatcher(store: store, registry: registry, logger: logger))
                    let client = try Auth0.client(configuration, http: http, sharedState: store as? any SharedValueStore)
                    return try await UserReconciler(client: client, store: store, intake: intake, logger: logger).run()
                }
            } server: { api -> ReconcileCounts in
                throw ValidationError(
                    "\(configuration.database) is held by inlet serve (pid \(api.serverPID)); set AUTH0_RECONCILE_INTERVAL there to reconcile, or stop it first"
                )
            }
            printJSON(["created": .int(counts.created), "updated": .int(counts.updated), "unchanged": .int(counts.unchanged)])
        }
    }
}
