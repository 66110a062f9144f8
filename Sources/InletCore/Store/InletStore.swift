/// Where Inlet keeps events and their deliveries: the one way to storage for everything
/// above it (the intake, the dispatcher, the admin API, the command line). `InletSQLite`
/// implements it; nothing above the store knows which implementation runs.
///
/// Every method that changes state returns only after the change is durable.
package protocol InletStore: Sendable {
    /// Appends events in one transaction, each with one delivery per handler it names; a
    /// repeated `(source, id)` is a duplicate and plans nothing.
    func appendEvents(_ events: [NewEvent]) async throws -> [AppendResult]

    /// Upserts the user of `login` (keyed on the Auth0 id) and appends `event` (the
    /// login's) with its deliveries, in one transaction.
    func recordLogin(_ login: UserLogin, event: NewEvent) async throws -> UserLoginResult

    /// Claims up to `limit` due (or lease-expired) deliveries of `handler`, each under a
    /// lease with a fresh token, never one of `excluding` (still running here); when none
    /// is due, says when the next one will be. A delivery claimed `maxAttempts` times with
    /// no outcome (the process died running it) is dead-lettered instead.
    func claimDue(
        handler: String, limit: Int, leaseSeconds: Double, maxAttempts: Int, excluding: Set<Int64>
    ) async throws -> (claims: [Claim], nextDue: Timestamp?)

    /// Records the outcomes of claimed deliveries, with their audit rows, in one
    /// transaction; only claims that still hold their lease count. Returns the deliveries
    /// whose lease was lost: their outcomes were discarded.
    @discardableResult
    func complete(_ completions: [Completion]) async throws -> [Int64]

    /// Extends the leases of claims still running; returns the deliveries whose lease was
    /// already lost (claimed again or replayed meanwhile).
    @discardableResult
    func renewLeases(_ claims: [Claim], leaseSeconds: Double) async throws -> [Int64]

    /// Resets every delivery of an event to due now; nil when there is no such event.
    func replay(eventID id: String) async throws -> Int?

    /// Resets every dead delivery to due now; returns how many.
    func replayDead() async throws -> Int

    func listEvents(state: DeliveryState?, type: String?, limit: Int) async throws -> [EventRecord]

    func eventRecord(id: String) async throws -> EventRecord?

    /// Deliveries pending or running, and the due time of the oldest pending one; without a
    /// scan of the backlog.
    func queueStatus() async throws -> (depth: Int, oldestPendingMs: Int64?)

    /// Deletes up to `limit` events received before `cutoff` whose deliveries are all done
    /// (with `includingDead`, done or dead), with their deliveries and audit rows; returns
    /// how many events went.
    func purgeEvents(receivedBefore cutoff: Timestamp, includingDead: Bool, limit: Int) async throws -> Int

    /// Succeeds when a write can be committed now (readiness).
    func checkWritable() async throws

    /// The error that stopped the store for good (its storage failed; nothing more can be
    /// acknowledged), or nil while it works.
    var failure: (any Error)? { get }

    /// Returns the error that stops the store, when it happens; nil if the calling task
    /// is cancelled first.
    func waitForFailure() async -> (any Error)?

    /// Runs until the calling task is cancelled, calling `wake` with the handlers that
    /// another process sharing the database planned deliveries for (nil: any handler may
    /// have some). A store that one process writes never calls it.
    func watchForWork(_ wake: @escaping @Sendable ([String]?) -> Void) async

    /// Finishes queued work and releases the database.
    func close() async
}

extension InletStore {
    /// A store that one process writes: nothing to watch; returns when cancelled.
    package func watchForWork(_ wake: @escaping @Sendable ([String]?) -> Void) async {
        await waitUntilCancelled()
    }

    /// Appends one event (``appendEvents(_:)`` of one).
    package func appendEvent(
        source: EventSource, id: String, type: EventType, payload: String, handlers: [String]
    ) async throws -> AppendResult {
        try await self.appendEvents([NewEvent(source: source, id: id, type: type, payload: payload, handlers: handlers)])[0]
    }
}

/// Everything a storage backend provides: events and deliveries, users, employees.
package typealias StoreBackend = InletStore & UserStore & EmployeeStore & Auth0UserSync

/// Returns when the calling task is cancelled.
package func waitUntilCancelled() async {
    let (stream, continuation) = AsyncStream<Never>.makeStream()
    await withTaskCancellationHandler {
        for await _ in stream {}
    } onCancel: {
        continuation.finish()
    }
}
