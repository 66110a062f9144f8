internal import InletCore
internal import Logging
internal import Synchronization

/// Whether the database takes a write now, for `/readyz`: one write a second at most,
/// whatever the rate of probes (a flood of them must not become a flood of commits); a
/// store stopped by an I/O error fails at once, without a write.
final class WritableCheck: Sendable {
    private let store: any InletStore
    /// The last answer and when it was taken (monotonic time: this paces probes, it is not
    /// domain time).
    private let last = Mutex<(writable: Bool, at: ContinuousClock.Instant)?>(nil)

    init(store: any InletStore) {
        self.store = store
    }

    func check(logger: Logger) async -> Bool {
        if self.store.failure != nil { return false }
        let now = ContinuousClock.now
        if let last = self.last.withLock({ $0 }), now - last.at < .seconds(1) { return last.writable }
        var writable = true
        do {
            try await self.store.checkWritable()
        } catch {
            logger.warning("not ready: database not writable", metadata: ["error": "\(error)"])
            writable = false
        }
        self.last.withLock { $0 = (writable, now) }
        return writable
    }
}
