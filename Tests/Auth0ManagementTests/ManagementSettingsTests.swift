import Auth0Management
import InletCore
import ProvisioningHandler
import Testing

/// The `AUTH0_*` settings, read by the modules that use them (not by the server's
/// configuration): what they default to, and that a value that cannot be used is refused
/// naming the setting, at start-up.
@Suite(.timeLimit(.minutes(1))) struct ManagementSettingsTests {
    static let credentials = ["AUTH0_DOMAIN": "tenant.example.com", "AUTH0_CLIENT_ID": "id", "AUTH0_CLIENT_SECRET": "s3cr3t-value"]

    @Test func defaultsAndOverrides() throws {
        let defaults = try ManagementSettings(environment: Self.credentials)
        #expect(defaults.requestTimeout == 10)
        #expect(defaults.maxRetries == 3)
        #expect(defaults.tokenRefreshBuffer == 300)
        #expect(defaults.audience == "https://tenant.example.com/api/v2/")
        let set = try ManagementSettings(environment: Self.credentials.merging([
            "AUTH0_REQUEST_TIMEOUT": "2.5", "AUTH0_MAX_RETRIES": "0", "AUTH0_TOKEN_REFRESH_BUFFER": "60", "AUTH0_AUDIENCE": "https://api.example/",
        ]) { $1 })
        #expect(set.requestTimeout == 2.5)
        #expect(set.maxRetries == 0)
        #expect(set.tokenRefreshBuffer == 60)
        #expect(set.audience == "https://api.example/")
    }

    @Test(arguments: [
        ("AUTH0_MAX_RETRIES", "11"), ("AUTH0_MAX_RETRIES", "three"), ("AUTH0_REQUEST_TIMEOUT", "0"), ("AUTH0_REQUEST_TIMEOUT", "soon"),
        ("AUTH0_TOKEN_REFRESH_BUFFER", "-1"), ("AUTH0_DOMAIN", "https://tenant.example.com/"),
    ])
    func unusableValuesAreRefusedNamingTheSetting(_ name: String, _ value: String) {
        let error = #expect(throws: ConfigurationError.self) {
            try ManagementSettings(environment: Self.credentials.merging([name: value]) { $1 })
        }
        #expect(error?.message.contains(name) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains(value) == false || value.count < 3)
    }

    /// Without credentials the handlers wait (their deliveries are planned); a bad value
    /// is not a reason to wait but an error that stops the start.
    @Test func aBadValueStopsTheStartRatherThanLeavingTheHandlerWaiting() {
        #expect(throws: HandlerUnavailable.self) { try ManagementSettings(environment: [:]) }
        #expect(throws: ConfigurationError.self) { try ManagementSettings(environment: ["AUTH0_MAX_RETRIES": "99"]) }
    }

    @Test func provisioningReadsItsOwnSettingsThroughTheHandlersSecrets() throws {
        let settings = HandlerSettings(
            name: "provisioning", values: ["timezone": "Europe/Paris"],
            secrets: SecretResolver(environment: [
                "AUTH0_ENABLE_ROLE_ASSIGNMENT": "false", "AUTH0_DEFAULT_ROLE": "picker", "AUTH0_SEND_VERIFICATION_EMAIL": "no",
                "AUTH0_CONNECTION": "employees",
            ])
        )
        let options = try ProvisioningHandler.Options(settings: settings)
        #expect(options.enableRoleAssignment == false)
        #expect(options.defaultRole == "picker")
        #expect(options.sendVerificationEmail == false)
        #expect(options.connection == "employees")
        #expect(options.timezone == "Europe/Paris")
        let bad = HandlerSettings(name: "provisioning", secrets: SecretResolver(environment: ["AUTH0_ENABLE_ROLE_ASSIGNMENT": "maybe"]))
        #expect(throws: ConfigurationError.self) { try ProvisioningHandler.Options(settings: bad) }
    }
}
