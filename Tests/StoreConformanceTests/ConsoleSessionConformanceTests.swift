import InletCore
import InletTestSupport
import Testing

/// The operator console's sessions (`ConsoleSessionStore`) on both backends: stored by the
/// hash of their id, deleted on sign-out, and swept when expired or opened with another
/// admin token; a second store on the same database sees them (several instances).
@Suite(.timeLimit(.minutes(2))) struct ConsoleSessionConformanceTests {
    static func sessions(_ tested: TestedStore) throws -> any ConsoleSessionStore {
        try #require(tested.store as? any ConsoleSessionStore)
    }

    @Test(arguments: Backend.all) func aSessionIsStoredReadAndDeleted(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = try Self.sessions(tested)
            let now = time.clock.now()
            let session = ConsoleSession(idHash: "a1", tokenFingerprint: "fp1", createdAt: now, expiresAt: now.adding(seconds: 43_200))
            #expect(try await store.consoleSession(idHash: "a1") == nil)
            try await store.createConsoleSession(session)
            #expect(try await store.consoleSession(idHash: "a1") == session)
            #expect(try await store.consoleSession(idHash: "a2") == nil)
            try await store.deleteConsoleSession(idHash: "a1")
            #expect(try await store.consoleSession(idHash: "a1") == nil)
            try await store.deleteConsoleSession(idHash: "a1")  // nothing left: no error
        }
    }

    @Test(arguments: Backend.shared) func anotherInstanceOnTheDatabaseSeesAndEndsTheSession(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = try Self.sessions(tested)
            let now = time.clock.now()
            let session = ConsoleSession(idHash: "b1", tokenFingerprint: "fp1", createdAt: now, expiresAt: now.adding(seconds: 43_200))
            try await store.createConsoleSession(session)
            let other = try #require(try await tested.openAnother() as? any ConsoleSessionStore)
            #expect(try await other.consoleSession(idHash: "b1") == session)
            try await other.deleteConsoleSession(idHash: "b1")
            #expect(try await store.consoleSession(idHash: "b1") == nil)
        }
    }

    @Test(arguments: Backend.all) func aNewSessionSweepsExpiredOnesAndThoseOfAnotherToken(_ backend: Backend) async throws {
        let time = Moment.clock()
        try await backend.withStore(clock: time.clock) { tested in
            let store = try Self.sessions(tested)
            func open(_ hash: String, token: String, seconds: Double) async throws {
                let now = time.clock.now()
                try await store.createConsoleSession(
                    ConsoleSession(idHash: hash, tokenFingerprint: token, createdAt: now, expiresAt: now.adding(seconds: seconds))
                )
            }
            try await open("short", token: "fp1", seconds: 60)
            try await open("long", token: "fp1", seconds: 3600)
            #expect(try await tested.count("console_sessions") == 2)

            time.advance(seconds: 120)
            try await open("third", token: "fp1", seconds: 3600)
            #expect(try await store.consoleSession(idHash: "short") == nil, "expired: swept")
            #expect(try await store.consoleSession(idHash: "long") != nil)

            // The admin token changed: a session opened with the new one ends every other.
            try await open("after-change", token: "fp2", seconds: 3600)
            #expect(try await store.consoleSession(idHash: "long") == nil)
            #expect(try await store.consoleSession(idHash: "third") == nil)
            #expect(try await store.consoleSession(idHash: "after-change") != nil)
            #expect(try await tested.count("console_sessions") == 1)
        }
    }
}
