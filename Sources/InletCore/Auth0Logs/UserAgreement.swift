/// How a user row takes in what the log stream and the reconciler say, so that the three
/// channels (the Post-Login Action, the log stream, the reconciler) agree: written once,
/// applied by both stores inside their transactions.
///
/// - Order: the row's *version* is the newest Auth0 time it has taken in (an entry's
///   `date`, a snapshot's `updated_at`) or its last login, whichever is later. An entry or
///   snapshot older than that never overwrites a value; it may still fill one the row lacks.
/// - Counting: Auth0's own login count, when a channel carries it, is kept as the newest
///   (largest) one seen, and ``UserRecord/loginsTotal`` reports it. Without it, a stream
///   login is counted only when it is more than ``sameLoginWindow`` seconds after the last
///   login Inlet recorded: the Action reports a login while it happens, and its log entry
///   follows within seconds, so both are one login.
/// - `sv` verifies the address it names (or the stored one when it names none), whatever
///   the order; `du` flags the row deleted (kept), undone only by a newer login or snapshot.
///
/// ```swift
/// if let next = UserAgreement.applying(change, to: stored) { try write(next) }
/// ```
package enum UserAgreement {
    /// Seconds within which a stream login and the login Inlet last recorded are one login.
    package static let sameLoginWindow = 60.0

    /// The row after `change`, or nil when it changes nothing.
    package static func applying(_ change: Auth0UserChange, to stored: StoredUser?) -> StoredUser? {
        let at = change.at.description
        var user = stored ?? StoredUser(auth0ID: change.auth0ID)
        let newer = stored == nil || at > user.version
        switch change.kind {
        case .login, .signup:
            if change.kind == .login {
                if let count = change.loginsCount { user.auth0LoginsCount = max(user.auth0LoginsCount ?? 0, count) }
                let last = user.lastLoginAt.flatMap { Timestamp(rfc3339: $0) }
                if last.map({ change.at > $0.adding(seconds: Self.sameLoginWindow) }) ?? true { user.loginsCount += 1 }
                if user.lastLoginAt.map({ at > $0 }) ?? true { user.lastLoginAt = at }
            }
            if newer {
                if let ip = change.ip { user.lastIP = ip }
                if let email = change.email, email != user.email {
                    user.email = email
                    user.emailVerified = false
                }
                user.deletedAt = nil
            }
        case .emailVerified:
            if user.email == nil, let email = change.email { user.email = email }
            if change.email == nil || change.email == user.email { user.emailVerified = true }
        case .deleted:
            if newer || at == user.version { user.deletedAt = at }
        }
        if user.appliedAt.map({ at > $0 }) ?? true { user.appliedAt = at }
        return user == stored ? nil : user
    }

    /// The row after `snapshot` (the tenant's user), or nil when it changes nothing.
    package static func applying(_ snapshot: Auth0UserSnapshot, to stored: StoredUser?) -> StoredUser? {
        let at = snapshot.updatedAt.description
        var user = stored ?? StoredUser(auth0ID: snapshot.auth0ID)
        let newer = stored == nil || at > user.version
        if let email = snapshot.email, user.email == nil || (newer && email != user.email) {
            user.email = email
            user.emailVerified = snapshot.emailVerified
        } else if newer {
            user.emailVerified = snapshot.emailVerified
        }
        if let name = snapshot.name, user.name == nil || newer { user.name = name }
        if let picture = snapshot.picture, user.picture == nil || newer { user.picture = picture }
        if newer { user.deletedAt = nil }
        if let count = snapshot.loginsCount { user.auth0LoginsCount = max(user.auth0LoginsCount ?? 0, count) }
        if let last = snapshot.lastLogin?.description, user.lastLoginAt.map({ last > $0 }) ?? true {
            user.lastLoginAt = last
        }
        if user.appliedAt.map({ at > $0 }) ?? true { user.appliedAt = at }
        return user == stored ? nil : user
    }
}

/// A user row's values as ``UserAgreement`` reads and writes them (times as stored:
/// ``Timestamp`` text, which sorts as it compares).
package struct StoredUser: Sendable, Equatable {
    /// The row's id; nil for a row not yet inserted.
    package var id: Int64?
    package var auth0ID: String
    package var email: String?
    package var name: String?
    package var picture: String?
    package var emailVerified = false
    /// Logins Inlet recorded.
    package var loginsCount = 0
    /// Auth0's own count, the newest seen.
    package var auth0LoginsCount: Int?
    package var lastLoginAt: String?
    package var lastIP: String?
    /// The newest Auth0 time (entry date, snapshot `updated_at`) taken in.
    package var appliedAt: String?
    /// When Auth0 deleted the user (`du`); nil while it exists.
    package var deletedAt: String?

    package init(
        id: Int64? = nil, auth0ID: String, email: String? = nil, name: String? = nil, picture: String? = nil, emailVerified: Bool = false,
        loginsCount: Int = 0, auth0LoginsCount: Int? = nil, lastLoginAt: String? = nil, lastIP: String? = nil, appliedAt: String? = nil,
        deletedAt: String? = nil
    ) {
        self.id = id
        self.auth0ID = auth0ID
        self.email = email
        self.name = name
        self.picture = picture
        self.emailVerified = emailVerified
        self.loginsCount = loginsCount
        self.auth0LoginsCount = auth0LoginsCount
        self.lastLoginAt = lastLoginAt
        self.lastIP = lastIP
        self.appliedAt = appliedAt
        self.deletedAt = deletedAt
    }

    /// The newest time the row's values are from: the later of ``appliedAt`` and the last login.
    package var version: String { max(self.appliedAt ?? "", self.lastLoginAt ?? "") }
}
