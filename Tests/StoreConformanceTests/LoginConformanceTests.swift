import InletCore
import InletTestSupport
import Testing

/// Logins: the user row upserted on the Auth0 id, its login event appended in the same
/// transaction; reading users back.
@Suite(.timeLimit(.minutes(2))) struct LoginConformanceTests {
    static func loginEvent(_ id: String, handlers: [String] = ["audit"]) -> NewEvent {
        NewEvent(source: .auth0, id: id, type: .userLogin, payload: #"{"auth0Id":"auth0|1"}"#, handlers: handlers)
    }

    @Test(arguments: Backend.all) func aFirstLoginCreatesTheUserAndItsEvent(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            #expect(try await store.user(auth0ID: "auth0|1") == nil)
            let login = UserLogin(
                auth0ID: "auth0|1", email: "ada@example.com", name: "Ada", picture: "https://example.com/ada.png",
                loginsCount: 7, ip: "192.0.2.1", userAgent: "test", transactionProtocol: "oidc-basic-profile"
            )
            let result = try await store.recordLogin(login, event: Self.loginEvent("evt-login-1", handlers: ["audit", "metadata-sync"]))
            #expect(result.created && result.eventID == "evt-login-1")
            let user = try #require(try await store.user(auth0ID: "auth0|1"))
            #expect(user == UserRecord(
                id: result.userID, auth0ID: "auth0|1", email: "ada@example.com", name: "Ada", picture: "https://example.com/ada.png",
                emailVerified: false, loginsCount: 1, lastLoginAt: Moment.startText, createdAt: Moment.startText, updatedAt: Moment.startText,
                auth0LoginsCount: 7
            ))
            let record = try #require(try await store.eventRecord(id: "evt-login-1"))
            #expect(record.event.type == "auth0.user.login" && record.event.source == "auth0")
            #expect(record.deliveries.map(\.handler) == ["audit", "metadata-sync"])
            #expect(try await store.queueStatus().depth == 2)
            #expect(try await store.user(auth0ID: "auth0|2") == nil)
        }
    }

    @Test(arguments: Backend.all) func aLaterLoginUpdatesOnlyTheFieldsItCarries(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = tested.store
            let first = try await store.recordLogin(
                UserLogin(auth0ID: "auth0|1", email: "ada@example.com", name: "Ada", picture: "p1", emailVerified: true),
                event: Self.loginEvent("evt-1")
            )
            time.advance(seconds: 60)
            // Nothing but the id: every stored field stays.
            let second = try await store.recordLogin(UserLogin(auth0ID: "auth0|1"), event: Self.loginEvent("evt-2"))
            #expect(!second.created && second.userID == first.userID && second.eventID == "evt-2")
            var user = try #require(try await store.user(auth0ID: "auth0|1"))
            #expect(user.email == "ada@example.com" && user.name == "Ada" && user.picture == "p1" && user.emailVerified)
            #expect(user.loginsCount == 2)
            #expect(user.createdAt == Moment.startText)
            #expect(user.lastLoginAt == Moment.text(after: 60) && user.updatedAt == Moment.text(after: 60))

            // New values replace old ones; the same email keeps its verification.
            time.advance(seconds: 60)
            _ = try await store.recordLogin(UserLogin(auth0ID: "auth0|1", email: "ada@example.com", name: "Ada L."), event: Self.loginEvent("evt-3"))
            user = try #require(try await store.user(auth0ID: "auth0|1"))
            #expect(user.name == "Ada L." && user.picture == "p1" && user.emailVerified && user.loginsCount == 3)
            #expect(user.lastLoginAt == Moment.text(after: 120))
            #expect(try await tested.count("users") == 1)
            #expect(try await tested.count("events") == 3)
        }
    }

    @Test(arguments: Backend.all) func aNewEmailIsUnverifiedUnlessTheLoginSaysOtherwise(_ backend: Backend) async throws {
        try await backend.withStore { tested in
            let store = tested.store
            _ = try await store.recordLogin(UserLogin(auth0ID: "auth0|1", email: "a@example.com", emailVerified: true), event: Self.loginEvent("evt-1"))
            _ = try await store.recordLogin(UserLogin(auth0ID: "auth0|1", email: "b@example.com"), event: Self.loginEvent("evt-2"))
            var user = try #require(try await store.user(auth0ID: "auth0|1"))
            #expect(user.email == "b@example.com" && !user.emailVerified, "a changed address starts unverified")

            _ = try await store.recordLogin(UserLogin(auth0ID: "auth0|1", emailVerified: true), event: Self.loginEvent("evt-3"))
            #expect(try await store.user(auth0ID: "auth0|1")?.emailVerified == true)
            _ = try await store.recordLogin(UserLogin(auth0ID: "auth0|1", email: "c@example.com", emailVerified: true), event: Self.loginEvent("evt-4"))
            user = try #require(try await store.user(auth0ID: "auth0|1"))
            #expect(user.email == "c@example.com" && user.emailVerified, "the login said the new address is verified")
            _ = try await store.recordLogin(UserLogin(auth0ID: "auth0|1", emailVerified: false), event: Self.loginEvent("evt-5"))
            #expect(try await store.user(auth0ID: "auth0|1")?.emailVerified == false)
        }
    }

    @Test(arguments: Backend.all) func aLoginWhoseEventIsAlreadyStoredCountsOnceAsAnEvent(_ backend: Backend) async throws {
        try await backend.withStore { tested in
            let store = tested.store
            let first = try await store.recordLogin(UserLogin(auth0ID: "auth0|1", name: "A"), event: Self.loginEvent("evt-1"))
            // The Action retried with the same event id: the user row takes it, the event is not stored twice.
            let again = try await store.recordLogin(UserLogin(auth0ID: "auth0|1", name: "B"), event: Self.loginEvent("evt-1"))
            #expect(!again.created && again.userID == first.userID && again.eventID == "evt-1")
            #expect(try await store.user(auth0ID: "auth0|1")?.name == "B")
            #expect(try await tested.count("events") == 1)
            #expect(try await tested.count("deliveries") == 1)
            #expect(try await store.queueStatus().depth == 1)
        }
    }

    @Test(arguments: Backend.all) func aLoginWhoseEventFailsLeavesNoUser(_ backend: Backend) async throws {
        try await backend.withStore { tested in
            let store = tested.store
            // The event names a handler twice: its deliveries break the one-per-handler rule,
            // and the user row written before it in the transaction goes with it.
            await #expect(throws: (any Error).self) {
                _ = try await store.recordLogin(UserLogin(auth0ID: "auth0|1", name: "A"), event: Self.loginEvent("evt-1", handlers: ["audit", "audit"]))
            }
            #expect(try await store.user(auth0ID: "auth0|1") == nil)
            #expect(try await tested.count("users") == 0)
            #expect(try await tested.count("events") == 0)
            let result = try await store.recordLogin(UserLogin(auth0ID: "auth0|1", name: "A"), event: Self.loginEvent("evt-1"))
            #expect(result.created)
        }
    }

    @Test(arguments: Backend.all) func manyConcurrentFirstLoginsOfOneUserMakeOneRow(_ backend: Backend) async throws {
        try await backend.withStore { tested in
            let store = tested.store
            let results = try await withThrowingTaskGroup(of: UserLoginResult.self) { group in
                for index in 0..<64 {
                    group.addTask {
                        try await store.recordLogin(UserLogin(auth0ID: "auth0|race", email: "r@example.com"), event: Self.loginEvent("evt-\(index)"))
                    }
                }
                return try await group.reduce(into: [UserLoginResult]()) { $0.append($1) }
            }
            #expect(results.filter(\.created).count == 1, "exactly one login created the user")
            #expect(Set(results.map(\.userID)).count == 1)
            #expect(try await tested.count("users") == 1)
            #expect(try await store.user(auth0ID: "auth0|race")?.loginsCount == 64)
            #expect(try await tested.count("events") == 64)
            #expect(try await tested.count("deliveries") == 64)
        }
    }
}
