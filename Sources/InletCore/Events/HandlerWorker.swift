internal import Logging

/// One handler's worker in the ``Dispatcher``: claims its due deliveries, runs them, and
/// records their outcomes.
///
/// It claims under a lease at most `concurrency` deliveries at once, leaving out those it
/// is already running, and renews the leases of running ones every third of the lease,
/// so a slow handler keeps its deliveries. Between claims it sleeps on its
/// ``WakeSignal`` until the next delivery is due or the poll interval ends, whichever
/// comes first; a stopped signal ends the loop, and running deliveries finish. Each
/// outcome comes from the ``RetryPolicy`` and is committed through a
/// ``CompletionBatcher``.
///
/// ```swift
/// let worker = HandlerWorker(
///     entry: entry, store: store, signal: WakeSignal(), logger: logger, options: Dispatcher.Options(),
///     clock: .system, auditOutcomes: false, instruments: nil
/// )
/// await worker.run()  // until its signal is stopped
/// ```
struct HandlerWorker: Sendable {
    let entry: HandlerRegistry.Active
    let store: any InletStore
    let signal: WakeSignal
    let logger: Logger
    let clock: WallClock
    /// Longest wait between two looks at the store when nothing is known to be due.
    let pollInterval: Duration
    /// Whether delivery outcomes are written to the audit log.
    let auditOutcomes: Bool
    let policy: RetryPolicy
    let instruments: HandlerInstruments?
    let completions: CompletionBatcher
    /// Recorded with each attempt.
    let instance: String
    let running = RunningDeliveries()

    init(
        entry: HandlerRegistry.Active, store: any InletStore, signal: WakeSignal, logger: Logger, options: Dispatcher.Options,
        clock: WallClock, auditOutcomes: Bool, instruments: HandlerInstruments?
    ) {
        self.entry = entry
        self.store = store
        self.signal = signal
        self.logger = {
            var logger = logger
            logger[metadataKey: "handler"] = "\(entry.name)"
            return logger
        }()
        self.clock = clock
        self.pollInterval = options.pollInterval
        self.auditOutcomes = auditOutcomes
        self.policy = RetryPolicy(options: entry.options, jitter: options.jitter, clock: clock)
        self.instruments = instruments
        self.completions = CompletionBatcher(store: store)
        self.instance = options.instance
    }

    private enum Step: Sendable {
        case delivered
        case woke
    }

    /// Claim, run within the concurrency limit, sleep until due; until the signal stops.
    func run() async {
        let signal = self.signal
        let entry = self.entry
        let logger = self.logger
        let running = self.running
        let leases = Task { await self.keepLeases() }
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
                                await self.deliver(claim)
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

    /// Renews the leases of running deliveries every third of the lease, until cancelled:
    /// a handler may run longer than its lease without its delivery being claimed again.
    private func keepLeases() async {
        let options = self.entry.options
        while true {
            do {
                try await Task.sleep(for: .seconds(options.leaseSeconds / 3))
            } catch {
                return  // cancelled: the worker ended
            }
            let claims = self.running.all
            guard !claims.isEmpty else { continue }
            do {
                let lost = try await self.store.renewLeases(claims, leaseSeconds: options.leaseSeconds)
                for id in lost {
                    self.logger.warning(
                        "delivery lease lost while its handler runs (claimed again or replayed); its outcome will be discarded",
                        metadata: ["delivery": "\(id)"]
                    )
                }
            } catch {
                self.logger.error("cannot renew delivery leases", metadata: ["error": "\(error)"])
            }
        }
    }

    private func waitDuration(until nextDue: Timestamp?) -> Duration {
        guard let nextDue else { return self.pollInterval }
        let milliseconds = max(0, nextDue.millisecondsSinceEpoch - self.clock.now().millisecondsSinceEpoch)
        return min(self.pollInterval, .milliseconds(milliseconds))
    }

    /// Runs one claimed delivery and records its outcome.
    private func deliver(_ claim: Claim) async {
        let logger = self.logger
        let context = HandlerContext(logger: logger, attempt: claim.attempt, deliveryID: claim.deliveryID, clock: self.clock)
        let started = ContinuousClock.now
        let startedAt = self.clock.now()
        let result: Result<Void, any Error>
        do {
            try await self.entry.handler.handle(claim.event, context: context)
            result = .success(())
        } catch {
            result = .failure(error)
        }
        let finishedAt = self.clock.now()
        let outcome = self.policy.outcome(of: result, attempt: claim.attempt)
        self.instruments?.record(outcome, duration: ContinuousClock.now - started)
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
            let kept = try await self.completions.record(
                Completion(
                    claim: claim, handler: self.entry.name, outcome: outcome, auditOutcome: auditOutcome, notes: notes, startedAt: startedAt,
                    finishedAt: finishedAt, instance: self.instance
                )
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
}
