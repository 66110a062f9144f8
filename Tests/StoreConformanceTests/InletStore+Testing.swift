import InletCore

/// Shorthands of the conformance tests: the store protocols take every argument.
extension InletStore {
    /// ``claimDue(handler:limit:leaseSeconds:maxAttempts:excluding:)`` with no attempt bound
    /// and nothing excluded, returning the claims only.
    func claim(_ handler: String, limit: Int = 10, leaseSeconds: Double = 60, maxAttempts: Int = .max, excluding: Set<Int64> = []) async throws -> [Claim] {
        try await self.claimDue(handler: handler, limit: limit, leaseSeconds: leaseSeconds, maxAttempts: maxAttempts, excluding: excluding).claims
    }

    /// Appends one event from `productivity` of type `employee.created`.
    @discardableResult
    func append(_ id: String, handlers: [String], source: EventSource = .productivity, type: EventType = .employeeCreated, payload: String = "{}")
        async throws -> AppendResult
    {
        try await self.appendEvent(source: source, id: id, type: type, payload: payload, handlers: handlers)
    }

    /// Completes `claims` with one outcome, auditing it.
    @discardableResult
    func finish(_ claims: [Claim], handler: String, _ outcome: DeliveryOutcome = .done) async throws -> [Int64] {
        try await self.complete(claims.map { Completion(claim: $0, handler: handler, outcome: outcome, auditOutcome: true) })
    }

    /// The deliveries of the event `id` (none when there is no such event).
    func deliveries(of id: String) async throws -> [DeliveryRecord] {
        try await self.eventRecord(id: id)?.deliveries ?? []
    }
}
