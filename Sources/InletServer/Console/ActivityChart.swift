internal import InletCore

/// A small bar chart of per-minute counts, as values for the overview's inline SVG (drawn
/// on the server: no chart library, no script).
///
/// ```swift
/// let chart = ActivityChart(id: "received", label: "Events received", buckets: buckets.map { ($0.start, $0.received) })
/// values["charts"] = [chart.values]
/// ```
struct ActivityChart {
    let id: String
    let label: String
    let buckets: [(start: Timestamp, value: Int)]

    static let width = 360
    static let height = 80

    var values: [String: Any] {
        let peak = self.buckets.map(\.value).max() ?? 0
        let count = max(1, self.buckets.count)
        let slot = Double(Self.width) / Double(count)
        let bars: [[String: Any]] = self.buckets.enumerated().compactMap { index, bucket in
            guard bucket.value > 0, peak > 0 else { return nil }
            let height = max(1, Int((Double(bucket.value) / Double(peak) * Double(Self.height - 4)).rounded()))
            return [
                "x": Self.format(Double(index) * slot), "y": Self.height - height, "w": Self.format(max(1, slot - 1)), "h": height,
                "start": Self.minute(bucket.start), "value": bucket.value,
            ]
        }
        return [
            "id": self.id, "label": self.label, "total": self.buckets.reduce(0) { $0 + $1.value }, "peak": peak,
            "width": Self.width, "height": Self.height, "bars": bars,
        ]
    }

    /// `HH:MM` of a bucket's start (UTC).
    static func minute(_ time: Timestamp) -> String {
        let text = time.description
        guard let t = text.firstIndex(of: "T") else { return text }
        return String(text[text.index(after: t)...].prefix(5))
    }

    private static func format(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return tenths % 10 == 0 ? "\(tenths / 10)" : "\(tenths / 10).\(tenths % 10)"
    }
}
