/// What one Auth0 log entry says about a user: a login, a signup, a verified email or a
/// deletion, at the entry's `date`.
///
/// The log-stream intake makes one for each new entry of type `s`, `ss`, `sv` or `du`; the
/// store applies it to the user row in the transaction that appends the entry's event
/// (``UserAgreement/applying(_:to:)-(Auth0UserChange,_)``), so a redelivered entry (a
/// duplicate event) changes nothing.
///
/// ```swift
/// let change = Auth0UserChange(auth0ID: "auth0|1", kind: .login, at: date, email: "ada@example.com", loginsCount: 12)
/// ```
public struct Auth0UserChange: Sendable, Equatable {
    /// What happened to the user.
    public enum Kind: String, Sendable, Equatable {
        /// `s`: a successful login.
        case login
        /// `ss`: a successful signup.
        case signup
        /// `sv`: the email address was verified.
        case emailVerified
        /// `du`: the user was deleted in Auth0.
        case deleted
    }

    public var auth0ID: String
    public var kind: Kind
    /// The entry's `date` (Auth0's clock).
    public var at: Timestamp
    /// The entry's `user_name` when it is an email address.
    public var email: String?
    /// Auth0's own login count (`details.stats.loginsCount`), when the entry carries it.
    public var loginsCount: Int?
    public var ip: String?

    public init(auth0ID: String, kind: Kind, at: Timestamp, email: String? = nil, loginsCount: Int? = nil, ip: String? = nil) {
        self.auth0ID = auth0ID
        self.kind = kind
        self.at = at
        self.email = email
        self.loginsCount = loginsCount
        self.ip = ip
    }

    /// The kind of a log entry type that changes a user; nil for the others.
    public static func kind(ofLogType type: String) -> Kind? {
        switch type {
        case "s": .login
        case "ss": .signup
        case "sv": .emailVerified
        case "du": .deleted
        default: nil
        }
    }
}
