internal import CoreMetrics
internal import InletCore
internal import Synchronization

/// `inlet_events_received_total{source="productivity", type, outcome}`, each counter made
/// once and kept. Types outside ``ProductivityEnvelope/knownTypes`` (the sender chooses
/// them) are counted as `other`, so the number of counters stays bounded.
final class ReceivedEventCounters: Sendable {
    private let factory: any MetricsFactory
    private struct Key: Hashable {
        let type: String
        let outcome: String
    }

    private let counters = Mutex<[Key: Counter]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func increment(type: String, outcome: String) {
        let type = ProductivityEnvelope.knownTypes.contains(type) || type == "unknown" ? type : "other"
        let key = Key(type: type, outcome: outcome)
        let counter = self.counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(
                label: "inlet_events_received_total",
                dimensions: [("source", EventSource.productivity.rawValue), ("type", type), ("outcome", outcome)], factory: self.factory
            )
            counters[key] = counter
            return counter
        }
        counter.increment()
    }
}
