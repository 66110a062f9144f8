/// The users Inlet keeps (one row per Auth0 account), for `GET /auth/verify`.
public protocol UserStore: Sendable {
    /// The user with this Auth0 id, or nil; sees every committed login.
    func user(auth0ID: String) async throws -> UserRecord?
}
