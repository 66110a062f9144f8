import AccessTokens
import Auth0Management
import InletHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InletCore
import InletSQLite
@testable import InletServer
import InletTestSupport
import Logging
import NIOCore
import Testing

// MARK: - Tokens and the application with Auth0 configured

enum RouteTenant {
    /// The tenant's signing key (its own, so its kid is the routes' one).
    static let key = TestRSAKey(kid: "route-key-1")
    /// The tenant's JWKS document, publishing `key`.
    static var jwks: [UInt8] { TestRSAKey.jwks([key.jwk()]) }

    static let domain = "inlet-routes.eu.auth0.com"
    static let audience = "https://api.inlet.example"
    static let now: Int64 = 1_772_323_200

    static func claims(sub: String, _ overrides: [(String, JSONValue)] = []) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("iss", .string("https://\(domain)/")), ("sub", .string(sub)), ("aud", [.string(audience), .string("https://\(domain)/userinfo")]),
            ("iat", .int(Int(now) - 10)), ("exp", .int(Int(now) + 3600)), ("scope", "openid profile email"),
        ]
        for (key, value) in overrides {
            members.removeAll { $0.0 == key }
            if value != .null { members.append((key, value)) }
        }
        return .object(members)
    }

    static func token(sub: String, _ overrides: [(String, JSONValue)] = []) -> String {
        key.token(claims(sub: sub, overrides))
    }
}

/// Runs `body` against the real application with Auth0 access tokens configured, a loopback
/// JWKS endpoint answering `jwks`, and the clock of `clock`.
func withAuthInlet<Value: Sendable>(
    folder: borrowing TemporaryFolder,
    jwks: JWKSTestServer.Answer = .jwks(RouteTenant.jwks),
    clock: TestClock = TestClock(seconds: RouteTenant.now),
    logs: LogCapture = LogCapture(),
    configure: (inout Configuration) -> Void = { _ in },
    _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Value
) async throws -> Value {
    let server = try await JWKSTestServer.start(jwks)
    do {
        let result = try await withInlet(
            folder: folder, logs: logs, clock: clock.clock,
            configure: { configuration in
                configuration.accessTokens.domain = RouteTenant.domain
                configuration.accessTokens.apiIdentifier = RouteTenant.audience
                configuration.accessTokens.jwksURL = server.url
                configure(&configuration)
            },
            body
        )
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

extension TestClientProtocol {
    func authVerify(_ token: String?) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await self.execute(uri: "/auth/verify", method: .get, headers: headers)
    }

    func authSync(_ token: String?, _ json: String) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await self.execute(uri: "/auth/sync", method: .post, headers: headers, body: ByteBuffer(string: json))
    }
}

// MARK: - Tests

/// POST /auth/sync and GET /auth/verify, end to end over loopback: real SQLite, a real
/// JWKS endpoint, tokens signed in the test.
@Suite(.timeLimit(.minutes(1))) struct AuthRoutesTests {
    static let sub = "auth0|6745a1f0c2d94e0012ab34cd"

    @Test func aNewEmailFromTheBodyIsUnverifiedUnlessTheTokenVouchesForIt() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        /// "email verified-flag" of the user's row.
        @Sendable func verified() throws -> String {
            let row = try query(db, "SELECT email, email_verified FROM users WHERE auth0_id = ?", [.text(Self.sub)]).first
            let email = try row?.optionalString("email") ?? "-"
            let verified = try row?.int("email_verified") ?? -1
            return "\(email) \(verified)"
        }
        try await withAuthInlet(folder: folder) { client in
            // The Action records the user with a verified address.
            let action = try await client.syncUser(#"{"auth0Id":"\#(Self.sub)","email":"maria@example.com","emailVerified":true}"#)
            #expect(action.status == .ok)
            #expect(try verified() == "maria@example.com 1")

            // The same address again keeps it verified.
            let plain = RouteTenant.token(sub: Self.sub)
            #expect(try await client.authSync(plain, #"{"email":"maria@example.com"}"#).status == .ok)
            #expect(try verified() == "maria@example.com 1")

            // Another address from the body alone is recorded unverified.
            #expect(try await client.authSync(plain, #"{"email":"ceo@example.com"}"#).status == .ok)
            #expect(try verified() == "ceo@example.com 0")

            // A token carrying the address as verified vouches for it.
            let vouched = RouteTenant.token(sub: Self.sub, [("email", "maria.lopez@example.com"), ("email_verified", true)])
            #expect(try await client.authSync(vouched, #"{"email":"maria.lopez@example.com"}"#).status == .ok)
            #expect(try verified() == "maria.lopez@example.com 1")
            let namespaced = RouteTenant.token(
                sub: Self.sub, [("https://inlet.example/email", "m.lopez@example.com"), ("https://inlet.example/email_verified", true)]
            )
            #expect(try await client.authSync(namespaced, #"{"email":"m.lopez@example.com"}"#).status == .ok)
            #expect(try verified() == "m.lopez@example.com 1")
            // ...but only for the address it names.
            #expect(try await client.authSync(vouched, #"{"email":"other@example.com"}"#).status == .ok)
            #expect(try verified() == "other@example.com 0")
        }
    }

    @Test func verifyBeforeSyncIs404AndAfterIt200() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let token = RouteTenant.token(sub: Self.sub)
        try await withAuthInlet(folder: folder) { client in
            let before = try await client.authVerify(token)
            #expect(before.status == .notFound)
            #expect(try before.json["error"] == "not_found")

            let sync = try await client.authSync(token, #"{"email":"maria.lopez@example.com","auth0_id":"\#(Self.sub)","name":"Maria Lopez"}"#)
            #expect(sync.status == .ok, "\(sync.text)")
            let synced = try sync.json
            let id = try #require(synced["id"]?.intValue)
            #expect(synced["email"] == "maria.lopez@example.com")
            #expect(synced["name"] == "Maria Lopez")

            let after = try await client.authVerify(token)
            #expect(after.status == .ok)
            let json = try after.json
            #expect(json["valid"] == true)
            #expect(json["user"]?["id"]?.intValue == id)
            #expect(json["user"]?["email"] == "maria.lopez@example.com")
            #expect(json["user"]?["name"] == "Maria Lopez")

            let row = try #require(try query(db, "SELECT id, auth0_id, email, name FROM users").first)
            #expect(try row.int64("id") == Int64(id))
            #expect(try row.string("auth0_id") == Self.sub)
            #expect(try row.optionalString("email") == "maria.lopez@example.com")
            #expect(try row.optionalString("name") == "Maria Lopez")
            let events = try query(db, "SELECT source, type, payload FROM events")
            #expect(events.count == 1)
            #expect(try events.first?.string("type") == "auth0.user.login")
            #expect(try events.first?.string("payload").contains(Self.sub) == true)
        }
    }

    @Test func actionAndFrontendSyncTheSameRow() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        try await withAuthInlet(folder: folder) { client in
            let action = try await client.syncUser(#"{"auth0Id":"\#(Self.sub)","email":"old@example.com","name":"Maria"}"#).json
            let frontend = try await client.authSync(RouteTenant.token(sub: Self.sub), #"{"email":"new@example.com"}"#)
            #expect(frontend.status == .ok)
            let json = try frontend.json
            #expect(json["id"] == action["user_id"])
            #expect(json["email"] == "new@example.com")
            #expect(json["name"] == "Maria")  // kept: the body did not send one
            #expect(try count(db, "users") == 1)
            #expect(try query(db, "SELECT logins_count FROM users").first?.int("logins_count") == 2)
            // And the other way round: the Action after the frontend.
            let again = try await client.syncUser(#"{"auth0Id":"\#(Self.sub)"}"#).json
            #expect(again["created"] == false)
            #expect(try count(db, "users") == 1)
        }
    }

    @Test func bodyAuth0IDOtherThanTheTokenSubjectIs403() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        try await withAuthInlet(folder: folder) { client in
            let response = try await client.authSync(
                RouteTenant.token(sub: Self.sub), #"{"email":"x@example.com","auth0_id":"auth0|someone-else","name":"X"}"#
            )
            #expect(response.status == .forbidden)
            #expect(try response.json["error"] == "forbidden")
            #expect(try count(db, "users") == 0)
            // A malformed body is 400, nothing written.
            let bad = try await client.authSync(RouteTenant.token(sub: Self.sub), #"{"email":42}"#)
            #expect(bad.status == .badRequest)
            #expect(try count(db, "users") == 0)
        }
    }

    @Test func missingTokenIs401WithTheRealmChallenge() async throws {
        let folder = try TemporaryFolder()
        try await withAuthInlet(folder: folder) { client in
            let none = try await client.authVerify(nil)
            #expect(none.status == .unauthorized)
            #expect(none.headers[.wwwAuthenticate] == #"Bearer realm="api""#)
            #expect(try none.json["error"] == "unauthorized")
            let basic = try await client.execute(uri: "/auth/verify", method: .get, headers: [.authorization: "Basic dXNlcjpwYXNz"])
            #expect(basic.status == .unauthorized)
            #expect(basic.headers[.wwwAuthenticate] == #"Bearer realm="api""#)
            let sync = try await client.authSync(nil, "{}")
            #expect(sync.status == .unauthorized)
        }
    }

    @Test func invalidTokensAre401InvalidToken() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let now = Int(RouteTenant.now)
        let tokens: [(String, String)] = [
            ("expired", RouteTenant.token(sub: Self.sub, [("exp", .int(now - 60))])),
            ("not yet valid", RouteTenant.token(sub: Self.sub, [("nbf", .int(now + 60))])),
            ("wrong audience", RouteTenant.token(sub: Self.sub, [("aud", "https://api.other.example")])),
            ("issuer without slash", RouteTenant.token(sub: Self.sub, [("iss", .string("https://\(RouteTenant.domain)"))])),
            ("alg none", Base64.url.encode(#"{"alg":"none","kid":"route-key-1"}"#) + "." + Base64.url.encode(RouteTenant.claims(sub: Self.sub).serialized()) + ".AAAA"),
            ("garbage", "not-a-token"),
            ("too long", String(repeating: "a", count: 10_000)),
        ]
        try await withAuthInlet(folder: folder, configure: { $0.authRateLimit = 0 }) { client in
            for (name, token) in tokens {
                for response in [try await client.authVerify(token), try await client.authSync(token, #"{"email":"x@example.com"}"#)] {
                    #expect(response.status == .unauthorized, "\(name)")
                    let challenge = response.headers[.wwwAuthenticate] ?? ""
                    #expect(challenge.hasPrefix(#"Bearer error="invalid_token", error_description=""#), "\(name): \(challenge)")
                    #expect(try response.json["error"] == "unauthorized", "\(name)")
                    #expect(!response.text.contains(token.prefix(30)), "\(name)")
                }
            }
            #expect(try count(db, "users") == 0)
        }
    }

    @Test func unconfiguredAuthAnswers503NamingTheSetting() async throws {
        let folder = try TemporaryFolder()
        let logs = LogCapture()
        try await withAuthInlet(folder: folder, logs: logs, configure: { $0.accessTokens.apiIdentifier = nil }) { client in
            let response = try await client.authVerify(RouteTenant.token(sub: Self.sub))
            #expect(response.status == .serviceUnavailable)
            let json = try response.json
            #expect(json["error"] == "unavailable")
            #expect(json["message"]?.stringValue?.contains("AUTH0_API_IDENTIFIER") == true)
            #expect(json["message"]?.stringValue?.contains("AUTH0_DOMAIN") == false)
        }
        #expect(logs.all.contains { $0.contains("route disabled") && $0.contains("AUTH0_API_IDENTIFIER is not set") })
    }

    @Test func signingKeysUnavailableIs503NotA401() async throws {
        let folder = try TemporaryFolder()
        try await withAuthInlet(folder: folder, jwks: .status(500)) { client in
            let response = try await client.authVerify(RouteTenant.token(sub: Self.sub))
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.retryAfter] != nil)
            #expect(try response.json["error"] == "unavailable")
        }
    }

    @Test func rateLimitAnswers429ThenAllowsAgainAfterTheWindow() async throws {
        let folder = try TemporaryFolder()
        let clock = TestClock(seconds: RouteTenant.now)
        try await withAuthInlet(folder: folder, clock: clock) { client in
            let token = RouteTenant.token(sub: Self.sub, [("exp", .int(Int(RouteTenant.now) + 7200))])
            for index in 0..<10 {
                let response = try await client.authVerify(token)
                #expect(response.status == .notFound, "request \(index + 1)")
            }
            let limited = try await client.authVerify(token)
            #expect(limited.status == .tooManyRequests)
            #expect(try limited.json["error"] == "rate_limited")
            #expect(limited.headers[.retryAfter] == "60")
            // Other routes are not limited.
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)

            clock.advance(seconds: 30)
            let stillLimited = try await client.authSync(token, "{}")
            #expect(stillLimited.status == .tooManyRequests)
            #expect(stillLimited.headers[.retryAfter] == "30")

            clock.advance(seconds: 30)
            let allowed = try await client.authVerify(token)
            #expect(allowed.status == .notFound)
        }
    }

    @Test func rateLimitZeroTurnsItOff() async throws {
        let folder = try TemporaryFolder()
        try await withAuthInlet(folder: folder, configure: { $0.authRateLimit = 0 }) { client in
            for _ in 0..<25 {
                let response = try await client.authVerify(nil)
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func repeatedFailedAuthOnTheInternalRouteIsRefusedButTheRightTokenIsNot() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let clock = TestClock(seconds: RouteTenant.now)
        try await withAuthInlet(folder: folder, clock: clock) { client in
            for index in 0..<20 {
                let response = try await client.syncUser(#"{"auth0Id":"auth0|guess"}"#, token: "guess-\(index)")
                #expect(response.status == .unauthorized)
            }
            let blocked = try await client.syncUser(#"{"auth0Id":"auth0|guess"}"#, token: "guess-21")
            #expect(blocked.status == .tooManyRequests)
            #expect(try blocked.json["error"] == "rate_limited")
            #expect(blocked.headers[.retryAfter] == "60")
            // The right token is never throttled: the guessing cannot lock the Action out.
            let right = try await client.syncUser(#"{"auth0Id":"auth0|guess"}"#)
            #expect(right.status == .ok)
            #expect(try count(db, "users") == 1)
            #expect(try await client.syncUser(#"{"auth0Id":"auth0|guess"}"#, token: "guess-22").status == .tooManyRequests)

            clock.advance(seconds: 60)
            let later = try await client.syncUser(#"{"auth0Id":"auth0|guess"}"#, token: "guess-23")
            #expect(later.status == .unauthorized)
        }
    }

    @Test func theFailureGuardCoversTheAdminAndBearerProductivityRoutes() async throws {
        let folder = try TemporaryFolder()
        try await withInlet(folder: folder, configure: { configuration in
            configuration.adminAPIToken = Secret(adminToken)
            configuration.productivityAPIToken = Secret(productivityToken)
        }) { client in
            for index in 0..<20 {
                let uri = index % 2 == 0 ? "/admin/events" : "/hooks/productivity"
                let method: HTTPRequest.Method = index % 2 == 0 ? .get : .post
                let response = try await client.execute(
                    uri: uri, method: method, headers: [.authorization: "Bearer guess-\(index)", .contentType: "application/json"]
                )
                #expect(response.status == .unauthorized)
            }
            let blocked = try await client.execute(uri: "/admin/events", method: .get, headers: [.authorization: "Bearer guess-x"])
            #expect(blocked.status == .tooManyRequests)
            #expect(try await client.admin(.get, "/admin/events").status == .ok)
        }
    }

    @Test func aTrustedProxyNamesTheClientInXForwardedFor() async throws {
        let folder = try TemporaryFolder()
        try await withAuthInlet(folder: folder, configure: { $0.trustedProxies = [IPNetwork("127.0.0.0/8")!] }) {
            (client: any TestClientProtocol) async throws -> Void in
            func guess(from address: String) async throws -> HTTPResponse.Status {
                try await client.execute(
                    uri: "/internal/auth/sync-user", method: .post,
                    headers: [.authorization: "Bearer guess", .contentType: "application/json", .xForwardedFor: "203.0.113.9, \(address)"],
                    body: ByteBuffer(string: "{}")
                ).status
            }
            for _ in 0..<20 { #expect(try await guess(from: "198.51.100.1") == .unauthorized) }
            #expect(try await guess(from: "198.51.100.1") == .tooManyRequests)
            // Another client behind the same proxy is not held to the first one's failures.
            #expect(try await guess(from: "198.51.100.2") == .unauthorized)
        }
    }

    @Test func withoutTrustedProxiesXForwardedForIsIgnored() async throws {
        let folder = try TemporaryFolder()
        try await withAuthInlet(folder: folder) { client in
            for index in 0..<20 {
                let response = try await client.execute(
                    uri: "/internal/auth/sync-user", method: .post,
                    headers: [.authorization: "Bearer guess", .contentType: "application/json", .xForwardedFor: "198.51.100.\(index)"],
                    body: ByteBuffer(string: "{}")
                )
                #expect(response.status == .unauthorized)
            }
            #expect(try await client.syncUser("{}", token: "guess").status == .tooManyRequests)
        }
    }

    @Test func successfulInternalCallsAreNeverBlocked() async throws {
        let folder = try TemporaryFolder()
        try await withAuthInlet(folder: folder) { client in
            for index in 0..<30 {
                let response = try await client.syncUser(#"{"auth0Id":"auth0|ok-\#(index)"}"#)
                #expect(response.status == .ok)
            }
        }
    }
}

/// The per-client counters, directly.
@Suite struct ClientRateLimiterTests {
    @Test func ipv6ClientsAreKeyedByTheirSlash64() {
        let clients = ClientAddressResolver(trustedProxies: [])
        #expect(clients.key(peer: "2001:db8:1:2::1", forwardedFor: []) == clients.key(peer: "2001:db8:1:2:ffff::9", forwardedFor: []))
        #expect(clients.key(peer: "2001:db8:1:2::1", forwardedFor: []) != clients.key(peer: "2001:db8:1:3::1", forwardedFor: []))
        #expect(clients.key(peer: "::ffff:192.0.2.1", forwardedFor: []) == "192.0.2.1")
        #expect(clients.key(peer: "192.0.2.1", forwardedFor: ["198.51.100.7"]) == "192.0.2.1")
    }

    @Test func theClientIsTheRightMostUntrustedForwardedAddress() throws {
        let clients = ClientAddressResolver(trustedProxies: try IPNetwork.list("10.0.0.0/8, 2001:db8::/32", setting: "test"))
        #expect(clients.key(peer: "10.0.0.2", forwardedFor: ["198.51.100.66, 198.51.100.7, 10.1.1.1"]) == "198.51.100.7")
        #expect(clients.key(peer: "10.0.0.2", forwardedFor: ["198.51.100.66", "198.51.100.7"]) == "198.51.100.7")
        #expect(clients.key(peer: "10.0.0.2", forwardedFor: ["2001:db9::5"]) == "2001:db9:0:0::/64")
        #expect(clients.key(peer: "10.0.0.2", forwardedFor: []) == "10.0.0.2")
        // An untrusted peer's header is ignored.
        #expect(clients.key(peer: "192.0.2.1", forwardedFor: ["198.51.100.7"]) == "192.0.2.1")
        #expect(throws: ConfigurationError.self) { try IPNetwork.list("10.0.0.0/33", setting: "INLET_TRUSTED_PROXIES") }
        #expect(throws: ConfigurationError.self) { try IPNetwork.list("proxy.internal", setting: "INLET_TRUSTED_PROXIES") }
    }

    @Test func memoryStaysBoundedUnderManyDistinctClients() {
        let clock = TestClock(seconds: RouteTenant.now)
        let limiter = ClientRateLimiter(limit: 10, capacity: 1_000, clock: clock.clock)
        for index in 0..<50_000 {
            _ = limiter.allow("10.\(index >> 16 & 255).\(index >> 8 & 255).\(index & 255)")
            if index % 1_000 == 0 { clock.advance(seconds: 0.001) }
        }
        #expect(limiter.trackedClients <= 1_000)
        // The newest clients are the ones remembered.
        for _ in 0..<9 { #expect(limiter.allow("10.0.195.79") == nil) }
        #expect(limiter.allow("10.0.195.79") != nil)
    }

    @Test func windowsExpireAndFreeTheirEntries() {
        let clock = TestClock(seconds: RouteTenant.now)
        let limiter = ClientRateLimiter(limit: 2, clock: clock.clock)
        #expect(limiter.allow("a") == nil)
        #expect(limiter.allow("a") == nil)
        #expect(limiter.allow("a") == 60)
        for index in 0..<100 { _ = limiter.allow("b\(index)") }
        #expect(limiter.trackedClients == 101)
        clock.advance(seconds: 59.5)
        #expect(limiter.allow("a") == 1)
        clock.advance(seconds: 0.5)
        #expect(limiter.allow("a") == nil)
        #expect(limiter.trackedClients == 1)
    }

    @Test func failureGuardCountsOnlyFailures() {
        let clock = TestClock(seconds: RouteTenant.now)
        let guardian = ClientRateLimiter(limit: 3, clock: clock.clock)
        #expect(guardian.blocked("x") == nil)
        guardian.recordFailure("x")
        guardian.recordFailure("x")
        #expect(guardian.blocked("x") == nil)
        guardian.recordFailure("x")
        #expect(guardian.blocked("x") == 60)
        #expect(guardian.blocked("y") == nil)
        clock.advance(seconds: 60)
        #expect(guardian.blocked("x") == nil)
    }
}

/// The settings of /auth/*, read from the environment and the config file.
@Suite struct AuthConfigurationTests {
    @Test func readsTheAccessTokenSettings() throws {
        let configuration = try Configuration.load(environment: [
            "AUTH0_DOMAIN": "tenant.eu.auth0.com", "AUTH0_API_IDENTIFIER": "https://api.inlet.example",
            "AUTH0_JWKS_URL": "http://127.0.0.1:8443/.well-known/jwks.json", "INLET_AUTH_RATE_LIMIT": "0",
            "INLET_JWT_LEEWAY": "2.5", "INLET_CA_BUNDLE": "/etc/inlet/ca.pem",
        ])
        #expect(configuration.accessTokens.domain == "tenant.eu.auth0.com")
        #expect(configuration.accessTokens.apiIdentifier == "https://api.inlet.example")
        #expect(configuration.accessTokens.jwksURL == "http://127.0.0.1:8443/.well-known/jwks.json")
        #expect(configuration.authRateLimit == 0)
        #expect(configuration.accessTokens.leeway == 2.5)
        #expect(configuration.caBundlePath == "/etc/inlet/ca.pem")
        let defaults = try Configuration.load(environment: [:])
        #expect(defaults.authRateLimit == 10)
        #expect(defaults.accessTokens.leeway == 5)
        #expect(defaults.accessTokens.jwksURL == nil)
        #expect(AccessTokenSettings.settings.settings.contains { $0.variable == "AUTH0_API_IDENTIFIER" })
        #expect(Configuration.settings.settings.contains { $0.variable == "INLET_AUTH_RATE_LIMIT" })
    }

    @Test func refusesBadValues() throws {
        let bad: [[String: String]] = [
            ["AUTH0_JWKS_URL": "http://tenant.eu.auth0.com/.well-known/jwks.json"],
            ["AUTH0_JWKS_URL": "ftp://127.0.0.1/jwks.json"],
            ["AUTH0_JWKS_URL": "http://127.0.0.1.evil.example/jwks.json"],
            ["INLET_AUTH_RATE_LIMIT": "-1"],
            ["INLET_AUTH_RATE_LIMIT": "lots"],
            ["INLET_JWT_LEEWAY": "forever"],
        ]
        for environment in bad {
            #expect(throws: ConfigurationError.self, "\(environment)") { try Configuration.load(environment: environment) }
        }
        _ = try Configuration.load(environment: ["AUTH0_JWKS_URL": "http://localhost:9000/jwks.json"])
        _ = try Configuration.load(environment: ["AUTH0_JWKS_URL": "http://[::1]:9000/jwks.json"])
    }

    @Test func rateLimitMayComeFromTheConfigFile() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/inlet.json"
        try Data(#"{"auth_rate_limit": 25}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(try Configuration.load(environment: [:], configFile: path).authRateLimit == 25)
        #expect(try Configuration.load(environment: ["INLET_AUTH_RATE_LIMIT": "3"], configFile: path).authRateLimit == 3)
    }
}
