package import Logging
public import ServiceLifecycle

/// Deletes finished events older than the retention period, with their deliveries and
/// audit rows, off the request path: a `Service` that purges at start and then every
/// `interval`, in small batches so that the writer is never held for long.
///
/// Only events whose deliveries are all done go; an event with a dead delivery stays
/// until it is replayed or purged by an operator (`inlet purge --dead`), and one with work
/// still pending stays until it finishes. Under steady traffic the database then stops
/// growing: SQLite reuses the pages the deletes free.
///
/// ```swift
/// let retention = Retention(store: store, days: 30, logger: logger)
/// let removed = try await retention.purgeOnce()
/// ```
public struct Retention: Service {
    let store: any InletStore
    let days: Int
    let clock: WallClock
    let interval: Duration
    let batchSize: Int
    let logger: Logger

    package init(
        store: any InletStore, days: Int, clock: WallClock = .system, interval: Duration = .seconds(600), batchSize: Int = 500,
        logger: Logger
    ) {
        self.store = store
        self.days = days
        self.clock = clock
        self.interval = interval
        self.batchSize = max(1, batchSize)
        self.logger = logger
    }

    /// Deletes every finished event received more than `days` ago; returns how many went.
    @discardableResult
    public func purgeOnce() async throws -> Int {
        guard self.days > 0 else { return 0 }
        let removed = try await purgeFinished(
            self.store, olderThanDays: self.days, includingDead: false, clock: self.clock, batchSize: self.batchSize
        )
        if removed > 0 {
            self.logger.info("retention: finished events deleted", metadata: ["events": "\(removed)", "older_than_days": "\(self.days)"])
        }
        return removed
    }

    public func run() async throws {
        guard self.days > 0 else {
            try? await gracefulShutdown()
            return
        }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await self.purgeOnce()
            } catch {
                self.logger.warning("retention: cannot delete old events; will try again", metadata: ["error": "\(error)"])
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            } catch {
                return
            }
        }
    }
}

/// Deletes the events received more than `days` ago whose deliveries are all finished
/// (done, and with `includingDead` dead too), batch after batch; returns how many went.
/// `inlet purge --dead` and its admin route call it.
/// Each batch is its own short transaction, so ingestion is never held for long.
package func purgeFinished(
    _ store: any InletStore, olderThanDays days: Int, includingDead: Bool, clock: WallClock = .system, batchSize: Int = 500
) async throws -> Int {
    let cutoff = Timestamp(millisecondsSinceEpoch: max(0, clock.now().adding(seconds: -Double(days) * 86_400).millisecondsSinceEpoch))
    var removed = 0
    for _ in 0..<1_000_000 {
        let count = try await store.purgeEvents(receivedBefore: cutoff, includingDead: includingDead, limit: batchSize)
        removed += count
        if count < batchSize { break }
        await Task.yield()
    }
    return removed
}
