public import CoreMetrics
public import Logging
public import ServiceLifecycle
internal import Synchronization

/// Runs every committed delivery through its handler: the long-running half of the
/// pipeline, as a swift-service-lifecycle `Service`.
///
/// One worker per handler claims due deliveries from the store under a lease, runs at
/// most `concurrency` of them at once, and records each outcome: done; a transient
/// failure retried after a full-jitter backoff (or the handler's retry-after); a
/// permanent failure, or the last allowed attempt, dead-lettered. Everything it knows
/// comes from the store, so deliveries abandoned by a crash are taken back once their
/// lease expires, on start-up and on every poll. On graceful shutdown it claims nothing
/// new and lets running handlers finish.
///
/// ```swift
/// let dispatcher = Dispatcher(store: store, registry: registry, logger: logger)
/// let intake = EventIntake(store: store, registry: registry, dispatcher: dispatcher)
/// // the intake wakes the workers of the handlers it planned deliveries for
/// ```
public final class Dispatcher: Service, Sendable {
    public struct Options: Sendable {
        /// Longest wait between two looks at the store when nothing is known to be due.
        public var pollInterval: Duration = .seconds(1)
        /// Returns a number in [0, upperBound]: the jitter source, injected by tests.
        public var jitter: @Sendable (Double) -> Double = { Double.random(in: 0...max($0, 0)) }

        public init() {}
    }

    let store: any InletStore
    let registry: HandlerRegistry
    let logger: Logger
    let options: Options
    let clock: WallClock
    /// Whether delivery outcomes are written to the audit log: while a handler that
    /// ``EventHandler/recordsOutcomes`` runs.
    let auditOutcomes: Bool
    private let signals: [String: WakeSignal]
    private let metrics: DispatcherMetrics
    private let running = Atomic<Bool>(false)

    package init(
        store: any InletStore, registry: HandlerRegistry, logger: Logger, options: Options = Options(),
        clock: WallClock = .system, metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.store = store
        self.registry = registry
        self.logger = logger
        self.options = options
        self.clock = clock
        self.auditOutcomes = registry.active.contains { $0.handler.recordsOutcomes }
        self.signals = Dictionary(uniqueKeysWithValues: registry.active.map { ($0.name, WakeSignal()) })
        self.metrics = DispatcherMetrics(factory: metricsFactory)
    }

    /// Whether the workers are running (readiness).
    public var isRunning: Bool { self.running.load(ordering: .relaxed) }

    /// Tells the workers of `handlers` (all when nil) that new deliveries may be due.
    package func notify(_ handlers: [String]? = nil) {
        if let handlers {
            for name in handlers { self.signals[name]?.signal() }
        } else {
            for signal in self.signals.values { signal.signal() }
        }
    }

    public func run() async throws {
        self.running.store(true, ordering: .relaxed)
        defer { self.running.store(false, ordering: .relaxed) }
        guard !self.registry.active.isEmpty else {
            // Nothing to run; returning early would end the whole service group.
            try? await gracefulShutdown()
            return
        }
        await withTaskGroup(of: Void.self) { group in
            for entry in self.registry.active {
                group.addTask { await self.work(entry) }
            }
            await withGracefulShutdownHandler {
                await group.waitForAll()
            } onGracefulShutdown: {
                for signal in self.signals.values { signal.stop() }
            }
        }
    }

    private enum Step: Sendable {
        case delivered
        case woke
    }

    /// One handler's worker: claim, run within the concurrency limit, sleep until due.
    private func work(_ entry: HandlerRegistry.Active) async {
        guard let signal = self.signals[entry.name] else { return }
        let logger = {
            var logger = self.logger
            logger[metadataKey: "handler"] = "\(entry.name)"
            return logger
        }()
        let completions = CompletionBatcher(store: self.store)
        let instruments = self.metrics.instruments(handler: entry.name)
        let running = RunningDeliveries()
        let leases = Task { await self.keepLeases(of: running, options: entry.options, logger: logger) }
        defer { leases.cancel() }
        await withTaskGroup(of: Step.self) { group in
            var inFlight = 0
            var sleeping = false
            var woke = true
            while !signal.isStopped && !Task.isCancelled {
                var claimedAny = false
                var nextDue: Timestamp?
                // Claim when woken (new work, a timer), or to refill once half the slots are
                // free: claims then share transactions instead of costing one commit per
                // finished delivery.
                if inFlight < entry.options.concurrency && (woke || inFlight <= entry.options.concurrency / 2) {
                    woke = false
                    do {
                        let result = try await self.store.claimDue(
                            handler: entry.name, limit: entry.options.concurrency - inFlight, leaseSeconds: entry.options.leaseSeconds,
                            maxAttempts: entry.options.maxAttempts, excluding: running.ids
                        )
                        nextDue = result.nextDue
                        for claim in result.claims {
                            inFlight += 1
                            running.insert(claim)
                            group.addTask {
                                await self.deliver(claim, entry: entry, completions: completions, instruments: instruments, logger: logger)
                                running.remove(claim.deliveryID)
                                return .delivered
                            }
                        }
                        claimedAny = !result.claims.isEmpty
                    } catch {
                        logger.error("cannot claim deliveries; retrying", metadata: ["error": "\(error)"])
                    }
                }
                if claimedAny && inFlight < entry.options.concurrency {
                    woke = true  // more may be due right away
                    continue
                }
                if !sleeping && inFlight < entry.options.concurrency {
                    sleeping = true
                    let wait = self.waitDuration(until: nextDue)
                    group.addTask {
                        await signal.wait(for: wait)
                        return .woke
                    }
                }
                switch await group.next() {
                case .delivered?: inFlight -= 1
                case .woke?:
                    sleeping = false
                    woke = true
                case nil: break
                }
            }
            // Shutting down: claim nothing new; running deliveries finish.
            while let step = await group.next() {
                if case .delivered = step { inFlight -= 1 }
            }
        }
    }

    /// Renews the leases of `running` deliveries every third of the lease, until cancelled:
    /// a handler may run longer than its lease without its delivery being claimed again.
    private func keepLeases(of running: RunningDeliveries, options: HandlerOptions, logger: Logger) async {
        while true {
            do {
                try await Task.sleep(for: .seconds(options.leaseSeconds / 3))
            } catch {
                return  // cancelled: the worker ended
            }
            let claims = running.all
            guard !claims.isEmpty else { continue }
            do {
                let lost = try await self.store.renewLeases(claims, leaseSeconds: options.leaseSeconds)
                for id in lost {
                    logger.warning(
                        "delivery lease lost while its handler runs (claimed again or replayed); its outcome will be discarded",
                        metadata: ["delivery": "\(id)"]
                    )
                }
            } catch {
                logger.error("cannot renew delivery leases", metadata: ["error": "\(error)"])
            }
        }
    }

    private func waitDuration(until nextDue: Timestamp?) -> Duration {
        guard let nextDue else { return self.options.pollInterval }
        let milliseconds = max(0, nextDue.millisecondsSinceEpoch - self.clock.now().millisecondsSinceEpoch)
        return min(self.options.pollInterval, .milliseconds(milliseconds))
    }

    /// Runs one claimed delivery and records its outcome.
    private func deliver(
        _ claim: Claim, entry: HandlerRegistry.Active, completions: CompletionBatcher, instruments: HandlerInstruments?, logger: Logger
    ) async {
        let context = HandlerContext(logger: logger, attempt: claim.attempt, deliveryID: claim.deliveryID, clock: self.clock)
        let started = ContinuousClock.now
        let outcome: DeliveryOutcome
        do {
            try await entry.handler.handle(claim.event, context: context)
            outcome = .done
        } catch {
            outcome = self.failure(error, claim: claim, options: entry.options)
        }
        instruments?.record(outcome, duration: ContinuousClock.now - started)
        switch outcome {
        case .done: break
        case .retry(let at, let error):
            logger.notice("delivery failed; will retry", metadata: ["event": "\(claim.event.id)", "attempt": "\(claim.attempt)", "retry_at": "\(at)", "error": "\(error)"])
        case .dead(let error, let reason):
            logger.warning("delivery dead-lettered", metadata: ["event": "\(claim.event.id)", "attempt": "\(claim.attempt)", "reason": "\(reason.rawValue)", "error": "\(error)"])
        }
        do {
            // An attempt that succeeded and wrote its own audit rows (the audit handler's
            // "received") is recorded by them; the log need not say "delivered" as well.
            let notes = context.auditNotes
            let auditOutcome = self.auditOutcomes && !(outcome == .done && !notes.isEmpty)
            let kept = try await completions.record(
                Completion(claim: claim, handler: entry.name, outcome: outcome, auditOutcome: auditOutcome, notes: notes)
            )
            if !kept {
                logger.warning(
                    "delivery outcome discarded: its lease was lost (claimed again or replayed) while the handler ran",
                    metadata: ["event": "\(claim.event.id)", "attempt": "\(claim.attempt)", "delivery": "\(claim.deliveryID)"]
                )
            }
        } catch {
            // The lease will expire and the delivery will run again: at-least-once.
            logger.error("cannot record a delivery outcome", metadata: ["event": "\(claim.event.id)", "error": "\(error)"])
        }
    }

    /// Retry with backoff, or dead-letter.
    func failure(_ error: any Error, claim: Claim, options: HandlerOptions) -> DeliveryOutcome {
        let handlerError = error as? HandlerError
        let message = String((handlerError?.message ?? String(describing: error)).prefix(2000))
        if handlerError?.isPermanent == true {
            return .dead(error: message, reason: .permanent)
        }
        if claim.attempt >= options.maxAttempts {
            return .dead(error: message, reason: .exhausted)
        }
        let ceiling = Backoff.ceiling(retries: claim.attempt - 1, base: options.backoffBase, cap: options.backoffCap)
        var delay = self.options.jitter(ceiling)
        if let retryAfter = handlerError?.retryAfter {
            delay = max(delay, retryAfter)
        }
        return .retry(at: self.clock.now().adding(seconds: delay), error: message)
    }
}

/// The claims one worker is running now.
final class RunningDeliveries: Sendable {
    private let claims = Mutex<[Int64: Claim]>([:])

    func insert(_ claim: Claim) { self.claims.withLock { $0[claim.deliveryID] = claim } }
    func remove(_ id: Int64) { self.claims.withLock { _ = $0.removeValue(forKey: id) } }
    var all: [Claim] { self.claims.withLock { Array($0.values) } }
    var ids: Set<Int64> { self.claims.withLock { Set($0.keys) } }
}

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

/// Wakes a sleeping worker early: new work was committed, or shutdown began.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var stopped = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    var isStopped: Bool { self.state.withLock { $0.stopped } }

    func signal() {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.pending = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func stop() {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.stopped = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Returns after `duration`, or earlier when signalled (or already signalled).
    func wait(for duration: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: duration) }
            group.addTask { await self.next() }
            await group.next()
            group.cancelAll()
        }
    }

    private func next() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLock { state -> Bool in
                    if state.pending || state.stopped || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
        self.state.withLock { $0.pending = false }
    }
}

/// The dispatcher's metrics, through whichever factory the application uses.
struct DispatcherMetrics: Sendable {
    let factory: (any MetricsFactory)?

    /// One handler's instruments, made once for its worker.
    func instruments(handler: String) -> HandlerInstruments? {
        guard let factory else { return nil }
        func deliveries(_ outcome: String) -> Counter {
            Counter(label: "inlet_deliveries_total", dimensions: [("handler", handler), ("outcome", outcome)], factory: factory)
        }
        return HandlerInstruments(
            done: deliveries("done"), retry: deliveries("retry"),
            deadPermanent: deliveries("dead_permanent"), deadExhausted: deliveries("dead_exhausted"),
            attempts: Counter(label: "inlet_delivery_attempts_total", dimensions: [("handler", handler)], factory: factory),
            duration: Timer(label: "inlet_handler_duration_seconds", dimensions: [("handler", handler)], factory: factory)
        )
    }
}

struct HandlerInstruments: Sendable {
    let done, retry, deadPermanent, deadExhausted: Counter
    let attempts: Counter
    let duration: Timer

    func record(_ outcome: DeliveryOutcome, duration: Duration) {
        switch outcome {
        case .done: self.done.increment()
        case .retry: self.retry.increment()
        case .dead(_, .permanent): self.deadPermanent.increment()
        case .dead(_, .exhausted): self.deadExhausted.increment()
        }
        self.attempts.increment()
        self.duration.recordNanoseconds(duration.wholeNanoseconds)
    }
}
