internal import Synchronization

/// Records one worker's delivery outcomes in batches: while one batch commits the next
/// gathers, so a busy handler costs one store job per batch, not one per delivery.
final class CompletionBatcher: Sendable {
    private struct State {
        var waiting: [(Completion, CheckedContinuation<Bool, any Error>)] = []
        var flushing = false
    }

    private let store: any InletStore
    private let state = Mutex(State())

    init(store: any InletStore) {
        self.store = store
    }

    /// Returns once `completion` is committed: true when it was recorded, false when its
    /// claim had lost the lease and it was discarded.
    func record(_ completion: Completion) async throws -> Bool {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Bool, any Error>) in
            let startFlush = self.state.withLock { state -> Bool in
                state.waiting.append((completion, continuation))
                defer { state.flushing = true }
                return !state.flushing
            }
            if startFlush {
                Task { await self.flush() }
            }
        }
    }

    /// Commits what is waiting, batch after batch, until nothing is.
    private func flush() async {
        while true {
            let batch = self.state.withLock { state in
                defer { state.waiting = [] }
                if state.waiting.isEmpty { state.flushing = false }
                return state.waiting
            }
            if batch.isEmpty { return }
            do {
                let lost = Set(try await self.store.complete(batch.map(\.0)))
                for (completion, continuation) in batch { continuation.resume(returning: !lost.contains(completion.claim.deliveryID)) }
            } catch {
                for (_, continuation) in batch { continuation.resume(throwing: error) }
            }
        }
    }
}
