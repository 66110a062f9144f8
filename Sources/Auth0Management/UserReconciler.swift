package import InletCore
package import Logging

/// Closes whatever gap the Post-Login Action and the log stream left: pages through the
/// tenant's users changed since the last run (`GET /api/v2/users`, oldest change first)
/// and applies each to Inlet's users (``Auth0UserSync/reconcileUsers(_:cursor:)``, which
/// creates the missing and updates the stale with ``UserAgreement``).
///
/// The cursor (the last `updated_at` taken in, and the ids taken in at exactly that time)
/// is committed with each page, so a run that stops half-way (a crash, an outage) resumes
/// where it stopped and counts nobody twice. Auth0 returns at most
/// ``ManagementClient/searchResultLimit`` results per query, so the query moves forward
/// with the cursor (`updated_at:[CURSOR TO *]`) instead of paging past that limit. Calls go
/// through the client's token manager and rate limiter (a 429 is waited out there), so a
/// run takes its turn with provisioning. Each completed run is an
/// `inlet.reconcile.completed` event with its counts (the audit handler records it).
///
/// ```swift
/// let counts = try await UserReconciler(client: client, store: store, intake: intake, logger: logger).run()
/// ```
package struct UserReconciler: Sendable {
    let client: ManagementClient
    let store: any Auth0UserSync
    let intake: EventIntake?
    let perPage: Int
    let logger: Logger

    package init(client: ManagementClient, store: any Auth0UserSync, intake: EventIntake?, perPage: Int = 100, logger: Logger) {
        self.client = client
        self.store = store
        self.intake = intake
        self.perPage = min(max(perPage, 1), 100)
        self.logger = logger
    }

    /// Where a run resumes: the newest `updated_at` taken in and the users taken in at it.
    struct Cursor: Equatable {
        var time: Timestamp?
        var seen: Set<String> = []

        init(time: Timestamp?, seen: Set<String> = []) {
            self.time = time
            self.seen = seen
        }

        init(text: String?) {
            guard let text, let value = try? JSONDocument.parse(text).root.value else { return }
            self.time = value["updated_at"]?.stringValue.flatMap(Timestamp.init(rfc3339:))
            if case .array(let ids)? = value["seen"] { self.seen = Set(ids.compactMap(\.stringValue)) }
        }

        var text: String {
            let value: JSONValue = ["updated_at": .string(self.time?.description), "seen": .array(self.seen.sorted().map { .string($0) })]
            return value.serializedString
        }

        /// After `users` (one page, in `updated_at` order) are taken in.
        func advanced(past users: [Auth0UserSnapshot]) -> Cursor {
            guard let last = users.last?.updatedAt else { return self }
            let atLast = users.filter { $0.updatedAt == last }.map(\.auth0ID)
            return last == self.time ? Cursor(time: last, seen: self.seen.union(atLast)) : Cursor(time: last, seen: Set(atLast))
        }
    }

    /// One run, to the newest change; returns its counts.
    @discardableResult
    package func run() async throws -> ReconcileCounts {
        var cursor = Cursor(text: try await self.store.reconcileCursor())
        let started = cursor.time
        var page = 0
        var pages = 0
        var counts = ReconcileCounts()
        // Bounded: every pass either ends the run, moves the cursor, or moves to a further
        // page of one `updated_at` (at most searchResultLimit / perPage of those).
        while true {
            let users = try await self.client.usersUpdated(since: cursor.time, page: page, perPage: self.perPage)
            let fresh = users.filter { !($0.updatedAt == cursor.time && cursor.seen.contains($0.auth0ID)) }
            let next = cursor.advanced(past: users)
            counts = counts + (try await self.store.reconcileUsers(fresh, cursor: next.text))
            pages += 1
            if users.count < self.perPage { break }
            if next.time != cursor.time {
                page = 0
            } else {
                page += 1
                guard (page + 1) * self.perPage <= ManagementClient.searchResultLimit else {
                    throw ManagementError.invalidResponse(
                        "more than \(ManagementClient.searchResultLimit) users share the updated_at \(next.time?.description ?? "-"); the reconciler cannot page past them",
                        status: 200, operation: "GET /api/v2/users"
                    )
                }
            }
            cursor = next
        }
        self.logger.info(
            "reconcile completed",
            metadata: [
                "created": "\(counts.created)", "updated": "\(counts.updated)", "unchanged": "\(counts.unchanged)", "pages": "\(pages)",
            ]
        )
        if let intake = self.intake {
            let payload: JSONValue = [
                "created": .int(counts.created), "updated": .int(counts.updated), "unchanged": .int(counts.unchanged), "pages": .int(pages),
                "since": .string(started?.description), "tenant": .string(self.client.settings.domain),
            ]
            _ = try await intake.receive(
                NewEvent(source: .inlet, id: intake.newEventID(), type: .reconcileCompleted, payload: payload.serializedString)
            )
        }
        return counts
    }
}
