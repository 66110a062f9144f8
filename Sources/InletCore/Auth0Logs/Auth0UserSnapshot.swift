/// A user as the tenant holds it (`GET /api/v2/users`), for the reconciler.
///
/// ```swift
/// let snapshot = Auth0UserSnapshot(auth0ID: "auth0|1", updatedAt: updated, email: "ada@example.com", emailVerified: true)
/// ```
public struct Auth0UserSnapshot: Sendable, Equatable {
    public var auth0ID: String
    /// The user's `updated_at` (Auth0's clock): its values are as of then.
    public var updatedAt: Timestamp
    public var email: String?
    public var emailVerified: Bool
    public var name: String?
    public var picture: String?
    /// Auth0's `logins_count`.
    public var loginsCount: Int?
    /// Auth0's `last_login`.
    public var lastLogin: Timestamp?

    public init(
        auth0ID: String, updatedAt: Timestamp, email: String? = nil, emailVerified: Bool = false, name: String? = nil,
        picture: String? = nil, loginsCount: Int? = nil, lastLogin: Timestamp? = nil
    ) {
        self.auth0ID = auth0ID
        self.updatedAt = updatedAt
        self.email = email
        self.emailVerified = emailVerified
        self.name = name
        self.picture = picture
        self.loginsCount = loginsCount
        self.lastLogin = lastLogin
    }
}

/// What one reconcile page (or run) did to Inlet's users.
public struct ReconcileCounts: Sendable, Equatable {
    /// Users Inlet did not have.
    public var created = 0
    /// Users whose stored values were stale.
    public var updated = 0
    /// Users already as the tenant has them (or newer).
    public var unchanged = 0

    public init(created: Int = 0, updated: Int = 0, unchanged: Int = 0) {
        self.created = created
        self.updated = updated
        self.unchanged = unchanged
    }

    public static func + (lhs: ReconcileCounts, rhs: ReconcileCounts) -> ReconcileCounts {
        ReconcileCounts(created: lhs.created + rhs.created, updated: lhs.updated + rhs.updated, unchanged: lhs.unchanged + rhs.unchanged)
    }
}
