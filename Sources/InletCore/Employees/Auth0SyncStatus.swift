internal import Foundation

/// Where an employee's Auth0 account stands (`employees.auth0_sync_status`).
public enum Auth0SyncStatus: String, Sendable, CaseIterable {
    /// Known, no account yet.
    case pending
    /// Inlet created the account.
    case created
    /// An account with the employee's email already existed and was linked.
    case linked
    /// The employee logged in with a verified email.
    case verified
    /// Provisioning failed permanently (see `last_error`).
    case failed
}
