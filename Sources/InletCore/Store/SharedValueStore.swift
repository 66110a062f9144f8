/// Small values that every process sharing the database reads and replaces in turn: state
/// that must be one for the whole cluster, such as the Auth0 Management API's rate budget,
/// which the tenant counts for all instances together.
///
/// The PostgreSQL store offers it (several instances share one database); the SQLite
/// store, which one process owns, does not need to: what one process holds in memory is
/// already the whole picture. A handler finds it in ``HandlerSetup/sharedValues``.
///
/// ```swift
/// let calls = try await shared.updateSharedValue("example.calls") { value, _ in
///     let count = (value.flatMap { Int($0) } ?? 0) + 1
///     value = String(count)
///     return count
/// }
/// ```
public protocol SharedValueStore: Sendable {
    /// Runs `body` with the text stored under `key` (nil the first time) and the
    /// database's clock (milliseconds since the UNIX epoch, the same for every instance),
    /// stores the text `body` leaves, and returns `body`'s result. No other caller, in
    /// this process or another, reads or replaces `key` in between. `body` may run again
    /// if the store retries; it must not wait or do I/O.
    func updateSharedValue<T: Sendable>(_ key: String, _ body: @escaping @Sendable (inout String?, Int64) throws -> T) async throws -> T
}
