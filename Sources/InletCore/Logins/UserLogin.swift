/// One login of a user, as Auth0's Post-Login Action (or the frontend) reports it.
///
/// Only the user id is guaranteed by Auth0; every other field may be absent, and an
/// absent field leaves the stored value as it was.
///
/// The store records it with the user row (``InletStore/recordLogin(_:event:)``); the
/// Action's body is read by ``init(json:)``.
///
/// ```swift
/// let login = try UserLogin(json: document.root.requireObject())
/// let result = try await intake.login(login, payload: bodyText)
/// ```
public struct UserLogin: Sendable, Equatable {
    public var auth0ID: String
    public var email: String?
    public var name: String?
    public var picture: String?
    public var emailVerified: Bool?
    /// `event.stats.logins_count` as Auth0 counts it, when the Action sends it.
    public var loginsCount: Int?
    public var ip: String?
    public var userAgent: String?
    /// `event.transaction.protocol`: an interactive login or a refresh.
    public var transactionProtocol: String?

    public init(
        auth0ID: String,
        email: String? = nil,
        name: String? = nil,
        picture: String? = nil,
        emailVerified: Bool? = nil,
        loginsCount: Int? = nil,
        ip: String? = nil,
        userAgent: String? = nil,
        transactionProtocol: String? = nil
    ) {
        self.auth0ID = auth0ID
        self.email = email
        self.name = name
        self.picture = picture
        self.emailVerified = emailVerified
        self.loginsCount = loginsCount
        self.ip = ip
        self.userAgent = userAgent
        self.transactionProtocol = transactionProtocol
    }

    /// Longest accepted `auth0Id` (Auth0 ids are `connection|id`, far shorter).
    public static let maxIDLength = 512

    /// Reads the Action's body: `{auth0Id, email?, name?, picture?, emailVerified?}` plus
    /// optional `loginsCount`, `ip`, `userAgent`, `protocol`. Unknown keys are ignored.
    public init(json object: JSONNode) throws(JSONError) {
        let id = try object.requiredString("auth0Id")
        guard id.utf8.count <= Self.maxIDLength else {
            throw .wrongType("auth0Id", expected: "at most \(Self.maxIDLength) bytes long")
        }
        self.init(
            auth0ID: id,
            email: try object.string("email"),
            name: try object.string("name"),
            picture: try object.string("picture"),
            emailVerified: try object.bool("emailVerified"),
            loginsCount: try object.int("loginsCount"),
            ip: try object.string("ip"),
            userAgent: try object.string("userAgent"),
            transactionProtocol: try object.string("protocol")
        )
    }
}

/// What a login sync did.
public struct UserLoginResult: Sendable, Equatable {
    /// Inlet's id of the user row.
    public let userID: Int64
    /// Whether this login created the user.
    public let created: Bool
    /// The `auth0.user.login` event appended in the same transaction.
    public let eventID: String

    package init(userID: Int64, created: Bool, eventID: String) {
        self.userID = userID
        self.created = created
        self.eventID = eventID
    }
}
