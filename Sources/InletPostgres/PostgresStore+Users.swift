public import InletCore
internal import PostgresNIO

/// Users in PostgreSQL.
extension PostgresStore: UserStore {
    public func user(auth0ID: String) async throws -> UserRecord? {
        let rows = try await self.read(
            """
            SELECT id, auth0_id, email, name, picture, email_verified, logins_count, last_login_at, created_at, updated_at,
                auth0_logins_count, deleted_at
            FROM users WHERE auth0_id = \(auth0ID)
            """
        )
        guard let row = rows.first else { return nil }
        let (id, auth0ID, email, name, picture, verified, logins, lastLogin, created, updated, auth0Logins, deleted) = try row.decode(
            (Int64, String, String?, String?, String?, Bool, Int64, String?, String, String, Int64?, String?).self
        )
        return UserRecord(
            id: id, auth0ID: auth0ID, email: email, name: name, picture: picture, emailVerified: verified, loginsCount: Int(logins),
            lastLoginAt: lastLogin, createdAt: created, updatedAt: updated, auth0LoginsCount: auth0Logins.map(Int.init), deletedAt: deleted
        )
    }

    /// Upserts the user and appends the login's event with its deliveries, in one
    /// statement: concurrent first logins of one user make one row (the second updates it).
    /// An absent field keeps the stored value; a new email is unverified unless the login
    /// says otherwise.
    enum RecordLogin: PreparedText {
        /// $1 auth0 id, $2 email, $3 name, $4 picture, $5 email verified, $6 Auth0's login
        /// count, $7 ip, $8 now as text, $9-$12 the event (source, id, type, payload), $13 now
        /// (NULL: the database's), $14 the handlers of its deliveries.
        static let sql = """
            WITH u AS (
                INSERT INTO users AS u (auth0_id, email, name, picture, email_verified, logins_count, auth0_logins_count, last_ip,
                    last_login_at, created_at, updated_at)
                VALUES ($1, $2::text, $3::text, $4::text, coalesce($5::boolean, false), 1, $6::bigint, $7::text, $8, $8, $8)
                ON CONFLICT (auth0_id) DO UPDATE SET
                    name = coalesce(excluded.name, u.name), picture = coalesce(excluded.picture, u.picture),
                    email = coalesce(excluded.email, u.email),
                    email_verified = CASE WHEN excluded.email IS NOT NULL AND excluded.email IS DISTINCT FROM u.email
                        THEN coalesce($5::boolean, false)
                        ELSE coalesce($5::boolean, u.email_verified) END,
                    logins_count = u.logins_count + 1, auth0_logins_count = greatest(excluded.auth0_logins_count, u.auth0_logins_count),
                    last_ip = coalesce(excluded.last_ip, u.last_ip), last_login_at = excluded.last_login_at, updated_at = excluded.updated_at,
                    deleted_at = CASE WHEN u.deleted_at < excluded.last_login_at THEN NULL ELSE u.deleted_at END
                RETURNING id, (xmax = 0) AS created
            ), e AS (
                INSERT INTO events (source, id, type, received_at, payload) VALUES ($9, $10, $11, $8, $12)
                ON CONFLICT (source, id) DO NOTHING RETURNING seq
            ), d AS (
                INSERT INTO deliveries (event_seq, handler, next_attempt_at, created_at, updated_at)
                SELECT e.seq, h, coalesce($13::bigint, inlet_now_ms()), $8, $8 FROM e, unnest($14::text[]) AS h
            )
            SELECT u.id, u.created, (SELECT count(*) FROM e) FROM u
            """
    }

    package func recordLogin(_ login: UserLogin, event: NewEvent) async throws -> UserLoginResult {
        let now = self.injectedNow
        let text = self.nowText
        let logins = login.loginsCount.map(Int64.init)
        let rows = try await self.run(
            RecordLogin.self,
            PostgresBindings().with(login.auth0ID).with(login.email).with(login.name).with(login.picture).with(login.emailVerified)
                .with(logins).with(login.ip).with(text).with(event.source.rawValue).with(event.id).with(event.type.rawValue)
                .with(event.payload).with(now).with(event.handlers)
        )
        guard let row = rows.first else { throw PostgresStoreError("the login's user row was not written", unavailable: true) }
        let (userID, created, inserted) = try row.decode((Int64, Bool, Int64).self)
        if inserted > 0 { self.announce(event.handlers) }
        return UserLoginResult(userID: userID, created: created, eventID: event.id)
    }
}
