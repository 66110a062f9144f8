internal import Foundation

/// The queue between the callers of a ``WorkerThread`` and its loop: callers append, the
/// worker takes what is waiting, oldest first, and ends once the queue is closed and empty.
///
/// Closing refuses every later item but leaves the queued ones for the worker to finish.
/// ``refuseAll()`` refuses later items too and hands the queued ones back to the caller to
/// answer (an executor that failed for good); the worker keeps waiting until ``close()``.
/// A refused ``append(_:)`` returns false, so a caller never waits on an item that no one
/// will take.
///
/// ```swift
/// let jobs = WorkQueue<Job>()
/// try worker.start {
///     while let batch = jobs.next(max: 64) { run(batch) }   // nil: closed and empty
/// }
/// if !jobs.append(job) { job.reject(closedError) }
/// jobs.close()
/// ```
public final class WorkQueue<Item: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `items`, `closed` and `refusing` are guarded by `condition`.
    private let condition = NSCondition()
    private var items: [Item] = []
    private var closed = false
    private var refusing = false

    public init() {}

    /// Queues `item` and wakes the worker; false (nothing queued) once the queue is closed
    /// or refusing.
    public func append(_ item: Item) -> Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        guard !self.refusing else { return false }
        self.items.append(item)
        self.condition.signal()
        return true
    }

    /// Queues `items` together; false (nothing queued) once the queue is closed or refusing.
    public func append(contentsOf items: [Item]) -> Bool {
        self.condition.lock()
        defer { self.condition.unlock() }
        guard !self.refusing else { return false }
        self.items += items
        self.condition.signal()
        return true
    }

    /// For the worker: waits until an item is queued or the queue is closed, then removes
    /// and returns up to `max` items, oldest first; nil once the queue is closed and empty.
    public func next(max: Int = .max) -> [Item]? {
        precondition(max > 0)
        self.condition.lock()
        defer { self.condition.unlock() }
        while self.items.isEmpty && !self.closed { self.condition.wait() }
        if self.items.isEmpty { return nil }
        guard max < self.items.count else {
            defer { self.items = [] }
            return self.items
        }
        let taken = Array(self.items.prefix(max))
        self.items.removeFirst(max)
        return taken
    }

    /// Refuses every later item; ``next(max:)`` still returns the queued ones, then nil.
    public func close() {
        self.condition.lock()
        self.closed = true
        self.refusing = true
        self.condition.broadcast()
        self.condition.unlock()
    }

    /// Refuses every later item and removes the queued ones, returned oldest first. The
    /// queue is not closed: ``next(max:)`` waits until ``close()``.
    public func refuseAll() -> [Item] {
        self.condition.lock()
        defer { self.condition.unlock() }
        self.refusing = true
        let items = self.items
        self.items = []
        return items
    }
}
