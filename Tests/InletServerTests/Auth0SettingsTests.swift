import InletCore
import InletTestSupport
@testable import InletServer
import Testing

/// The log stream's and the reconciler's settings: read, refused with the setting's name.
@Suite(.timeLimit(.minutes(1))) struct Auth0SettingsTests {
    @Test func readsTheLogStreamAndReconcilerSettings() throws {
        var configuration = try Configuration.load(environment: [
            "AUTH0_LOG_STREAM_TOKEN": "lstok_" + String(repeating: "5", count: 40), "INLET_AUTH0_LOG_TYPES": "s, ss ,du",
            "AUTH0_RECONCILE_INTERVAL": "30m",
        ])
        #expect(configuration.auth0LogStreamToken?.value.hasPrefix("lstok_") == true)
        #expect(configuration.auth0LogTypes.contains("ss") && !configuration.auth0LogTypes.contains("f"))
        #expect(configuration.auth0ReconcileInterval == 1800)
        configuration = try Configuration.load(environment: ["INLET_AUTH0_LOG_TYPES": "*", "AUTH0_RECONCILE_INTERVAL": "off"])
        #expect(configuration.auth0LogTypes.contains("sapi"))
        #expect(configuration.auth0ReconcileInterval == nil)
        // Defaults: the lifecycle and authentication types, no reconciler, the route off.
        configuration = try Configuration.load(environment: [:])
        #expect(configuration.auth0LogTypes.contains("s") && configuration.auth0LogTypes.contains("du") && !configuration.auth0LogTypes.contains("sapi"))
        #expect(configuration.auth0ReconcileInterval == nil && configuration.auth0LogStreamToken == nil)
        #expect(try Configuration.load(environment: ["AUTH0_RECONCILE_INTERVAL": "90"]).auth0ReconcileInterval == 90)
    }

    @Test(arguments: [
        ("AUTH0_RECONCILE_INTERVAL", "soon"), ("AUTH0_RECONCILE_INTERVAL", "-5m"), ("AUTH0_RECONCILE_INTERVAL", "0.001"), ("INLET_AUTH0_LOG_TYPES", "s,*"),
        ("INLET_AUTH0_LOG_TYPES", "s;ss"), ("AUTH0_LOG_STREAM_TOKEN", "lstok_tooShort9"),
    ])
    func refusesBadValuesNamingTheSetting(_ name: String, _ value: String) throws {
        do {
            let configuration = try Configuration.load(environment: [name: value])
            try configuration.checkSecrets()
            Issue.record("\(name)=\(value) was accepted")
        } catch let error as ConfigurationError {
            #expect(error.message.contains(name))
            #expect(!error.message.contains(value) || name != "AUTH0_LOG_STREAM_TOKEN")
        }
    }

    @Test func aReconcileIntervalWithoutCredentialsStopsStartUpWithTheReason() async throws {
        let folder = try TemporaryFolder()
        var configuration = testConfiguration(folder: folder)
        configuration.auth0ReconcileInterval = 60
        do {
            _ = try await buildApplication(configuration: configuration, logger: LogCapture().logger)
            Issue.record("the server started without Management API credentials")
        } catch let error as ConfigurationError {
            #expect(error.message.contains("AUTH0_RECONCILE_INTERVAL") && error.message.contains("AUTH0_CLIENT_ID"))
        }
    }
}
