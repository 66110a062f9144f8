internal import Synchronization

/// Runs `body` and returns its result, or throws `timeoutError()` once `timeout` has passed
/// without one, cancelling `body` (which may be waiting on a connection that will never
/// answer: a network partition sends no reset). A caller that is cancelled gets a
/// `CancellationError` at once. `body` runs in a task of its own, so that nothing it
/// waits on can hold the caller past the deadline.
func withDeadline<T: Sendable>(
    _ timeout: Duration, timeoutError: @escaping @Sendable () -> any Error, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = Race<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            race.start(continuation)
            let work = Task {
                let result: Result<T, any Error>
                do { result = .success(try await body()) } catch { result = .failure(error) }
                race.finish(result)
            }
            let timer = Task {
                try await Task.sleep(for: timeout)
                race.finish(.failure(timeoutError()))
            }
            race.attach(work: work, timer: timer)
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// The first of a call's result, its deadline and its caller's cancellation: resumes the
/// caller once, then cancels whichever tasks are still running.
private final class Race<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        /// A result that came before the continuation was stored (cancelled at once).
        var early: Result<T, any Error>?
        var finished = false
        var tasks: [Task<Void, any Error>] = []
        var work: Task<Void, Never>?
    }

    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<T, any Error>) {
        let early = self.state.withLock { state -> Result<T, any Error>? in
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func attach(work: Task<Void, Never>, timer: Task<Void, any Error>) {
        let finished = self.state.withLock { state in
            state.work = work
            state.tasks = [timer]
            return state.finished
        }
        if finished {
            work.cancel()
            timer.cancel()
        }
    }

    func finish(_ result: Result<T, any Error>) {
        let (continuation, work, tasks) = self.state.withLock { state -> (CheckedContinuation<T, any Error>?, Task<Void, Never>?, [Task<Void, any Error>]) in
            guard !state.finished else { return (nil, nil, []) }
            state.finished = true
            if state.continuation == nil { state.early = result }
            defer { state.continuation = nil }
            return (state.continuation, state.work, state.tasks)
        }
        continuation?.resume(with: result)
        work?.cancel()
        for task in tasks { task.cancel() }
    }
}
