import InletCore
import Testing

/// What a handler may read of the environment: the variables it names, never Inlet's own
/// credentials, the database's password included.
@Suite(.timeLimit(.minutes(1))) struct SecretResolverTests {
    static let environment = [
        "FORWARD_SECRET": "handler-secret", "ADMIN_API_TOKEN": "admin-token", "INLET_DATABASE_PASSWORD": "db-password",
        "INLET_DATABASE_PASSWORD_FILE": "/run/secrets/db", "INLET_DATABASE": "postgres://inlet:db-password@db/inlet",
    ]

    @Test func aHandlerReadsItsOwnVariables() throws {
        let resolver = SecretResolver(environment: Self.environment)
        #expect(try resolver.secret("FORWARD_SECRET")?.value == "handler-secret")
        #expect(try resolver.value("FORWARD_SECRET") == "handler-secret")
        #expect(try resolver.value("UNSET") == nil)
    }

    @Test(arguments: ["ADMIN_API_TOKEN", "INLET_DATABASE_PASSWORD", "INLET_DATABASE_PASSWORD_FILE", "INLET_DATABASE"])
    func inletsOwnCredentialsAreRefused(_ name: String) {
        let resolver = SecretResolver(environment: Self.environment)
        for read in [{ try resolver.secret(name)?.value }, { try resolver.value(name) }] {
            let error = #expect(throws: ConfigurationError.self) { _ = try read() }
            #expect(error?.message.contains("one of Inlet's own credentials") == true)
            #expect(error.map { !$0.message.contains("db-password") } == true)
        }
    }
}
