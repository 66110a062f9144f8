import Foundation
import InletCore
import Testing

@Suite struct ConfigurationTests {
    @Test func defaultsMatchTheDesign() throws {
        let configuration = try Configuration.load(environment: [:])
        #expect(configuration.listenHost == "127.0.0.1")
        #expect(configuration.listenPort == 8080)
        #expect(configuration.databasePath == "./data/inlet.sqlite")
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
        #expect(configuration.databasePath == "/var/lib/inlet/db.sqlite")
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

    @Test(arguments: [
        ["INLET_LISTEN": "8080"], ["INLET_LISTEN": "host:99999"], ["INLET_BODY_LIMIT": "-1"],
        ["INLET_BODY_LIMIT": "lots"], ["INLET_DB_SYNCHRONOUS": "off"], ["INTERNAL_API_TOKEN_FILE": "/nonexistent/token"],
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

    @Test func randomIdsAreHexAndDistinct() {
        let ids = Set((0..<100).map { _ in Crypto.randomHex(byteCount: 12) })
        #expect(ids.count == 100)
        #expect(ids.allSatisfy { $0.count == 24 && $0.allSatisfy(\.isHexDigit) })
        #expect(Crypto.hex(Crypto.sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
