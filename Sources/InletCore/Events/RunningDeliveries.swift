internal import Synchronization

/// The claims one worker is running now.
final class RunningDeliveries: Sendable {
    private let claims = Mutex<[Int64: Claim]>([:])

    func insert(_ claim: Claim) { self.claims.withLock { $0[claim.deliveryID] = claim } }
    func remove(_ id: Int64) { self.claims.withLock { _ = $0.removeValue(forKey: id) } }
    var all: [Claim] { self.claims.withLock { Array($0.values) } }
    var ids: Set<Int64> { self.claims.withLock { Set($0.keys) } }
}
