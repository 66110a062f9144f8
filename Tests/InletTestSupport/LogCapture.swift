public import Logging
internal import Synchronization

/// Captures every log line (level, message and merged metadata, keys sorted), so tests
/// can check what was, and was not, logged.
///
/// ```swift
/// let logs = LogCapture()
/// let client = ManagementClient(..., logger: logs.logger)
/// #expect(logs.all.contains { $0.contains("rate limited") })
/// ```
public final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    public init() {}

    /// Every captured line, oldest first.
    public var all: [String] { self.lines.withLock { $0 } }

    /// A logger at level `.trace` whose lines land here.
    public var logger: Logger {
        Logger(label: "inlet-test") { _ in CapturingHandler(capture: self) }
    }

    private func append(_ line: String) { self.lines.withLock { $0.append(line) } }

    private struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { self.metadata[key] }
            set { self.metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = self.metadata.merging(event.metadata ?? [:]) { $1 }
            self.capture.append("\(event.level) \(event.message) \(merged.sorted { $0.key < $1.key })")
        }
    }
}
