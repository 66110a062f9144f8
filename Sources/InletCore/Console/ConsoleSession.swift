/// One signed-in console session as stored: never the session id itself, only its hash.
package struct ConsoleSession: Sendable, Equatable {
    /// Lower-case hex SHA-256 of the session id (the cookie's value).
    package let idHash: String
    /// Lower-case hex HMAC of the admin token the session was opened with.
    package let tokenFingerprint: String
    package let createdAt: Timestamp
    package let expiresAt: Timestamp

    package init(idHash: String, tokenFingerprint: String, createdAt: Timestamp, expiresAt: Timestamp) {
        self.idHash = idHash
        self.tokenFingerprint = tokenFingerprint
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}
