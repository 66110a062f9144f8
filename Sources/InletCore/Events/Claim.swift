/// A delivery claimed by a worker: run the handler on `event`, then report the outcome.
///
/// The claim's `token` fences it: the store records its outcome, or renews its lease, only
/// while no later claim (after the lease expired) or replay has taken the delivery over.
package struct Claim: Sendable {
    package let deliveryID: Int64
    /// Unique to this claim of the delivery.
    package let token: Int64
    /// This attempt's number, 1 for the first.
    package let attempt: Int
    package let event: Event

    package init(deliveryID: Int64, token: Int64, attempt: Int, event: Event) {
        self.deliveryID = deliveryID
        self.token = token
        self.attempt = attempt
        self.event = event
    }
}
