/// What the Auth0 log-stream intake and the reconciler write: events with the user changes
/// they carry, and tenant snapshots, each applied with ``UserAgreement`` inside the store's
/// transaction so that the channels agree.
///
/// ```swift
/// let results = try await store.appendAuth0Logs(events, changes: changes)
/// ```
package protocol Auth0UserSync: Sendable {
    /// Appends `events` in one transaction (a repeated `(source, id)` is a duplicate, as in
    /// ``InletStore/appendEvents(_:)``) and, in the same transaction, applies the change of
    /// each event that was new (`changes[i]` belongs to `events[i]`), in date order per user.
    func appendAuth0Logs(_ events: [NewEvent], changes: [Auth0UserChange?]) async throws -> [AppendResult]

    /// Applies the tenant's `users` and stores `cursor` (the reconciler's resume point) in
    /// one transaction; says how many rows were created, updated and left alone.
    func reconcileUsers(_ users: [Auth0UserSnapshot], cursor: String) async throws -> ReconcileCounts

    /// The cursor the last ``reconcileUsers(_:cursor:)`` stored; nil before the first.
    func reconcileCursor() async throws -> String?
}

extension Auth0UserSync {
    /// The `store_meta` key of the reconciler's cursor.
    package static var reconcileCursorKey: String { "auth0.reconcile.cursor" }

    /// The changes of new events, in the order a store applies them: per user, by date
    /// (a batch may hold one user's entries in any order).
    package static func changesToApply(_ changes: [Auth0UserChange?], results: [AppendResult]) -> [Auth0UserChange] {
        zip(changes, results).compactMap { change, result in result.duplicate ? nil : change }
            .enumerated().sorted { lhs, rhs in
                (lhs.element.auth0ID, lhs.element.at, lhs.offset) < (rhs.element.auth0ID, rhs.element.at, rhs.offset)
            }.map(\.element)
    }
}
