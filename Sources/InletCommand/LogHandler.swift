import Logging

/// swift-log's `StreamLogHandler` output on standard error, with metadata formatted only
/// when a line is written.
///
/// `StreamLogHandler` formats its metadata whenever a key is set, and Hummingbird sets a
/// request id on every request's logger: formatting work per request for lines that, at the
/// usual levels, are never written.
struct StandardErrorLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var stream = StreamLogHandler.standardError(label: self.label)
        stream.logLevel = self.logLevel
        stream.metadata = self.metadata
        stream.log(event: event)
    }
}
