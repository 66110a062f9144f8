import InletCore
import Testing

/// A storage backend the conformance suite runs against: every test takes one as its
/// argument (`@Test(arguments: Backend.all)`) and opens a fresh store of that kind.
///
/// ```swift
/// @Test(arguments: Backend.all) func storesAnEvent(_ backend: Backend) async throws {
///     try await backend.withStore { tested in _ = try await tested.store.appendEvents([...]) }
/// }
/// ```
enum Backend: String, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    /// Every backend the suite runs against: the one place that lists them.
    static let all: [Backend] = [.sqlite, .postgres]

    /// The backends whose database several store instances (processes) can share.
    static let shared: [Backend] = all.filter(\.isShared)

    var isShared: Bool { self == .postgres }

    var testDescription: String { self.rawValue }

    /// Opens a fresh, empty store of this kind whose times come from `clock`; the caller
    /// closes it with ``TestedStore/close()`` (``withStore(clock:_:)`` does).
    func open(clock: WallClock) async throws -> TestedStore {
        switch self {
        case .sqlite:
            return try await SQLiteTestDatabase.open(clock: clock)
        case .postgres:
            return try await PostgresTestDatabase.open(clock: clock)
        }
    }

    /// Runs `body` with a fresh store of this kind (see ``open(clock:)``), then closes it
    /// and removes its database, also when `body` throws.
    func withStore(clock: WallClock = .system, _ body: (TestedStore) async throws -> Void) async throws {
        let tested = try await self.open(clock: clock)
        do {
            try await body(tested)
        } catch {
            await tested.close()
            throw error
        }
        await tested.close()
    }
}
