public import InletCore
/// Users in SQLite.
extension SQLiteStore: UserStore {
    /// The user with this Auth0 id, or nil. Read on the reader connection: it sees every
    /// committed login, since writes return only after their commit.
    public func user(auth0ID: String) async throws -> UserRecord? {
        try await self.read { connection in
            guard
                let row = try connection.row(
                    """
                    SELECT id, auth0_id, email, name, picture, email_verified, logins_count, last_login_at, created_at, updated_at,
                        auth0_logins_count, deleted_at
                    FROM users WHERE auth0_id = ?
                    """,
                    [.text(auth0ID)]
                )
            else { return nil }
            return UserRecord(
                id: try row.int64("id"), auth0ID: try row.string("auth0_id"), email: try row.optionalString("email"),
                name: try row.optionalString("name"), picture: try row.optionalString("picture"),
                emailVerified: try row.bool("email_verified"), loginsCount: try row.int("logins_count"),
                lastLoginAt: try row.optionalString("last_login_at"), createdAt: try row.string("created_at"),
                updatedAt: try row.string("updated_at"), auth0LoginsCount: try row.optionalInt("auth0_logins_count"),
                deletedAt: try row.optionalString("deleted_at")
            )
        }
    }

    package func recordLogin(_ login: UserLogin, event: NewEvent) async throws -> UserLoginResult {
        let clockNow = self.clock.now()
        let now = clockNow.description
        let result = try await self.write { connection in
            let userID: Int64
            let created: Bool
            if let existing = try connection.row("SELECT id, email FROM users WHERE auth0_id = ?", [.text(login.auth0ID)]) {
                let id = try existing.int64("id")
                try connection.execute(
                    """
                    UPDATE users SET
                        name = coalesce(?1, name), picture = coalesce(?2, picture),
                        email_verified = coalesce(?3, email_verified), logins_count = logins_count + 1,
                        auth0_logins_count = max(coalesce(?4, auth0_logins_count), coalesce(auth0_logins_count, ?4)),
                        last_ip = coalesce(?5, last_ip), last_login_at = ?6, updated_at = ?6,
                        deleted_at = CASE WHEN deleted_at < ?6 THEN NULL ELSE deleted_at END
                    WHERE id = ?7
                    """,
                    [
                        .text(login.name), .text(login.picture), .bool(login.emailVerified),
                        .integer(login.loginsCount), .text(login.ip), .text(now), .integer(id),
                    ]
                )
                // Apart, so that a login with the same email does not rewrite it. A new
                // address is unverified unless the login says otherwise.
                if let email = login.email, try existing.optionalString("email") != email {
                    try connection.execute(
                        "UPDATE users SET email = ?, email_verified = ? WHERE id = ?",
                        [.text(email), .bool(login.emailVerified ?? false), .integer(id)]
                    )
                }
                userID = id
                created = false
            } else {
                try connection.execute(
                    """
                    INSERT INTO users (auth0_id, email, name, picture, email_verified, logins_count,
                        auth0_logins_count, last_ip, last_login_at, created_at, updated_at)
                    VALUES (?1, ?2, ?3, ?4, coalesce(?5, 0), 1, ?6, ?7, ?8, ?8, ?8)
                    """,
                    [
                        .text(login.auth0ID), .text(login.email), .text(login.name), .text(login.picture),
                        .bool(login.emailVerified), .integer(login.loginsCount), .text(login.ip), .text(now),
                    ]
                )
                userID = connection.lastInsertRowID
                created = true
            }
            let appended = try Self.insertEvent(connection, event, now: clockNow)
            return (UserLoginResult(userID: userID, created: created, eventID: event.id), appended.duplicate ? 0 : event.handlers.count)
        }
        self.adjustDepth(by: result.1)
        return result.0
    }
}
