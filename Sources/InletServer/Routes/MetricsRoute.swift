internal import Hummingbird
internal import InletCore
internal import NIOCore
internal import Prometheus

/// `GET /metrics` in Prometheus text; the queue gauges are read from the store per scrape.
struct MetricsRoute: Sendable {
    let store: any InletStore
    let registry: PrometheusCollectorRegistry
    let clock: WallClock

    func register(on routes: RouteTable) {
        let depth = self.registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "inlet", metricName: "queue", unitName: "depth", helpText: "Deliveries pending or running"
            )
        )
        let oldest = self.registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "inlet", metricName: "oldest_pending_delivery_age", unitName: "seconds",
                helpText: "Age of the oldest pending delivery past its due time"
            )
        )
        routes.get("/metrics") { _, _ in
            let status = try await self.store.queueStatus()
            depth.set(Double(status.depth))
            let now = self.clock.now().millisecondsSinceEpoch
            oldest.set(status.oldestPendingMs.map { max(0, Double(now - $0) / 1000) } ?? 0)
            var buffer: [UInt8] = []
            self.registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer))
            )
        }
    }
}
