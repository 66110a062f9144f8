package import CoreMetrics
package import Logging
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
        /// The name recorded with each attempt this process runs.
        public var instance: String = InstanceName.default

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
        await withTaskGroup(of: Void.self) { watcher in
            // Deliveries that other processes sharing the database planned.
            watcher.addTask { await self.store.watchForWork { handlers in self.notify(handlers) } }
            await withTaskGroup(of: Void.self) { group in
                for entry in self.registry.active {
                    group.addTask { await self.worker(for: entry)?.run() }
                }
                await withGracefulShutdownHandler {
                    await group.waitForAll()
                } onGracefulShutdown: {
                    for signal in self.signals.values { signal.stop() }
                }
            }
            watcher.cancelAll()
        }
    }

    /// One handler's worker, with its own wake signal and metrics.
    private func worker(for entry: HandlerRegistry.Active) -> HandlerWorker? {
        guard let signal = self.signals[entry.name] else { return nil }
        return HandlerWorker(
            entry: entry, store: self.store, signal: signal, logger: self.logger, options: self.options,
            clock: self.clock, auditOutcomes: self.auditOutcomes, instruments: self.metrics.instruments(handler: entry.name)
        )
    }
}
