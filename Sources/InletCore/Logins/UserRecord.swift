/// A user as Inlet stores it: one row per Auth0 account, written by the Post-Login Action
/// (`POST /internal/auth/sync-user`) and by the frontend (`POST /auth/sync`) alike.
///
/// ```swift
/// if let user = try await store.user(auth0ID: claims.subject) { print(user.id, user.email ?? "-") }
/// ```
public struct UserRecord: Sendable, Equatable {
    /// Inlet's id of the row.
    public let id: Int64
    public let auth0ID: String
    public let email: String?
    public let name: String?
    public let picture: String?
    public let emailVerified: Bool
    /// Logins Inlet has recorded.
    public let loginsCount: Int
    /// RFC 3339 UTC text, as stored.
    public let lastLoginAt: String?
    public let createdAt: String
    public let updatedAt: String

    public init(
        id: Int64, auth0ID: String, email: String?, name: String?, picture: String?, emailVerified: Bool,
        loginsCount: Int, lastLoginAt: String?, createdAt: String, updatedAt: String
    ) {
        self.id = id
        self.auth0ID = auth0ID
        self.email = email
        self.name = name
        self.picture = picture
        self.emailVerified = emailVerified
        self.loginsCount = loginsCount
        self.lastLoginAt = lastLoginAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
