import Foundation
import Auth0Management
import InletCore
import InletHTTPClient
import InletSQLite
import Testing

/// `inlet auth0 reconcile` against the fake tenant's user listing: users Inlet never saw
/// are created, changed ones updated, a run that stops half-way is resumed without
/// duplicates, a 429 is waited out.
@Suite(.timeLimit(.minutes(2))) struct ReconcilerTests {
    static let start = Timestamp(millisecondsSinceEpoch: 1_800_000_000_000)

    static func reconciler(_ client: ManagementClient, _ store: SQLiteStore, perPage: Int = 2) -> UserReconciler {
        let registry = HandlerRegistry()
        let intake = EventIntake(store: store, registry: registry, dispatcher: Dispatcher(store: store, registry: registry, logger: quietLogger))
        return UserReconciler(client: client, store: store, intake: intake, perPage: perPage, logger: quietLogger)
    }

    static func addUsers(_ tenant: FakeTenant, _ count: Int) {
        for index in 1...count {
            tenant.putUser(
                id: "auth0|user\(index)", email: "user\(index)@example.com", name: "User \(index)",
                updatedAt: start.adding(seconds: Double(index)), loginsCount: index
            )
        }
    }

    static func completedEvents(_ path: String) throws -> [JSONValue] {
        try SQLiteConnection(path: path, readOnly: true)
            .query("SELECT payload FROM events WHERE source = 'inlet' AND type = 'inlet.reconcile.completed' ORDER BY seq")
            .map { try JSONDocument.parse(try $0.string("payload")).root.value }
    }

    @Test func usersInletNeverSawAreCreatedAndAChangedOneIsUpdated() async throws {
        try await withTenant { tenant, http in
            try await withStore { store, path in
                Self.addUsers(tenant, 5)
                // One user Inlet knows from a login, with the tenant's values already.
                _ = try await store.recordLogin(
                    UserLogin(auth0ID: "auth0|user1", email: "user1@example.com", name: "User 1", picture: "https://s.gravatar.com/avatar/0.png", emailVerified: true, loginsCount: 1),
                    event: NewEvent(source: .auth0, id: "evt-login-1", type: .userLogin, payload: "{}")
                )
                let client = try makeClient(tenant, http: http)
                let counts = try await Self.reconciler(client, store).run()
                #expect(counts.created == 4)
                #expect(counts.created + counts.updated + counts.unchanged == 5)
                #expect(try sqlCount(path, "SELECT count(*) AS count FROM users") == 5)
                let user5 = try #require(try await store.user(auth0ID: "auth0|user5"))
                #expect(user5.email == "user5@example.com" && user5.name == "User 5" && user5.emailVerified && user5.loginsTotal == 5)
                // Sorted by updated_at, paged, the cursor moving forward (never past page 0): the
                // range is inclusive, so each query starts at the last user taken in (skipped).
                let listings = tenant.requests("GET", "/api/v2/users")
                #expect(listings.count == 5)
                #expect(listings.allSatisfy { $0.query.contains("sort=updated_at%3A1") && $0.query.contains("per_page=2") && $0.query.contains("page=0") })
                #expect(!listings[0].query.contains("q="))
                #expect(listings[1].query.contains("q=updated_at%3A%5B" + Self.start.adding(seconds: 2).description.replacingOccurrences(of: ":", with: "%3A")))

                // The tenant changes one user; the next run updates just that one.
                tenant.putUser(id: "auth0|user3", email: "user3@example.com", name: "User Three", updatedAt: Self.start.adding(seconds: 60), loginsCount: 7)
                let next = try await Self.reconciler(client, store).run()
                #expect(next == ReconcileCounts(created: 0, updated: 1, unchanged: 0))
                let user3 = try #require(try await store.user(auth0ID: "auth0|user3"))
                #expect(user3.name == "User Three" && user3.loginsTotal == 7)

                // Each run is an event with its counts, for the audit handler.
                let events = try Self.completedEvents(path)
                #expect(events.count == 2)
                #expect(events[0]["created"]?.intValue == 4 && events[1]["updated"]?.intValue == 1)
            }
        }
    }

    @Test func usersSharingOneUpdatedAtArePagedThroughNotSkipped() async throws {
        try await withTenant { tenant, http in
            try await withStore { store, path in
                // Five users changed in the same millisecond (a bulk import), then one later.
                for index in 1...5 {
                    tenant.putUser(id: "auth0|same\(index)", email: "same\(index)@example.com", name: "Same \(index)", updatedAt: Self.start)
                }
                tenant.putUser(id: "auth0|later", email: "later@example.com", name: "Later", updatedAt: Self.start.adding(seconds: 1))
                let counts = try await Self.reconciler(try makeClient(tenant, http: http), store).run()
                #expect(counts == ReconcileCounts(created: 6, updated: 0, unchanged: 0))
                #expect(try sqlCount(path, "SELECT count(*) AS count FROM users") == 6)
                // The cursor could not move inside that millisecond, so the pages did.
                let pages = tenant.requests("GET", "/api/v2/users").map { $0.query.contains("page=0") ? 0 : $0.query.contains("page=1") ? 1 : $0.query.contains("page=2") ? 2 : -1 }
                #expect(pages.contains(1) && pages.contains(2) && !pages.contains(-1))
            }
        }
    }

    @Test func aRunStoppedHalfWayIsResumedWithoutDuplicates() async throws {
        try await withTenant { tenant, http in
            try await withStore { store, path in
                Self.addUsers(tenant, 5)
                // The second page fails (no retries left): the run stops after the first.
                tenant.configure { $0.scripted = [.pass, .status(503)] }
                let client = try makeClient(tenant, http: http, retries: 0)
                await #expect(throws: ManagementError.self) { try await Self.reconciler(client, store).run() }
                #expect(try sqlCount(path, "SELECT count(*) AS count FROM users") == 2)
                #expect(try Self.completedEvents(path).isEmpty)

                let resumed = try await Self.reconciler(client, store).run()
                #expect(resumed.created == 3)
                #expect(try sqlCount(path, "SELECT count(*) AS count FROM users") == 5)
                #expect(try sqlCount(path, "SELECT count(*) AS count FROM (SELECT auth0_id FROM users GROUP BY auth0_id HAVING count(*) > 1)") == 0)
                // It started from the stored cursor, not from the beginning.
                let listings = tenant.requests("GET", "/api/v2/users")
                #expect(listings[2].query.contains("q=updated_at"))
            }
        }
    }

    @Test func a429FromTheTenantIsWaitedOut() async throws {
        try await withTenant { tenant, http in
            try await withStore { store, path in
                Self.addUsers(tenant, 3)
                tenant.configure { $0.scripted = [.pass, .status(429, retryAfter: 2)] }
                let sleeper = SleepRecorder()
                let client = try makeClient(tenant, http: http, sleeper: sleeper)
                let counts = try await Self.reconciler(client, store).run()
                #expect(counts.created == 3)
                #expect(tenant.rateLimitedCount == 1)
                #expect(sleeper.waits.contains(2))
                #expect(try sqlCount(path, "SELECT count(*) AS count FROM users") == 3)
            }
        }
    }
}
