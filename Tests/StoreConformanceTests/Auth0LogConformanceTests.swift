import InletCore
import InletTestSupport
import Testing

/// The log stream's events and the user changes they carry, and the reconciler's
/// snapshots, against both backends: one transaction per batch, redeliveries change
/// nothing, out-of-order entries never overwrite newer values, a login reported by the
/// Action and the stream is counted once, `sv` verifies, `du` flags.
@Suite(.timeLimit(.minutes(2))) struct Auth0LogConformanceTests {
    static func logEvent(_ id: String, _ type: String) -> NewEvent {
        NewEvent(source: .auth0Logs, id: id, type: EventType("auth0.log.\(type)"), payload: #"{"log_id":"\#(id)"}"#, handlers: ["audit"])
    }

    static func change(_ kind: Auth0UserChange.Kind, _ seconds: Double, id: String = "auth0|1", email: String? = nil, count: Int? = nil) -> Auth0UserChange {
        Auth0UserChange(auth0ID: id, kind: kind, at: Moment.after(seconds), email: email, loginsCount: count, ip: "192.0.2.\(Int(seconds) % 250)")
    }

    @Test(arguments: Backend.all) func aBatchStoresItsEventsAndUsersAndARedeliveryChangesNothing(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested async throws in
            let store = tested.store
            let events = [Self.logEvent("900-1", "s"), Self.logEvent("900-2", "f"), Self.logEvent("900-3", "s")]
            let changes: [Auth0UserChange?] = [
                Self.change(.login, 10, email: "ada@example.com"), nil, Self.change(.login, 200, id: "auth0|2", email: "bob@example.com", count: 9),
            ]
            let first = try await store.appendAuth0Logs(events, changes: changes)
            #expect(first.map(\.duplicate) == [false, false, false])
            #expect(try await tested.count("events") == 3)
            var ada = try #require(try await store.user(auth0ID: "auth0|1"))
            #expect(ada.email == "ada@example.com" && ada.loginsTotal == 1 && ada.lastLoginAt == Moment.text(after: 10) && ada.isActive)
            let bob = try #require(try await store.user(auth0ID: "auth0|2"))
            #expect(bob.loginsTotal == 9 && bob.auth0LoginsCount == 9)

            // Auth0 delivers the same batch again: duplicates, and no second login counted.
            let again = try await store.appendAuth0Logs(events, changes: changes)
            #expect(again.map(\.duplicate) == [true, true, true])
            #expect(again.map(\.seq) == first.map(\.seq))
            #expect(try await tested.count("events") == 3)
            #expect(try await tested.count("users") == 2)
            ada = try #require(try await store.user(auth0ID: "auth0|1"))
            #expect(ada.loginsCount == 1)
            #expect(try await store.queueStatus().depth == 3)
        }
    }

    @Test(arguments: Backend.all) func anEntryRepeatedWithinOneBatchIsStoredAndCountedOnce(_ backend: Backend) async throws {
        try await backend.withStore(clock: Moment.clock().clock) { tested async throws in
            let store = tested.store
            let login = Self.change(.login, 10, email: "ada@example.com")
            let results = try await store.appendAuth0Logs(
                [Self.logEvent("900-1", "s"), Self.logEvent("900-2", "f"), Self.logEvent("900-1", "s")], changes: [login, nil, login]
            )
            #expect(results.map(\.duplicate) == [false, false, true])
            #expect(results[2].seq == results[0].seq && results[1].seq != results[0].seq)
            #expect(results[0].handlers == ["audit"] && results[2].handlers.isEmpty)
            #expect(try await tested.count("events") == 2)
            #expect(try await tested.count("deliveries") == 2)
            #expect(try await store.user(auth0ID: "auth0|1")?.loginsCount == 1)
        }
    }

    @Test(arguments: Backend.all) func anOlderEntryNeverOverwritesNewerValues(_ backend: Backend) async throws {
        try await backend.withStore(clock: Moment.clock().clock) { tested async throws in
            let store = tested.store
            // The newer login arrives first (another batch), the older one after it.
            _ = try await store.appendAuth0Logs([Self.logEvent("900-new", "s")], changes: [Self.change(.login, 300, email: "new@example.com", count: 5)])
            _ = try await store.appendAuth0Logs([Self.logEvent("900-old", "s")], changes: [Self.change(.login, 100, email: "old@example.com", count: 4)])
            var user = try #require(try await store.user(auth0ID: "auth0|1"))
            #expect(user.email == "new@example.com")
            #expect(user.loginsTotal == 5)
            #expect(user.lastLoginAt == Moment.text(after: 300))

            // Within one batch too: applied in date order per user, whatever the batch's order.
            _ = try await store.appendAuth0Logs(
                [Self.logEvent("900-b", "s"), Self.logEvent("900-a", "s")],
                changes: [Self.change(.login, 900, id: "auth0|2", email: "b@example.com"), Self.change(.login, 500, id: "auth0|2", email: "a@example.com")]
            )
            user = try #require(try await store.user(auth0ID: "auth0|2"))
            #expect(user.email == "b@example.com" && user.loginsCount == 2 && user.lastLoginAt == Moment.text(after: 900))
        }
    }

    @Test(arguments: Backend.all) func aLoginReportedByTheActionAndTheStreamIsCountedOnce(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested async throws in
            let store = tested.store
            // With Auth0's count: the Action's post, then the stream's entry for the same login.
            _ = try await store.recordLogin(
                UserLogin(auth0ID: "auth0|1", email: "ada@example.com", loginsCount: 3),
                event: NewEvent(source: .auth0, id: "evt-action-1", type: .userLogin, payload: "{}")
            )
            _ = try await store.appendAuth0Logs([Self.logEvent("900-s1", "s")], changes: [Self.change(.login, 1, email: "ada@example.com", count: 3)])
            var user = try #require(try await store.user(auth0ID: "auth0|1"))
            #expect(user.loginsTotal == 3)

            // Without it: the stream's entry a second after the Action's post is the same login.
            _ = try await store.recordLogin(
                UserLogin(auth0ID: "auth0|2"), event: NewEvent(source: .auth0, id: "evt-action-2", type: .userLogin, payload: "{}")
            )
            _ = try await store.appendAuth0Logs([Self.logEvent("900-s2", "s")], changes: [Self.change(.login, 1, id: "auth0|2")])
            user = try #require(try await store.user(auth0ID: "auth0|2"))
            #expect(user.loginsTotal == 1)
            // A login the Action missed (an hour later, only on the stream) is counted.
            _ = try await store.appendAuth0Logs([Self.logEvent("900-s3", "s")], changes: [Self.change(.login, 3600, id: "auth0|2")])
            user = try #require(try await store.user(auth0ID: "auth0|2"))
            #expect(user.loginsTotal == 2)
        }
    }

    @Test(arguments: Backend.all) func svVerifiesTheAddressItNamesAndDuFlagsTheUser(_ backend: Backend) async throws {
        try await backend.withStore(clock: Moment.clock().clock) { tested async throws in
            let store = tested.store
            _ = try await store.appendAuth0Logs(
                [Self.logEvent("900-ss", "ss"), Self.logEvent("900-sv", "sv")],
                changes: [Self.change(.signup, 10, email: "ada@example.com"), Self.change(.emailVerified, 20, email: "ada@example.com")]
            )
            var user = try #require(try await store.user(auth0ID: "auth0|1"))
            #expect(user.emailVerified && user.email == "ada@example.com" && user.loginsTotal == 0)
            // A verification of another address leaves this one's state alone.
            _ = try await store.appendAuth0Logs([Self.logEvent("900-sv2", "sv")], changes: [Self.change(.emailVerified, 30, email: "other@example.com")])
            #expect(try await store.user(auth0ID: "auth0|1")?.email == "ada@example.com")

            _ = try await store.appendAuth0Logs([Self.logEvent("900-du", "du")], changes: [Self.change(.deleted, 40)])
            user = try #require(try await store.user(auth0ID: "auth0|1"))
            #expect(!user.isActive && user.deletedAt == Moment.text(after: 40))
            // A login older than the deletion, delivered late, does not bring the user back.
            _ = try await store.appendAuth0Logs([Self.logEvent("900-late", "s")], changes: [Self.change(.login, 35)])
            #expect(try await store.user(auth0ID: "auth0|1")?.isActive == false)
            #expect(try await tested.count("users") == 1)
            // A deletion of a user Inlet never saw keeps a flagged row.
            _ = try await store.appendAuth0Logs([Self.logEvent("900-du2", "du")], changes: [Self.change(.deleted, 50, id: "auth0|9")])
            #expect(try await store.user(auth0ID: "auth0|9")?.isActive == false)
        }
    }

    @Test(arguments: Backend.all) func anActionLoginAfterADeletionRestoresTheUserAndNeverLowersAuth0sCount(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested async throws in
            let store = tested.store
            _ = try await store.appendAuth0Logs(
                [Self.logEvent("900-s", "s"), Self.logEvent("900-du", "du")],
                changes: [Self.change(.login, 10, count: 9), Self.change(.deleted, 20)]
            )
            #expect(try await store.user(auth0ID: "auth0|1")?.isActive == false)
            // Signed up again under the same id (a social connection): the Action's login
            // after the deletion brings the user back, even with no log stream to say so.
            time.advance(seconds: 30)
            _ = try await store.recordLogin(
                UserLogin(auth0ID: "auth0|1", loginsCount: 1), event: NewEvent(source: .auth0, id: "evt-again", type: .userLogin, payload: "{}")
            )
            let user = try #require(try await store.user(auth0ID: "auth0|1"))
            #expect(user.isActive && user.deletedAt == nil)
            // Auth0's own count is the largest one seen: a smaller one does not lower it.
            #expect(user.auth0LoginsCount == 9)
        }
    }

    @Test(arguments: Backend.all) func reconcileCreatesUpdatesAndLeavesAloneAndKeepsItsCursor(_ backend: Backend) async throws {
        try await backend.withStore(clock: Moment.clock().clock) { tested async throws in
            let store = tested.store
            #expect(try await store.reconcileCursor() == nil)
            _ = try await store.recordLogin(
                UserLogin(auth0ID: "auth0|known", email: "k@example.com", name: "K"),
                event: NewEvent(source: .auth0, id: "evt-k", type: .userLogin, payload: "{}")
            )
            let snapshots = [
                Auth0UserSnapshot(auth0ID: "auth0|new", updatedAt: Moment.after(10), email: "n@example.com", emailVerified: true, name: "N", loginsCount: 4),
                Auth0UserSnapshot(auth0ID: "auth0|known", updatedAt: Moment.after(20), email: "k@example.com", emailVerified: true, name: "K. Known"),
            ]
            let counts = try await store.reconcileUsers(snapshots, cursor: "c1")
            #expect(counts == ReconcileCounts(created: 1, updated: 1, unchanged: 0))
            #expect(try await store.reconcileCursor() == "c1")
            let known = try #require(try await store.user(auth0ID: "auth0|known"))
            #expect(known.name == "K. Known" && known.emailVerified)
            let new = try #require(try await store.user(auth0ID: "auth0|new"))
            #expect(new.loginsTotal == 4 && new.email == "n@example.com")

            // The same snapshots again: nothing stale.
            #expect(try await store.reconcileUsers(snapshots, cursor: "c2") == ReconcileCounts(created: 0, updated: 0, unchanged: 2))
            #expect(try await store.reconcileCursor() == "c2")
            // An older snapshot does not overwrite newer values.
            let stale = Auth0UserSnapshot(auth0ID: "auth0|known", updatedAt: Moment.after(5), email: "k@example.com", name: "Old Name")
            _ = try await store.reconcileUsers([stale], cursor: "c3")
            #expect(try await store.user(auth0ID: "auth0|known")?.name == "K. Known")
            #expect(try await tested.count("users") == 2)
        }
    }
}
