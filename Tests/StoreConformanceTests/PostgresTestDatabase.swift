import InletCore

/// Placeholder until InletPostgres has its store.
enum PostgresTestDatabase {
    static func open(clock: WallClock) async throws -> TestedStore {
        struct NotBuilt: Error {}
        throw NotBuilt()
    }
}
