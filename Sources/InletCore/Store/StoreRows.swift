/// The rows of a store's tables, column for column and as stored, for moving a database
/// from one backend to another (`inlet copy`): one backend exports them, the other imports
/// them, and neither sees the other's SQL.
///
/// Keys are kept (an event's `seq`, a delivery's `id`), so deliveries and audit rows keep
/// pointing at their events. Timestamps are the stored text (``Timestamp/description``),
/// except a delivery's due time and lease end, which are milliseconds since the epoch.
///
/// ```swift
/// let events = try await snapshot.events(after: lastSeq, limit: 1000)
/// try await importer.insert(events)
/// ```
package enum StoreRows {
    /// A row of `users`.
    package struct User: Sendable, Equatable {
        package var id: Int64
        package var auth0ID: String
        package var email: String?
        package var name: String?
        package var picture: String?
        package var emailVerified: Bool
        package var loginsCount: Int
        package var auth0LoginsCount: Int?
        package var lastLoginAt: String?
        package var lastIP: String?
        package var createdAt: String
        package var updatedAt: String

        package init(
            id: Int64, auth0ID: String, email: String?, name: String?, picture: String?, emailVerified: Bool, loginsCount: Int,
            auth0LoginsCount: Int?, lastLoginAt: String?, lastIP: String?, createdAt: String, updatedAt: String
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
            self.createdAt = createdAt
            self.updatedAt = updatedAt
        }
    }

    /// A row of `employees`, with its Auth0 columns and its version.
    package struct Employee: Sendable, Equatable {
        package var employeeID: String
        package var name: String
        package var email: String
        package var department: String
        package var phoneNumber: String?
        package var connecteamID: String?
        package var roleCode: String?
        package var employeeIDIsNumber: Bool
        package var auth0UserID: String?
        package var auth0SyncStatus: String
        package var auth0AccountCreatedAt: String?
        package var auth0Email: String?
        package var assignedRole: String?
        package var roleAssignedAt: String?
        package var blocked: Bool
        package var lastError: String?
        package var auth0CreateEmail: String?
        package var auth0CreateAttemptedAt: String?
        /// The event the row's values came from: its `occurred_at` (ms) and its `seq`.
        package var versionOccurredAt: Int64?
        package var versionSeq: Int64?
        package var createdAt: String
        package var updatedAt: String

        package init(
            employeeID: String, name: String, email: String, department: String, phoneNumber: String?, connecteamID: String?,
            roleCode: String?, employeeIDIsNumber: Bool, auth0UserID: String?, auth0SyncStatus: String, auth0AccountCreatedAt: String?,
            auth0Email: String?, assignedRole: String?, roleAssignedAt: String?, blocked: Bool, lastError: String?,
            auth0CreateEmail: String?, auth0CreateAttemptedAt: String?, versionOccurredAt: Int64?, versionSeq: Int64?,
            createdAt: String, updatedAt: String
        ) {
            self.employeeID = employeeID
            self.name = name
            self.email = email
            self.department = department
            self.phoneNumber = phoneNumber
            self.connecteamID = connecteamID
            self.roleCode = roleCode
            self.employeeIDIsNumber = employeeIDIsNumber
            self.auth0UserID = auth0UserID
            self.auth0SyncStatus = auth0SyncStatus
            self.auth0AccountCreatedAt = auth0AccountCreatedAt
            self.auth0Email = auth0Email
            self.assignedRole = assignedRole
            self.roleAssignedAt = roleAssignedAt
            self.blocked = blocked
            self.lastError = lastError
            self.auth0CreateEmail = auth0CreateEmail
            self.auth0CreateAttemptedAt = auth0CreateAttemptedAt
            self.versionOccurredAt = versionOccurredAt
            self.versionSeq = versionSeq
            self.createdAt = createdAt
            self.updatedAt = updatedAt
        }
    }

    /// A row of `events`: the event as handlers see it.
    package typealias Event = InletCore.Event

    /// A row of `deliveries`, in whatever state it is, with its lease.
    package struct Delivery: Sendable, Equatable {
        package var id: Int64
        package var eventSeq: Int64
        package var handler: String
        package var state: DeliveryState
        package var attempts: Int
        /// When it is due (pending) or its lease ends (running), ms since the epoch.
        package var nextAttemptAt: Int64
        package var leaseUntil: Int64?
        package var leaseToken: Int64?
        package var lastError: String?
        /// `permanent` or `exhausted`, for a dead delivery.
        package var deadReason: String?
        package var createdAt: String
        package var updatedAt: String
        /// A dead delivery's normalised error (``DeadLetterGroup/errorKey(_:)``).
        package var errorKey: String?

        package init(
            id: Int64, eventSeq: Int64, handler: String, state: DeliveryState, attempts: Int, nextAttemptAt: Int64, leaseUntil: Int64?,
            leaseToken: Int64?, lastError: String?, deadReason: String?, createdAt: String, updatedAt: String, errorKey: String? = nil
        ) {
            self.id = id
            self.eventSeq = eventSeq
            self.handler = handler
            self.state = state
            self.attempts = attempts
            self.nextAttemptAt = nextAttemptAt
            self.leaseUntil = leaseUntil
            self.leaseToken = leaseToken
            self.lastError = lastError
            self.deadReason = deadReason
            self.createdAt = createdAt
            self.updatedAt = updatedAt
            self.errorKey = errorKey
        }
    }

    /// The stored headers of an event (`events.headers`, a JSON object), for the events
    /// that have some.
    package struct EventHeaders: Sendable, Equatable {
        package var eventSeq: Int64
        package var headers: String

        package init(eventSeq: Int64, headers: String) {
            self.eventSeq = eventSeq
            self.headers = headers
        }
    }

    /// A row of `event_subjects`.
    package struct Subject: Sendable, Equatable {
        package var subject: String
        package var eventSeq: Int64

        package init(subject: String, eventSeq: Int64) {
            self.subject = subject
            self.eventSeq = eventSeq
        }
    }

    /// A row of `delivery_attempts` (times in ms since the epoch), exported in key order
    /// (event, delivery, start, attempt); the destination numbers them anew.
    package struct Attempt: Sendable, Equatable {
        package var eventSeq: Int64
        package var record: AttemptRecord

        package init(eventSeq: Int64, record: AttemptRecord) {
            self.eventSeq = eventSeq
            self.record = record
        }
    }

    /// A row of `handler_pauses`.
    package struct Pause: Sendable, Equatable {
        package var handler: String
        package var pausedAt: String

        package init(handler: String, pausedAt: String) {
            self.handler = handler
            self.pausedAt = pausedAt
        }
    }

    /// A row of `audit_log`.
    package struct Audit: Sendable, Equatable {
        package var id: Int64
        package var at: String
        package var eventSeq: Int64?
        package var eventID: String?
        package var eventType: String?
        package var handler: String?
        package var outcome: String
        package var detail: String?

        package init(
            id: Int64, at: String, eventSeq: Int64?, eventID: String?, eventType: String?, handler: String?, outcome: String, detail: String?
        ) {
            self.id = id
            self.at = at
            self.eventSeq = eventSeq
            self.eventID = eventID
            self.eventType = eventType
            self.handler = handler
            self.outcome = outcome
            self.detail = detail
        }
    }

    /// How many rows of each table a copy moved.
    package struct Counts: Sendable, Equatable {
        package var users = 0
        package var employees = 0
        package var events = 0
        package var deliveries = 0
        package var auditRows = 0
        package var eventHeaders = 0
        package var subjects = 0
        package var attempts = 0
        package var pauses = 0

        package init() {}
    }
}
