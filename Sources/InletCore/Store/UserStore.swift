/// The users Inlet keeps (one row per Auth0 account), for `GET /auth/verify`.
public protocol UserStore: Sendable {
    /// The user with this Auth0 id, or nil; sees every committed login.
    func user(auth0ID: String) async throws -> UserRecord?
    /// The users who logged in most recently, newest first (at most `limit`).
    func recentLogins(limit: Int) async throws -> [UserRecord]
}
