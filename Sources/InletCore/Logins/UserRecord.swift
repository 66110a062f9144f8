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
    /// Auth0's own login count, the newest either channel reported (the Action's
    /// `event.stats.logins_count`, a log entry's `details.stats.loginsCount`, the reconciler).
    public let auth0LoginsCount: Int?
    /// When Auth0 deleted the user (a `du` log entry); the row is kept, flagged.
    public let deletedAt: String?

    /// The user's login count: Auth0's own when a channel reported it, else the logins
    /// Inlet recorded; a login both channels reported is counted once.
    public var loginsTotal: Int { self.auth0LoginsCount ?? self.loginsCount }
    /// Whether the user still exists in Auth0 as far as Inlet knows.
    public var isActive: Bool { self.deletedAt == nil }

    public init(
        id: Int64, auth0ID: String, email: String?, name: String?, picture: String?, emailVerified: Bool,
        loginsCount: Int, lastLoginAt: String?, createdAt: String, updatedAt: String, auth0LoginsCount: Int? = nil, deletedAt: String? = nil
    ) {
        self.auth0LoginsCount = auth0LoginsCount
        self.deletedAt = deletedAt
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
