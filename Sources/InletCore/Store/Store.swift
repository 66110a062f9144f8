/// What Inlet keeps durably. SQLite implements it today; the same protocol can be
/// implemented on PostgreSQL when several instances share one database.
///
/// Every method that changes state returns only after the change is durable.
public protocol InletStore: Sendable {
    /// Upserts the user of `login` (keyed on the Auth0 id) and appends an
    /// `auth0.user.login` event carrying `payload`, in one transaction.
    func syncLogin(_ login: LoginSync, payload: String) async throws -> LoginSyncResult

    /// Succeeds when a write can be committed now (readiness).
    func checkWritable() async throws

    /// Finishes queued work and releases the database.
    func close() async
}

/// Event ids Inlet generates: `evt_` and 24 random hex digits.
public enum EventID {
    public static func generate() -> String {
        "evt_" + Crypto.randomHex(byteCount: 12)
    }
}
