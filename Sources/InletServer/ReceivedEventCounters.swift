internal import CoreMetrics
internal import InletCore
internal import Synchronization

/// `inlet_events_received_total{source, type, outcome}`, each counter made once and kept.
/// Types outside `knownTypes` (the sender chooses them) are counted as `other`, so the
/// number of counters stays bounded.
final class ReceivedEventCounters: Sendable {
    private let factory: any MetricsFactory
    private let source: EventSource
    private let knownTypes: Set<String>
    private struct Key: Hashable {
        let type: String
        let outcome: String
    }

    private let counters = Mutex<[Key: Counter]>([:])

    /// Counters of `source`; the productivity system's by default.
    init(factory: any MetricsFactory, source: EventSource = .productivity, knownTypes: Set<String> = ProductivityEnvelope.knownTypes) {
        self.factory = factory
        self.source = source
        self.knownTypes = knownTypes
    }

    func increment(type: String, outcome: String, by amount: Int = 1) {
        guard amount > 0 else { return }
        let type = self.knownTypes.contains(type) || type == "unknown" ? type : "other"
        let key = Key(type: type, outcome: outcome)
        let counter = self.counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: "inlet_events_received_total",
                dimensions: [("source", self.source.rawValue), ("type", type), ("outcome", outcome)], factory: self.factory
            )
            counters[key] = counter
            return counter
        }
        counter.increment(by: amount)
    }
}
