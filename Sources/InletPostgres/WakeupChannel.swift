internal import InletCore
internal import Logging
internal import PostgresNIO
internal import Synchronization

/// Wake-ups between the instances sharing a database, by LISTEN/NOTIFY on one channel.
///
/// Sending: each commit that planned deliveries adds its handlers to a pending set; one
/// notifier sends them all in one `NOTIFY`, then gathers for 5 ms, so a burst of commits
/// costs one notification, not one each. Receiving: one pooled connection LISTENs; each notification
/// from another instance wakes the named handlers' workers. When the connection is lost,
/// it listens again with a backoff and then wakes every worker, since notifications may
/// have been missed meanwhile. A lost notification only delays a delivery until the next
/// poll, never loses it: the deliveries are in the table either way.
final class WakeupChannel: Sendable {
    let channel: String
    /// Tells this instance's notifications from the others'.
    private let instance = String(UInt64.random(in: 0...UInt64.max), radix: 36)
    private let pending = Mutex(Set<String>())
    private let signal: AsyncStream<Void>.Continuation
    private let signals: AsyncStream<Void>
    private let logger: Logger

    init(channel: String, logger: Logger) {
        // A channel is an identifier: at most 63 bytes.
        self.channel = String(channel.utf8.prefix(63)) ?? "inlet_work"
        self.logger = logger
        (self.signals, self.signal) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func announce(_ handlers: some Sequence<String>) {
        var any = false
        self.pending.withLock { pending in
            for handler in handlers {
                pending.insert(handler)
                any = true
            }
        }
        if any { self.signal.yield() }
    }

    static let gathering = Duration.milliseconds(5)

    func stop() {
        self.signal.finish()
    }

    /// Sends the pending wake-ups, one NOTIFY at a time, until stopped.
    func runNotifier(client: PostgresClient, timeout: Duration) async {
        for await _ in self.signals {
            let handlers = self.pending.withLock { pending in
                defer { pending = [] }
                return pending
            }
            guard !handlers.isEmpty else { continue }
            let payload = self.instance + " " + handlers.sorted().joined(separator: ",")
            let channel = self.channel
            do {
                _ = try await withDeadline(timeout, timeoutError: { PostgresStoreError.timedOut(after: timeout) }) {
                    try await client.query("SELECT pg_notify(\(channel), \(payload))")
                }
            } catch {
                // The other instances find the deliveries on their next poll.
                self.logger.debug("wake-up notification not sent", metadata: ["error": "\(PostgresStoreError.wrapping(error))"])
            }
            // Gather the commits of the next few milliseconds into the next notification: at
            // most 200 a second, whatever the load, for a few ms more before another instance
            // wakes (this instance wakes its own workers at once).
            try? await Task.sleep(for: Self.gathering)
        }
    }

    /// Listens until cancelled, calling `wake` with the handlers another instance planned
    /// deliveries for (nil: every handler, after the listening connection was re-made).
    func listen(client: PostgresClient, wake: @escaping @Sendable ([String]?) -> Void) async {
        var backoff = Duration.milliseconds(100)
        var failing = false
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: self.channel) { notifications in
                        if failing {
                            self.logger.notice("listening for wake-ups again", metadata: ["channel": "\(self.channel)"])
                            failing = false
                        }
                        backoff = .milliseconds(100)
                        wake(nil)
                        for try await notification in notifications {
                            guard let space = notification.payload.firstIndex(of: " ") else { continue }
                            guard notification.payload[..<space] != self.instance else { continue }
                            wake(notification.payload[notification.payload.index(after: space)...].split(separator: ",").map(String.init))
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                if !failing {
                    self.logger.warning(
                        "lost the wake-up connection; polling until it is back",
                        metadata: ["channel": "\(self.channel)", "error": "\(PostgresStoreError.wrapping(error))"]
                    )
                    failing = true
                }
            }
            do {
                try await Task.sleep(for: backoff)
            } catch {
                return
            }
            backoff = min(backoff * 2, .seconds(2))
        }
    }
}
