import Foundation
import InletCore
import InletPostgres
import InletServer
import Testing

/// `INLET_DATABASE` as a SQLite path or a PostgreSQL URL, and the PostgreSQL password from
/// the URL, `INLET_DATABASE_PASSWORD` or its `_FILE`: parsed at start-up, with errors that
/// name the setting and never show the password.
@Suite(.timeLimit(.minutes(1))) struct DatabaseConfigurationTests {
    static let password = "Pa55-w0rd.secret"

    @Test func aPathIsSQLiteAndAURLIsPostgreSQL() throws {
        #expect(try Configuration.load(environment: [:]).database == .sqlite(path: "./data/inlet.sqlite"))
        #expect(try Configuration.load(environment: ["INLET_DATABASE": "/var/lib/inlet/db.sqlite"]).database == .sqlite(path: "/var/lib/inlet/db.sqlite"))

        let full = try Configuration.load(environment: ["INLET_DATABASE": "postgres://inlet@db.internal:6432/events?sslmode=verify-full"])
        #expect(full.database == .postgres(PostgresLocation(host: "db.internal", port: 6432, username: "inlet", database: "events", tls: .verifyFull)))
        #expect(!full.passwordInDatabaseURL)

        // Defaults: port 5432, the user's own database, sslmode prefer; either scheme, any case.
        let short = try Configuration.load(environment: ["INLET_DATABASE": "PostgreSQL://app@10.0.0.7"])
        #expect(short.database == .postgres(PostgresLocation(host: "10.0.0.7", port: 5432, username: "app", database: "app", tls: .prefer)))
        let slash = try Configuration.load(environment: ["INLET_DATABASE": "postgres://app@localhost/"])
        #expect(slash.database == .postgres(PostgresLocation(host: "localhost", username: "app")))

        let ipv6 = try Configuration.load(environment: ["INLET_DATABASE": "postgres://app@[::1]:6543/db"])
        #expect(ipv6.database == .postgres(PostgresLocation(host: "::1", port: 6543, username: "app", database: "db")))
        #expect(ipv6.database.description == "postgres://app@[::1]:6543/db?sslmode=prefer")

        // Percent-encoded user, password and database.
        let encoded = try Configuration.load(environment: ["INLET_DATABASE": "postgres://svc%40corp:p%40ss%3Aw%2Fd@db/in%20let"])
        guard case .postgres(let location) = encoded.database else { Issue.record("not PostgreSQL"); return }
        #expect(location.username == "svc@corp" && location.password == "p@ss:w/d" && location.database == "in let")
        #expect(encoded.passwordInDatabaseURL)
        #expect(location.description == "postgres://svc%40corp@db:5432/in%20let?sslmode=prefer")

        // libpq's options=-c search_path=SCHEMA: a schema other than public.
        for options in ["-c%20search_path%3Dtenant_a", "-csearch_path%3Dtenant_a", "--search_path=tenant_a", "-c+search_path=tenant_a"] {
            let withSchema = try Configuration.load(environment: ["INLET_DATABASE": "postgres://app@db/app?sslmode=disable&options=\(options)"])
            #expect(withSchema.database == .postgres(PostgresLocation(host: "db", username: "app", tls: .disable, schema: "tenant_a")))
            #expect(withSchema.database.description == "postgres://app@db:5432/app?sslmode=disable&options=-c%20search_path%3Dtenant_a")
            #expect(try PostgresLocation(url: withSchema.database.description) == PostgresLocation(host: "db", username: "app", tls: .disable, schema: "tenant_a"))
        }
        for options in ["-c%20statement_timeout%3D5", "-c%20search_path%3Da,b", "-c%20search_path%3D", "search_path%3Da"] {
            let error = try #require(throws: ConfigurationError.self) {
                try Configuration.load(environment: ["INLET_DATABASE": "postgres://app@db/app?options=\(options)"])
            }
            #expect(error.message.contains("options must be -c search_path=SCHEMA"))
        }
    }

    @Test(arguments: PostgresLocation.TLSMode.allCases)
    func everySSLModeIsRead(_ mode: PostgresLocation.TLSMode) throws {
        let configuration = try Configuration.load(environment: ["INLET_DATABASE": "postgres://inlet@db/inlet?sslmode=\(mode.rawValue)"])
        guard case .postgres(let location) = configuration.database else { Issue.record("not PostgreSQL"); return }
        #expect(location.tls == mode)
        #expect(configuration.database.description.hasSuffix("?sslmode=\(mode.rawValue)"))
    }

    @Test(arguments: ["verify-ca", "allow", "VERIFY-FULL", "", "on"])
    func anUnknownSSLModeNamesTheSettingAndTheModes(_ mode: String) throws {
        let error = try #require(throws: ConfigurationError.self) {
            try Configuration.load(environment: ["INLET_DATABASE": "postgres://inlet:\(Self.password)@db/inlet?sslmode=\(mode)"])
        }
        #expect(error.message.contains("INLET_DATABASE"))
        #expect(error.message.contains("disable, prefer, require, verify-full"))
        #expect(!error.message.contains(Self.password))
    }

    @Test func thePasswordComesFromTheSettingOrItsFile() throws {
        let url = "postgres://inlet@db.internal/inlet"
        let fromSetting = try Configuration.load(environment: ["INLET_DATABASE": url, "INLET_DATABASE_PASSWORD": Self.password])
        guard case .postgres(let location) = fromSetting.database else { Issue.record("not PostgreSQL"); return }
        #expect(location.password == Self.password)
        #expect(!fromSetting.passwordInDatabaseURL)
        var dumped = ""
        dump(fromSetting.database, to: &dumped)
        for shown in ["\(fromSetting.database)", "\(location)", String(reflecting: location), String(reflecting: fromSetting.database), dumped] {
            #expect(shown.contains("db.internal") && !shown.contains(Self.password), "\(shown)")
        }
        #expect("\(fromSetting.databasePassword!)" == "<redacted>")

        let folder = try TemporaryFolder()
        let file = folder.path + "/db-password"
        try Data((Self.password + "\n").utf8).write(to: URL(fileURLWithPath: file))
        let fromFile = try Configuration.load(environment: ["INLET_DATABASE": url, "INLET_DATABASE_PASSWORD_FILE": file])
        #expect(fromFile.database == fromSetting.database)

        // The database may also come from the config file, or from --database afterwards.
        let config = folder.path + "/inlet.json"
        try Data(#"{"database": "\#(url)"}"#.utf8).write(to: URL(fileURLWithPath: config))
        #expect(try Configuration.load(environment: ["INLET_DATABASE_PASSWORD": Self.password], configFile: config).database == fromSetting.database)
        var overridden = try Configuration.load(environment: ["INLET_DATABASE_PASSWORD": Self.password])
        try overridden.setDatabase(url, source: "--database")
        #expect(overridden.database == fromSetting.database)

        // Without either, the URL's own password, or none at all.
        let inURL = try Configuration.load(environment: ["INLET_DATABASE": "postgres://inlet:\(Self.password)@db.internal/inlet"])
        #expect(inURL.database == fromSetting.database && inURL.passwordInDatabaseURL)
        let none = try Configuration.load(environment: ["INLET_DATABASE": url])
        guard case .postgres(let bare) = none.database else { Issue.record("not PostgreSQL"); return }
        #expect(bare.password == nil)
        #expect(throws: ConfigurationError.self) {
            try Configuration.load(environment: ["INLET_DATABASE": url, "INLET_DATABASE_PASSWORD_FILE": folder.path + "/missing"])
        }
    }

    @Test func aPasswordInTheURLAndInTheSettingIsAnError() throws {
        let folder = try TemporaryFolder()
        let file = folder.path + "/db-password"
        try Data("other-password".utf8).write(to: URL(fileURLWithPath: file))
        let url = "postgres://inlet:\(Self.password)@db.internal/inlet"
        for extra in [["INLET_DATABASE_PASSWORD": "other-password"], ["INLET_DATABASE_PASSWORD_FILE": file]] {
            let error = try #require(throws: ConfigurationError.self) {
                try Configuration.load(environment: extra.merging(["INLET_DATABASE": url]) { $1 })
            }
            #expect(error.message.contains("INLET_DATABASE") && error.message.contains("INLET_DATABASE_PASSWORD"))
            #expect(error.message.contains("remove the password from the URL"))
            #expect(!error.message.contains(Self.password) && !error.message.contains("other-password"))
        }
        var configuration = try Configuration.load(environment: ["INLET_DATABASE_PASSWORD": "other-password"])
        let error = try #require(throws: ConfigurationError.self) { try configuration.setDatabase(url, source: "--to") }
        #expect(error.message.contains("--to") && !error.message.contains(Self.password))
    }

    /// Each malformed URL is refused at configuration time with what is wrong, naming the
    /// setting it came from; the password in it is never repeated.
    @Test(arguments: [
        ("postgres://db.internal/inlet", "names no user"),
        ("postgres://:\(password)@db.internal/inlet", "names no user"),
        ("postgres://inlet:\(password)@/inlet", "names no host"),
        ("postgres://inlet:\(password)@db.internal:0/inlet", "port"),
        ("postgres://inlet:\(password)@db.internal:99999/inlet", "port"),
        ("postgres://inlet:\(password)@db.internal:five/inlet", "port"),
        ("postgres://inlet:\(password)@@db.internal/inlet", "percent-encode"),
        ("postgres://inlet:pa/\(password)@db.internal/inlet", "percent-encode"),
        ("postgres://inlet:pa?\(password)@db.internal/inlet", "percent-encode"),
        ("postgres://inlet:\(password)%zz@db.internal/inlet", "password is not valid"),
        ("postgres://inlet:\(password)@db.internal/inlet?connect_timeout=5", "`connect_timeout` is not understood"),
        ("postgres://inlet:\(password)@db.internal/inlet#main", "fragment"),
        ("postgres://inlet:\(password)@db.internal/in/let", "database name"),
        ("postgres://inlet:\(password)@db1,db2/inlet", "one host"),
        ("postgres://inlet:\(password)@[::1/inlet", "IPv6"),
        ("postgres://inlet:\(password) @db.internal/inlet", "whitespace"),
        ("mysql://inlet:\(password)@db.internal/inlet", "SQLite file path or a postgres://"),
        ("", "empty"),
    ])
    func aBadURLNamesTheSettingNeverThePassword(_ url: String, _ reason: String) throws {
        let fromEnvironment = try #require(throws: ConfigurationError.self) { try Configuration.load(environment: ["INLET_DATABASE": url]) }
        #expect(fromEnvironment.message.hasPrefix("INLET_DATABASE "))
        #expect(fromEnvironment.message.contains(reason), "\(fromEnvironment.message)")
        #expect(!fromEnvironment.message.contains(Self.password))

        var configuration = Configuration()
        let fromOption = try #require(throws: ConfigurationError.self) { try configuration.setDatabase(url, source: "--database") }
        #expect(fromOption.message.hasPrefix("--database "))
        #expect(!fromOption.message.contains(Self.password))
    }

    @Test func aConfigFileNamingTheDatabasePasswordIsRefused() throws {
        let folder = try TemporaryFolder()
        let config = folder.path + "/inlet.json"
        try Data(#"{"database_password": "\#(Self.password)"}"#.utf8).write(to: URL(fileURLWithPath: config))
        let error = try #require(throws: ConfigurationError.self) { try Configuration.load(environment: [:], configFile: config) }
        #expect(error.message.contains("secrets are read only from the environment") && !error.message.contains(Self.password))
    }
}
