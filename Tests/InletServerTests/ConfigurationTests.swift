import Foundation
@testable import InletCore
@testable import InletServer
import InletSQLite
import Testing

@Suite struct ConfigurationTests {
    @Test func defaultsMatchTheDesign() throws {
        let configuration = try Configuration.load(environment: [:])
        #expect(configuration.listenHost == "127.0.0.1")
        #expect(configuration.listenPort == 8080)
        #expect(configuration.database == .sqlite(path: "./data/inlet.sqlite"))
        #expect(configuration.bodyLimit == 65_536)
        #expect(configuration.synchronous == .full)
        #expect(configuration.internalAPIToken == nil)
    }

    @Test func environmentOverridesTheFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("inlet.json")
        try #"{"listen":"0.0.0.0:9000","database":"/var/lib/inlet/db.sqlite","body_limit":1000,"synchronous":"normal"}"#
            .write(to: file, atomically: true, encoding: .utf8)
        let configuration = try Configuration.load(environment: ["INLET_BODY_LIMIT": "2048"], configFile: file.path)
        #expect(configuration.listenHost == "0.0.0.0")
        #expect(configuration.listenPort == 9000)
        #expect(configuration.database == .sqlite(path: "/var/lib/inlet/db.sqlite"))
        #expect(configuration.bodyLimit == 2048)
        #expect(configuration.synchronous == .normal)
    }

    @Test func secretsComeFromTheEnvironmentOrAFileNeverFromTheConfigFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let secretFile = folder.appendingPathComponent("token")
        try "from-a-file\n".write(to: secretFile, atomically: true, encoding: .utf8)
        let fromFile = try Configuration.load(environment: ["INTERNAL_API_TOKEN_FILE": secretFile.path])
        #expect(fromFile.internalAPIToken?.value == "from-a-file")
        #expect("\(fromFile.internalAPIToken!)" == "<redacted>")

        let config = folder.appendingPathComponent("inlet.json")
        try #"{"internal_api_token":"oops"}"#.write(to: config, atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) { try Configuration.load(environment: [:], configFile: config.path) }
    }

    @Test func readsTheConnectionSettings() throws {
        let defaults = try Configuration.load(environment: [:])
        #expect(defaults.httpIdleTimeout == 60)
        #expect(defaults.httpReadTimeout == 10)
        #expect(defaults.maxConnections == 4096)
        #expect(defaults.trustedProxies.isEmpty)
        #expect(defaults.httpProxy == nil)
        let configuration = try Configuration.load(environment: [
            "INLET_HTTP_IDLE_TIMEOUT": "30", "INLET_HTTP_READ_TIMEOUT": "2.5", "INLET_MAX_CONNECTIONS": "100",
            "INLET_TRUSTED_PROXIES": "10.0.0.0/8, 2001:db8::/32", "INLET_HTTP_PROXY": "http://proxy.internal:3128",
        ])
        #expect(configuration.httpIdleTimeout == 30)
        #expect(configuration.httpReadTimeout == 2.5)
        #expect(configuration.maxConnections == 100)
        #expect(configuration.trustedProxies == [IPNetwork("10.0.0.0/8")!, IPNetwork("2001:db8::/32")!])
        #expect(configuration.httpProxy == "http://proxy.internal:3128")
        for name in ["INLET_HTTP_IDLE_TIMEOUT", "INLET_HTTP_READ_TIMEOUT", "INLET_MAX_CONNECTIONS", "INLET_TRUSTED_PROXIES", "INLET_HTTP_PROXY"] {
            #expect(Configuration.settings.settings.contains { $0.variable == name })
        }
    }

    static let strong = String(repeating: "a", count: 32)

    @Test(arguments: [
        ("INTERNAL_API_TOKEN", "tok-abc"), ("ADMIN_API_TOKEN", String(repeating: "b", count: 31)),
        ("PRODUCTIVITY_API_TOKEN", " " + String(repeating: "c", count: 40)), ("ADMIN_API_TOKEN", String(repeating: "d", count: 40) + "\t"),
        ("PRODUCTIVITY_WEBHOOK_SECRET", "whsec_AA=="), ("PRODUCTIVITY_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_MfKQ9r8GKYqrTwjUPD8I"),
    ])
    func refusesWeakSecretsNamingTheSettingNotTheValue(_ name: String, _ value: String) throws {
        let configuration = try Configuration.load(environment: [name: value])
        let error = try #require(throws: ConfigurationError.self) { try configuration.checkSecrets() }
        #expect(error.message.contains(name))
        #expect(!error.message.contains(value.trimmingCharacters(in: .whitespaces)))
    }

    @Test func refusesTwoEqualTokens() throws {
        let configuration = try Configuration.load(environment: ["INTERNAL_API_TOKEN": Self.strong, "ADMIN_API_TOKEN": Self.strong])
        let error = try #require(throws: ConfigurationError.self) { try configuration.checkSecrets() }
        #expect(error.message.contains("INTERNAL_API_TOKEN") && error.message.contains("ADMIN_API_TOKEN"))
        #expect(!error.message.contains(Self.strong))
        let distinct = try Configuration.load(environment: [
            "INTERNAL_API_TOKEN": Self.strong, "ADMIN_API_TOKEN": Self.strong + "b", "PRODUCTIVITY_API_TOKEN": Self.strong + "c",
            "PRODUCTIVITY_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        ])
        try distinct.checkSecrets()
    }

    @Test(arguments: [
        ["INLET_LISTEN": "8080"], ["INLET_LISTEN": "host:99999"], ["INLET_BODY_LIMIT": "-1"],
        ["INLET_BODY_LIMIT": "lots"], ["INLET_DB_SYNCHRONOUS": "off"], ["INTERNAL_API_TOKEN_FILE": "/nonexistent/token"],
        ["INLET_HTTP_READ_TIMEOUT": "0"], ["INLET_HTTP_IDLE_TIMEOUT": "soon"], ["INLET_MAX_CONNECTIONS": "0"],
        ["INLET_TRUSTED_PROXIES": "10.0.0.0/40"],
    ])
    func refusesUnusableSettings(_ environment: [String: String]) {
        #expect(throws: ConfigurationError.self) { try Configuration.load(environment: environment) }
    }

    @Test func anUnknownConfigKeyIsAnError() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try #"{"listne":"127.0.0.1:1"}"#.write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) { try Configuration.load(environment: [:], configFile: file.path) }
    }
}

@Suite struct CryptoTests {
    @Test func comparesSecretsByValue() {
        #expect(Crypto.constantTimeEquals("token-a", "token-a"))
        #expect(!Crypto.constantTimeEquals("token-a", "token-b"))
        #expect(!Crypto.constantTimeEquals("token-a", "token-a "))
        #expect(!Crypto.constantTimeEquals("", "x"))
    }

    @Test func aFailedDigestNeverMakesTwoSecretsEqual() {
        // EVP_Digest with no algorithm fails, as a broken provider would.
        #expect(Crypto.digest("token-a", algorithm: nil) == nil)
        #expect(!Crypto.constantTimeEquals("token-a", "token-b", algorithm: nil))
        #expect(!Crypto.constantTimeEquals("token-a", "token-a", algorithm: nil))
    }

    @Test func randomIdsAreHexAndDistinct() {
        let ids = Set((0..<100).map { _ in Crypto.randomHex(byteCount: 12) })
        #expect(ids.count == 100)
        #expect(ids.allSatisfy { $0.count == 24 && $0.allSatisfy(\.isHexDigit) })
        #expect(Crypto.hex(Crypto.sha256("abc") ?? []) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    /// Every receiver setting with a config key and a variable is read from both, by the
    /// one parser, and the environment wins; a setting added to the catalogue without a
    /// sample here fails this test.
    @Test func everyKeyedSettingIsReadFromTheFileAndTheEnvironment() throws {
        let samples: [String: (file: String, environment: String)] = [
            "listen": (#""0.0.0.0:9001""#, "127.0.0.1:9002"), "database": (#""/a.sqlite""#, "/b.sqlite"),
            "body_limit": ("1000", "2000"), "json_max_depth": ("10", "20"), "synchronous": (#""normal""#, "full"),
            "retention_days": ("7", "8"), "log_level": (#""debug""#, "error"), "accept_unknown_types": ("true", "false"),
            "http_idle_timeout": ("5", "6"), "http_read_timeout": ("2.5", "3"), "max_connections": ("10", "11"),
            "trusted_proxies": (#""10.0.0.0/8""#, "192.168.0.0/16"), "http_proxy": (#""http://p1:3128""#, "http://p2:3128"),
            "auth_rate_limit": ("3", "4"),
        ]
        let keyed = Configuration.settings.settings.filter { $0.key != nil && $0.variable != nil }
        #expect(Set(keyed.compactMap(\.key)) == Set(samples.keys))
        let folder = try TemporaryFolder()
        let path = folder.path + "/inlet.json"
        let body = samples.map { #""\#($0.key)": \#($0.value.file)"# }.joined(separator: ", ")
        try Data("{\(body)}".utf8).write(to: URL(fileURLWithPath: path))
        let defaults = try Configuration.load(environment: [:])
        let fromFile = try Configuration.load(environment: [:], configFile: path)
        let environment = Dictionary(uniqueKeysWithValues: keyed.map { ($0.variable!, samples[$0.key!]!.environment) })
        let fromBoth = try Configuration.load(environment: environment, configFile: path)
        for configuration in [fromFile, fromBoth] {
            #expect(configuration.listenPort != defaults.listenPort)
            #expect(configuration.database != defaults.database)
            #expect(configuration.bodyLimit != defaults.bodyLimit)
            #expect(configuration.jsonMaxDepth != defaults.jsonMaxDepth)
            #expect(configuration.retentionDays != defaults.retentionDays)
            #expect(configuration.logLevel != defaults.logLevel)
            #expect(configuration.httpIdleTimeout != defaults.httpIdleTimeout)
            #expect(configuration.httpReadTimeout != defaults.httpReadTimeout)
            #expect(configuration.maxConnections != defaults.maxConnections)
            #expect(configuration.trustedProxies != defaults.trustedProxies)
            #expect(configuration.httpProxy != defaults.httpProxy)
            #expect(configuration.authRateLimit != defaults.authRateLimit)
        }
        #expect(fromFile.synchronous == .normal && fromFile.acceptUnknownEventTypes)
        #expect(fromBoth.listenPort == 9002 && fromBoth.database == .sqlite(path: "/b.sqlite") && fromBoth.bodyLimit == 2000)
        #expect(fromBoth.synchronous == .full && !fromBoth.acceptUnknownEventTypes && fromBoth.httpReadTimeout == 3)
        #expect(fromBoth.httpProxy == "http://p2:3128" && fromBoth.authRateLimit == 4 && fromBoth.logLevel == "error")
    }
}
