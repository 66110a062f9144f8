internal import CoreMetrics

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

/// One handler's delivery counters and duration timer, recorded once per attempt.
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
