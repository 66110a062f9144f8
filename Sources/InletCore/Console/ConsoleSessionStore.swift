/// Where the operator console keeps its sign-in sessions, so that sign-out ends one and
/// several instances on one PostgreSQL database share them.
///
/// Only a hash of a session's id is stored (a copy of the table signs no one in), with a
/// keyed fingerprint of the admin token it was opened with: when the token changes, the
/// console finds the fingerprint stale and ends the session.
///
/// ```swift
/// try await store.createConsoleSession(ConsoleSession(idHash: hash, tokenFingerprint: fp, createdAt: now, expiresAt: later))
/// let session = try await store.consoleSession(idHash: hash)
/// ```
package protocol ConsoleSessionStore: Sendable {
    /// Stores `session`, and deletes every session that has expired by its `createdAt`
    /// or was opened with another admin token (another fingerprint).
    func createConsoleSession(_ session: ConsoleSession) async throws
    /// The session whose id hashes to `idHash`, or nil.
    func consoleSession(idHash: String) async throws -> ConsoleSession?
    /// Deletes the session whose id hashes to `idHash` (sign-out); nothing when there is none.
    func deleteConsoleSession(idHash: String) async throws
}
