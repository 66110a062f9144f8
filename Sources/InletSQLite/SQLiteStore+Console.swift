public import InletCore

/// The operator console's reads and the handler pause (being implemented).
extension SQLiteStore {
    package func handlerCounts() async throws -> [HandlerQueueCounts] { throw EventQueryError("not implemented yet") }
    package func activity(since: Timestamp, bucketSeconds: Int) async throws -> [ActivityBucket] { throw EventQueryError("not implemented yet") }
    package func deadLetterGroups(limit: Int) async throws -> [DeadLetterGroup] { throw EventQueryError("not implemented yet") }
    package func setPaused(_ paused: Bool, handler: String) async throws { throw EventQueryError("not implemented yet") }
    package func pausedHandlers() async throws -> Set<String> { throw EventQueryError("not implemented yet") }
    public func recentLogins(limit: Int) async throws -> [UserRecord] { throw EventQueryError("not implemented yet") }
    public func listEmployees(status: Auth0SyncStatus?, after: String?, limit: Int) async throws -> [EmployeeRecord] { throw EventQueryError("not implemented yet") }
}
