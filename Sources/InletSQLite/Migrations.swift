internal import InletCore
/// The schema, as numbered migrations applied in order at start-up.
///
/// `PRAGMA user_version` records the last one applied. A migration is never edited once
/// released: a change to the schema is a new entry at the end.
public enum Migrations {
    public struct Migration: Sendable {
        public let version: Int
        public let summary: String
        public let sql: String
    }

    public static let all: [Migration] = [
        Migration(
            version: 1,
            summary: "users, events and store metadata",
            sql: """
                CREATE TABLE users (
                    id INTEGER PRIMARY KEY,
                    auth0_id TEXT NOT NULL UNIQUE,
                    email TEXT,
                    name TEXT,
                    picture TEXT,
                    email_verified INTEGER NOT NULL DEFAULT 0,
                    logins_count INTEGER NOT NULL DEFAULT 0,
                    auth0_logins_count INTEGER,
                    last_login_at TEXT,
                    last_ip TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                );
                -- Not unique: Auth0 allows one email under several connections.
                CREATE INDEX users_email ON users(email);

                CREATE TABLE events (
                    seq INTEGER PRIMARY KEY,
                    source TEXT NOT NULL,
                    id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    received_at TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    UNIQUE (source, id)
                );
                CREATE INDEX events_type ON events(type, seq);

                CREATE TABLE store_meta (
                    key TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                );
                """
        ),
        Migration(
            version: 2,
            summary: "deliveries (one per event and subscribed handler) and the audit log",
            sql: """
                CREATE TABLE deliveries (
                    id INTEGER PRIMARY KEY,
                    event_seq INTEGER NOT NULL REFERENCES events(seq),
                    handler TEXT NOT NULL,
                    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'dead')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    -- milliseconds since the epoch, compared on every claim
                    next_attempt_at INTEGER NOT NULL,
                    lease_until INTEGER,
                    last_error TEXT,
                    -- why a dead delivery died: 'permanent' (the handler said no) or 'exhausted' (retries ran out)
                    dead_reason TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    UNIQUE (event_seq, handler)
                );
                -- Due work in order: pending rows by their next attempt, running rows by the
                -- end of their lease (a claim moves next_attempt_at to the lease's end).
                CREATE INDEX deliveries_due ON deliveries(handler, next_attempt_at) WHERE state IN ('pending', 'running');
                CREATE INDEX deliveries_state ON deliveries(state);

                CREATE TABLE audit_log (
                    id INTEGER PRIMARY KEY,
                    at TEXT NOT NULL,
                    event_seq INTEGER,
                    event_id TEXT,
                    event_type TEXT,
                    handler TEXT,
                    outcome TEXT NOT NULL,
                    detail TEXT
                );
                CREATE INDEX audit_log_event ON audit_log(event_seq);
                """
        ),
        Migration(
            version: 3,
            summary: "employees and their Auth0 accounts (provisioning, metadata-sync)",
            sql: """
                CREATE TABLE employees (
                    employee_id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    email TEXT NOT NULL,
                    department TEXT NOT NULL,
                    phone_number TEXT,
                    connecteam_id TEXT,
                    role_code TEXT,
                    auth0_user_id TEXT UNIQUE,
                    auth0_sync_status TEXT NOT NULL DEFAULT 'pending'
                        CHECK (auth0_sync_status IN ('pending', 'created', 'linked', 'verified', 'failed')),
                    auth0_account_created_at TEXT,
                    -- the email last written to Auth0 (an email change patches it once)
                    auth0_email TEXT,
                    -- the role assigned to the account, and when (a crash before it is retried)
                    assigned_role TEXT,
                    role_assigned_at TEXT,
                    blocked INTEGER NOT NULL DEFAULT 0,
                    last_error TEXT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                );
                CREATE INDEX employees_email ON employees(email);
                """
        ),
        Migration(
            version: 4,
            summary: "only dead deliveries indexed by state (every claim and outcome rewrote the full index)",
            sql: """
                DROP INDEX deliveries_state;
                CREATE INDEX deliveries_dead ON deliveries(id) WHERE state = 'dead';
                """
        ),
        Migration(
            version: 5,
            summary: "fenced leases (a token per claim); the backlog and dead deliveries by event",
            sql: """
                ALTER TABLE deliveries ADD COLUMN lease_token INTEGER;
                DROP INDEX deliveries_dead;
                CREATE INDEX deliveries_dead ON deliveries(event_seq) WHERE state = 'dead';
                -- The due index also carries state and event_seq, so that the backlog's events
                -- (the status filter, the oldest pending delivery) are read from it alone.
                DROP INDEX deliveries_due;
                CREATE INDEX deliveries_due ON deliveries(handler, next_attempt_at, state, event_seq) WHERE state IN ('pending', 'running');
                """
        ),
        Migration(
            version: 6,
            summary: "employees: the id's JSON type, the version of the row's values, the Auth0 account-creation intent",
            sql: """
                -- 1 when the sender gave employee_id as a JSON number (Auth0 metadata keeps it one)
                ALTER TABLE employees ADD COLUMN employee_id_is_number INTEGER NOT NULL DEFAULT 0;
                -- the event the row's values came from: its occurred_at (ms since the epoch,
                -- when it had one) and its events.seq; an older event never overwrites them
                ALTER TABLE employees ADD COLUMN version_occurred_at INTEGER;
                ALTER TABLE employees ADD COLUMN version_seq INTEGER;
                -- an Auth0 account creation started and not yet recorded: the email sent, and
                -- when; a retry looks that account up before creating another
                ALTER TABLE employees ADD COLUMN auth0_create_email TEXT;
                ALTER TABLE employees ADD COLUMN auth0_create_attempted_at TEXT;
                """
        ),
        Migration(
            version: 7,
            summary: "users: the newest Auth0 time applied (log stream, reconciler) and the deletion flag",
            sql: """
                -- the newest Auth0 time (a log entry's date, a tenant user's updated_at) the row
                -- took in; an older entry never overwrites its values
                ALTER TABLE users ADD COLUMN auth0_applied_at TEXT;
                -- when Auth0 deleted the user (a du log entry): kept, flagged
                ALTER TABLE users ADD COLUMN deleted_at TEXT;
                """
        ),
        Migration(
            version: 8,
            summary: "no index of users by email (no query reads it; every new user and email change wrote it)",
            sql: """
                DROP INDEX IF EXISTS users_email;
                """
        ),
        Migration(
            version: 9,
            summary: "operator console: attempt history, stored headers, event subjects for search, dead-letter error keys, paused handlers",
            sql: """
                -- every attempt of a delivery, written with its outcome; times in ms since the
                -- epoch. Keyed by event, so that one b-tree serves the event's detail and its
                -- purge: an outcome adds one row to one b-tree, no index besides.
                CREATE TABLE delivery_attempts (
                    event_seq INTEGER NOT NULL,
                    delivery_id INTEGER NOT NULL,
                    started_at INTEGER NOT NULL,
                    attempt INTEGER NOT NULL,
                    instance TEXT NOT NULL,
                    finished_at INTEGER NOT NULL,
                    outcome TEXT NOT NULL,
                    error TEXT,
                    next_attempt_at INTEGER,
                    PRIMARY KEY (event_seq, delivery_id, started_at, attempt)
                ) WITHOUT ROWID;
                -- the allow-listed request headers, a JSON object (NULL: none kept)
                ALTER TABLE events ADD COLUMN headers TEXT;
                -- who an event is about (employee id, email; lower-case), for search. Keyed by
                -- the event's block of 256 seqs (event_seq >> 8) first, so that an append writes
                -- into the last pages only (keyed by subject first, every event wrote two random
                -- leaf pages: twice the WAL of an ingestion); a search probes each block.
                CREATE TABLE event_subjects (
                    block INTEGER NOT NULL,
                    subject TEXT NOT NULL,
                    event_seq INTEGER NOT NULL,
                    PRIMARY KEY (block, subject, event_seq)
                ) WITHOUT ROWID;
                -- a dead delivery's error with its numbers, ids and quoted values normalised
                ALTER TABLE deliveries ADD COLUMN error_key TEXT;
                -- handlers paused by an operator: claimDue claims nothing for them
                CREATE TABLE handler_pauses (
                    handler TEXT PRIMARY KEY,
                    paused_at TEXT NOT NULL
                );
                """
        ),
        Migration(
            version: 10,
            summary: "operator console sessions (a hash of the id, a fingerprint of the admin token)",
            sql: """
                CREATE TABLE console_sessions (
                    id_hash TEXT PRIMARY KEY,
                    token_fingerprint TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL
                );
                """
        ),
    ]

    /// The newest schema version this build knows.
    public static var latestVersion: Int { all.last?.version ?? 0 }

    /// Applies every migration newer than the database's version; returns the versions
    /// applied. Runs inside the caller's transaction, so a failure applies none.
    @discardableResult
    public static func apply(on connection: SQLiteConnection) throws -> [Int] {
        let current = try connection.requiredRow("PRAGMA user_version").int("user_version")
        guard current <= latestVersion else {
            throw SQLiteError(
                code: 1,
                message: "the database is at schema version \(current), newer than this build's \(latestVersion); use a newer inlet"
            )
        }
        var applied: [Int] = []
        for migration in all where migration.version > current {
            try connection.executeScript(migration.sql)
            try connection.executeScript("PRAGMA user_version = \(migration.version)")
            applied.append(migration.version)
        }
        return applied
    }
}
