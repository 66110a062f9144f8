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
                    SELECT id, auth0_id, email, name, picture, email_verified, logins_count, last_login_at, created_at, updated_at
                    FROM users WHERE auth0_id = ?
                    """,
                    [.text(auth0ID)]
                ),
                case .integer(let id) = row[0]
            else { return nil }
            return UserRecord(
                id: id, auth0ID: row[1].string ?? auth0ID, email: row[2].string, name: row[3].string, picture: row[4].string,
                emailVerified: (row[5].int ?? 0) != 0, loginsCount: row[6].int ?? 0, lastLoginAt: row[7].string,
                createdAt: row[8].string ?? "", updatedAt: row[9].string ?? ""
            )
        }
    }

    package func recordLogin(_ login: UserLogin, event: NewEvent) async throws -> UserLoginResult {
        let clockNow = self.clock.now()
        let now = clockNow.description
        let result = try await self.write { connection in
            let userID: Int64
            let created: Bool
            if let existing = try connection.row("SELECT id, email FROM users WHERE auth0_id = ?", [.text(login.auth0ID)]),
                case .integer(let id) = existing[0]
            {
                try connection.execute(
                    """
                    UPDATE users SET
                        name = coalesce(?1, name), picture = coalesce(?2, picture),
                        email_verified = coalesce(?3, email_verified), logins_count = logins_count + 1,
                        auth0_logins_count = coalesce(?4, auth0_logins_count), last_ip = coalesce(?5, last_ip),
                        last_login_at = ?6, updated_at = ?6
                    WHERE id = ?7
                    """,
                    [
                        .text(login.name), .text(login.picture), .bool(login.emailVerified),
                        .integer(login.loginsCount), .text(login.ip), .text(now), .integer(id),
                    ]
                )
                // Apart, so that a login with the same email leaves the email index alone. A
                // new address is unverified unless the login says otherwise.
                if let email = login.email, existing[1].string != email {
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
