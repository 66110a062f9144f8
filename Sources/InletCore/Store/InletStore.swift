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

    /// Claims up to `limit` due (or lease-expired) deliveries of `handler` (none while it is
    /// paused, ``setPaused(_:handler:)``: checked in the claim itself, so every instance
    /// sharing the database obeys), each under a
    /// lease with a fresh token, never one of `excluding` (still running here); when none
    /// is due, says when the next one will be. A delivery claimed `maxAttempts` times with
    /// no outcome (the process died running it) is dead-lettered instead.
    func claimDue(
        handler: String, limit: Int, leaseSeconds: Double, maxAttempts: Int, excluding: Set<Int64>
    ) async throws -> (claims: [Claim], nextDue: Timestamp?)

    /// Records the outcomes of claimed deliveries, with their audit rows and attempt rows
    /// (``Completion/attemptRecord(now:)``), in one transaction; only claims that still
    /// hold their lease count. Returns the deliveries
    /// whose lease was lost: their outcomes were discarded.
    @discardableResult
    func complete(_ completions: [Completion]) async throws -> [Int64]

    /// Extends the leases of claims still running; returns the deliveries whose lease was
    /// already lost (claimed again or replayed meanwhile).
    @discardableResult
    func renewLeases(_ claims: [Claim], leaseSeconds: Double) async throws -> [Int64]

    /// Resets every delivery of an event not running (only `handler`'s, when given) to due
    /// now with a fresh attempt budget; returns how many; nil when there is no such event.
    func replay(eventID id: String, handler: String?) async throws -> Int?

    /// Resets dead deliveries to due now with a fresh attempt budget: all of them, or
    /// those of `handler`, or of one ``DeadLetterGroup`` (`handler` and `errorKey`).
    /// Returns how many.
    func replayDead(handler: String?, errorKey: String?) async throws -> Int

    /// Events newest first, filtered and paged as ``EventQuery`` says, each with its
    /// deliveries (without attempt history); through indexes, never a scan of payloads.
    func searchEvents(_ query: EventQuery) async throws -> EventPage

    /// The event with `id` (the first stored, if several sources used it), with its
    /// deliveries, their attempt history and its stored headers.
    func eventRecord(id: String) async throws -> EventRecord?

    /// Per handler with deliveries (or paused): pending, running and dead counts, the due
    /// time of its oldest pending delivery, and whether it is paused.
    func handlerCounts() async throws -> [HandlerQueueCounts]

    /// Events received and deliveries done since `since`, in slices of `bucketSeconds`,
    /// every slice up to now included (empty ones too).
    func activity(since: Timestamp, bucketSeconds: Int) async throws -> [ActivityBucket]

    /// Dead deliveries grouped by handler and normalised error
    /// (``DeadLetterGroup/errorKey(_:)``), largest groups first.
    func deadLetterGroups(limit: Int) async throws -> [DeadLetterGroup]

    /// Pauses or resumes `handler` for every instance sharing the database, persisted:
    /// while paused, ``claimDue(handler:limit:leaseSeconds:maxAttempts:excluding:)`` claims
    /// nothing for it and its deliveries stay pending.
    func setPaused(_ paused: Bool, handler: String) async throws

    /// The handlers paused now.
    func pausedHandlers() async throws -> Set<String>

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

    /// Every delivery of an event (``replay(eventID:handler:)`` for all handlers).
    package func replay(eventID id: String) async throws -> Int? {
        try await self.replay(eventID: id, handler: nil)
    }

    /// Every dead delivery (``replayDead(handler:errorKey:)`` of all).
    package func replayDead() async throws -> Int {
        try await self.replayDead(handler: nil, errorKey: nil)
    }

    /// The first page of events newest first, optionally those with a delivery in `state`
    /// or of `type` (``searchEvents(_:)``).
    package func listEvents(state: DeliveryState? = nil, type: String? = nil, limit: Int = 50) async throws -> [EventRecord] {
        try await self.searchEvents(EventQuery(type: type, state: state, limit: limit)).records
    }

    /// Appends one event (``appendEvents(_:)`` of one).
    package func appendEvent(
        source: EventSource, id: String, type: EventType, payload: String, handlers: [String]
    ) async throws -> AppendResult {
        try await self.appendEvents([NewEvent(source: source, id: id, type: type, payload: payload, handlers: handlers)])[0]
    }
}

/// Everything a storage backend provides: events and deliveries, users, employees.
package typealias StoreBackend = InletStore & UserStore & EmployeeStore

/// Returns when the calling task is cancelled.
package func waitUntilCancelled() async {
    let (stream, continuation) = AsyncStream<Never>.makeStream()
    await withTaskCancellationHandler {
        for await _ in stream {}
    } onCancel: {
        continuation.finish()
    }
}
