
import Auth0Management
import InletHTTPClient
import Foundation
import InletCore
import InletTestSupport
import Logging
import Testing

@Suite(.timeLimit(.minutes(1)))
struct ManagementClientTests {
    static let createBody: JSONValue = [
        "connection": "Username-Password-Authentication", "email": "Ada@Example.com", "password": "pw-Aa1!-long-enough",
        "user_metadata": ["employee_id": "E1"],
    ]

    @Test func manyConcurrentCallsShareOneTokenFetch() async throws {
        try await withTenant { tenant, http in
            tenant.configure { $0.tokenDelayMilliseconds = 150 }
            let client = try makeClient(tenant, http: http)
            let id = tenant.addUser(email: "one@example.com")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<25 {
                    group.addTask { _ = try await client.user(id: id) }
                }
                try await group.waitForAll()
            }
            #expect(tenant.tokenRequests.count == 1)
            #expect(tenant.apiRequests.count == 25)
            let tokens = Set(tenant.apiRequests.compactMap { $0.header("authorization") })
            #expect(tokens.count == 1)
            // The grant: client credentials with the audience of the Management API.
            let grant = try #require(tenant.tokenRequests.first?.json)
            #expect(grant["grant_type"] == "client_credentials")
            #expect(grant["client_id"] == .string(FakeTenant.clientID))
            #expect(grant["audience"] == .string(tenant.audience))
        }
    }

    @Test func theTokenIsRefreshedBeforeExpiryByTheBuffer() async throws {
        try await withTenant { tenant, http in
            tenant.configure { $0.expiresIn = 3600 }
            let clock = TestClock(startingAt: WallClock.system.now())
            let client = try makeClient(tenant, http: http, clock: clock.clock, refreshBuffer: 300)
            let id = tenant.addUser(email: "one@example.com")
            _ = try await client.user(id: id)
            clock.advance(seconds: 3299)
            _ = try await client.user(id: id)
            #expect(tenant.tokenRequests.count == 1)
            clock.advance(seconds: 2)  // 3301 s: inside the 300 s buffer
            _ = try await client.user(id: id)
            #expect(tenant.tokenRequests.count == 2)
            let used = tenant.apiRequests.compactMap { $0.header("authorization") }
            #expect(used[0] == used[1] && used[1] != used[2])
        }
    }

    @Test func a401InvalidatesTheTokenAndIsRetriedOnce() async throws {
        try await withTenant { tenant, http in
            let client = try makeClient(tenant, http: http)
            let id = tenant.addUser(email: "one@example.com")
            _ = try await client.user(id: id)
            tenant.expireTokens()
            let user = try await client.user(id: id)
            #expect(user?.userID == id)
            #expect(tenant.tokenRequests.count == 2)
            #expect(tenant.apiRequests.map(\.status) == [200, 401, 200])
        }
    }

    @Test func aPersistent401FailsAfterOneRefresh() async throws {
        try await withTenant { tenant, http in
            let client = try makeClient(tenant, http: http)
            tenant.configure { $0.scripted = [.status(401), .status(401), .status(401)] }
            // Scripted faults come after authentication; a 401 there is "token refused".
            let error = await expectManagementError { _ = try await client.users(email: "x@example.com") }
            #expect(error?.statusCode == 401)
            #expect(tenant.tokenRequests.count == 2)
            #expect(tenant.apiRequests.count == 2)
        }
    }

    @Test func tokenEndpointErrorsCarryAuth0sErrorAndNeverTheSecret() async throws {
        try await withTenant { tenant, http in
            let logs = LogCapture()
            let client = try makeClient(tenant, http: http, secret: "wrong-secret-value-123", logger: logs.logger)
            let error = await expectManagementError { _ = try await client.user(id: "auth0|1") }
            #expect(error?.isTokenError == true)
            #expect(error?.statusCode == 401)
            #expect(error?.error == "access_denied")
            #expect(error?.message == "Unauthorized")
            #expect(error?.isTransient == false)
            let text = "\(String(describing: error)) \(logs.all.joined(separator: "\n"))"
            #expect(!text.contains("wrong-secret-value-123"))
            #expect(tenant.apiRequests.isEmpty)
        }
    }

    @Test func anAccessTokenThatCannotTravelInAHeaderIsRefused() async throws {
        // HTTPFields would send the CR LF as spaces; the token manager refuses the token instead.
        let answer: JSONValue = ["access_token": "fake-token\r\nX-Injected: 1", "expires_in": 86_400, "token_type": "Bearer"]
        let body = answer.serialized()
        try await withLoopback(script: { _ in .respond(status: 200, headers: [("content-type", "application/json")], body: body) }) { server, http in
            let tokens = TokenManager(
                tokenURL: server.url("/oauth/token"), clientID: FakeTenant.clientID, clientSecret: Secret(FakeTenant.clientSecret),
                audience: "https://tenant.example/api/v2/", http: http
            )
            let error = await expectManagementError { _ = try await tokens.token() }
            #expect(error?.operation == "POST /oauth/token")
            #expect(error?.isTokenError == false)
            #expect(server.requests.map(\.uri) == ["/oauth/token"])
        }
    }

    @Test func a429WaitsForRetryAfter() async throws {
        try await withTenant { tenant, http in
            let sleeper = SleepRecorder()
            let client = try makeClient(tenant, http: http, sleeper: sleeper)
            tenant.configure { $0.scripted = [.status(429, retryAfter: 4)] }
            let users = try await client.users(email: "none@example.com")
            #expect(users.isEmpty)
            #expect(sleeper.waits == [4])
            #expect(tenant.apiRequests.map(\.status) == [429, 200])
        }
    }

    @Test func a429WithoutRetryAfterWaitsUntilTheResetPlusJitterClamped() async throws {
        try await withTenant { tenant, http in
            let sleeper = SleepRecorder()
            let client = try makeClient(tenant, http: http, sleeper: sleeper)
            tenant.configure { $0.scripted = [.status(429, resetIn: 6), .status(429, resetIn: 60), .status(429, resetIn: 0)] }
            _ = try await client.users(email: "none@example.com")
            let waits = sleeper.waits
            #expect(waits.count == 3)
            // The reset is whole seconds of the wall clock, read by the client a moment later
            // (longer while the rest of the suite loads the machine): allow two seconds of it.
            #expect(waits[0] >= 3 && waits[0] <= 6 * 1.25 + 1, "\(waits)")
            #expect(waits[1] == 10)
            #expect(waits[2] >= 1 && waits[2] <= 1.5)
        }
    }

    @Test func burstsOf5xxBackOffExponentiallyThenSucceed() async throws {
        try await withTenant { tenant, http in
            let sleeper = SleepRecorder()
            let client = try makeClient(tenant, http: http, sleeper: sleeper)
            tenant.configure { $0.scripted = [.status(503), .status(500), .status(503)] }
            _ = try await client.users(email: "none@example.com")
            #expect(tenant.apiRequests.map(\.status) == [503, 500, 503, 200])
            let waits = sleeper.waits
            #expect(waits.count == 3)
            // Between half and all of 0.01 × 2^n.
            for (index, wait) in waits.enumerated() {
                let ceiling = 0.01 * Double(1 << index)
                #expect(wait >= ceiling / 2 && wait <= ceiling, "\(waits)")
            }
        }
    }

    @Test func retriesStopAtMaxRetriesAndKeepAuth0sErrorFields() async throws {
        try await withTenant { tenant, http in
            let client = try makeClient(tenant, http: http, retries: 3)
            tenant.configure { $0.scripted = Array(repeating: .status(500), count: 6) }
            let error = await expectManagementError { _ = try await client.users(email: "none@example.com") }
            #expect(tenant.apiRequests.count == 4)
            #expect(error?.statusCode == 500)
            #expect(error?.error == "Internal Server Error")
            #expect(error?.message == "Something went wrong")
            #expect(error?.isTransient == true)
        }
    }

    @Test func aHangingResponseTimesOutAndIsRetried() async throws {
        try await withTenant { tenant, http in
            // Long enough that the answered retry never times out on a loaded machine too.
            let client = try makeClient(tenant, http: http, timeout: 2)
            tenant.configure { $0.scripted = [.hang] }
            let users = try await client.users(email: "none@example.com")
            #expect(users.isEmpty)
            #expect(tenant.apiRequests.count == 2)
        }
    }

    @Test func usersByEmailIsLowerCasedAndIDsArePercentEncoded() async throws {
        try await withTenant { tenant, http in
            let client = try makeClient(tenant, http: http)
            let id = tenant.addUser(email: "mixed.case@example.com")
            let found = try await client.users(email: "Mixed.Case@Example.COM")
            #expect(found.map(\.userID) == [id])
            #expect(tenant.requests("GET", "/api/v2/users-by-email").first?.query == "email=mixed.case%40example.com")
            _ = try await client.user(id: id)
            #expect(tenant.requests("GET", "/api/v2/users/").first?.path == "/api/v2/users/auth0%7C" + id.dropFirst(6))
            #expect(try await client.user(id: "auth0|missing") == nil)
        }
    }

    @Test func createConflictPatchRolesAndTicketFollowTheWireShapes() async throws {
        try await withTenant { tenant, http in
            let client = try makeClient(tenant, http: http)
            let user = try await client.createUser(Self.createBody)
            #expect(user.userID.hasPrefix("auth0|"))
            #expect(user.email == "ada@example.com")
            let conflict = await expectManagementError { _ = try await client.createUser(Self.createBody) }
            #expect(conflict?.isConflict == true)
            #expect(conflict?.errorCode == "auth0_idp_error")
            #expect(conflict?.error == "Conflict")

            let patched = try await client.patchUser(id: user.userID, ["user_metadata": ["department": "QA"]])
            #expect(patched.userMetadata?["employee_id"] == "E1")
            #expect(patched.userMetadata?["department"] == "QA")
            let refused = await expectManagementError { _ = try await client.patchUser(id: user.userID, ["app_metadata": [:]]) }
            #expect(refused != nil)
            #expect(tenant.requests("PATCH", "/api/v2/users/").count == 1)

            // Exact name match, cached: one roles request for two look-ups.
            let roleID = try #require(try await client.roleID(named: "production_associate"))
            #expect(roleID == tenant.roleID("production_associate"))
            #expect(try await client.roleID(named: "production_associate") == roleID)
            #expect(tenant.requests("GET", "/api/v2/roles").count == 1)
            #expect(try await client.roleID(named: "production") == nil)

            try await client.assignRoles(userID: user.userID, roleIDs: [roleID])
            #expect(tenant.users.first?.roles == [roleID])
            #expect(tenant.requests("POST", "/api/v2/users/").last?.json == ["roles": [.string(roleID)]])
            let missing = await expectManagementError { try await client.assignRoles(userID: user.userID, roleIDs: ["rol_missing"]) }
            #expect(missing?.statusCode == 404)
            #expect(missing?.errorCode == nil)
            #expect(missing?.message == "The role does not exist.")

            let ticket = try await client.passwordChangeTicket(userID: user.userID)
            #expect(ticket.contains("ticket="))
        }
    }

    @Test func everyCallIsLoggedWithItsTemplateAndNeverTheToken() async throws {
        try await withTenant { tenant, http in
            let logs = LogCapture()
            let client = try makeClient(tenant, http: http, logger: logs.logger)
            let id = tenant.addUser(email: "one@example.com")
            _ = try await client.user(id: id)
            let lines = logs.all.filter { $0.contains("auth0 call") }
            #expect(lines.count == 2)
            #expect(lines.contains { $0.contains("/api/v2/users/{id}") && $0.contains("GET") && $0.contains("200") && $0.contains("duration_ms") })
            let token = try #require(tenant.apiRequests.first?.header("authorization")?.dropFirst(7))
            #expect(!logs.all.joined().contains(String(token)))
            #expect(!logs.all.joined().contains(FakeTenant.clientSecret))
        }
    }

    @Test func productionSettingsUseHTTPSAndTheDefaultAudience() throws {
        #expect(throws: HandlerUnavailable.self) { try ManagementSettings(environment: [:]) }
        let settings = try ManagementSettings(environment: [
            "AUTH0_DOMAIN": "tenant.example.com:8443", "AUTH0_CLIENT_ID": "id", "AUTH0_CLIENT_SECRET": "s3cr3t",
        ])
        #expect(settings.audience == "https://tenant.example.com:8443/api/v2/")
        let client = ManagementClient(settings: settings, http: OutboundClient())
        #expect(client.baseURL == "https://tenant.example.com:8443")
        #expect(throws: ManagementError.self) { try ManagementSettings(domain: "http://evil/", clientID: "a", clientSecret: Secret("b")) }
    }
}
