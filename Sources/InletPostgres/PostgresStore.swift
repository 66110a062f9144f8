public import InletCore
public import Logging
internal import PostgresNIO
internal import Synchronization

/// The PostgreSQL implementation of the store protocols: one database that any number of
/// `inlet serve` processes share.
///
/// Each call is one statement (or one transaction) on a connection of a bounded pool, and
/// returns after PostgreSQL committed it (`synchronous_commit` on, its default). A call
/// that gets no connection or no answer within ``Options/operationTimeout`` fails with a
/// ``PostgresStoreError`` that says `isUnavailable` (503); the pool reconnects by itself
/// when PostgreSQL is back, so an outage is never fatal to the process.
///
/// Claims take due deliveries with `FOR UPDATE SKIP LOCKED` in one statement, so that two
/// instances never claim the same delivery; leases and due times are read on the
/// database's clock (`inlet_now_ms()`), so instances with skewed clocks agree. Every commit
/// that planned deliveries is announced to the other instances by `NOTIFY` (debounced: one
/// per round trip, whatever the number of commits meanwhile); polling is the backstop.
///
/// ```swift
/// let store = try await PostgresStore.open(try PostgresLocation(url: url), logger: logger)
/// let results = try await store.appendEvents([NewEvent(source: .admin, id: "evt_1", type: "note", payload: "{}")])
/// await store.close()
/// ```
public final class PostgresStore: Sendable {
    public struct Options: Sendable {
        /// nil: the database's clock. Tests inject one, so that leases expire on demand.
        public var clock: WallClock?
        /// The schema to use instead of `public` (created when missing).
        public var schema: String?
        /// Most connections this process opens.
        public var maximumConnections: Int
        /// A call that gets no connection or no answer within this fails as unavailable.
        public var operationTimeout: Duration
        /// Listen for the wake-ups of other instances (LISTEN/NOTIFY).
        public var listen: Bool

        public init(
            clock: WallClock? = nil, schema: String? = nil, maximumConnections: Int = 16, operationTimeout: Duration = .seconds(5),
            listen: Bool = true
        ) {
            self.clock = clock
            self.schema = schema
            self.maximumConnections = maximumConnections
            self.operationTimeout = operationTimeout
            self.listen = listen
        }
    }

    public let location: PostgresLocation
    let client: PostgresClient
    let options: Options
    let logger: Logger
    /// The clock of the text times (received_at, updated_at): the injected one, or this
    /// machine's. Due times and leases use ``databaseNow``.
    let textClock: WallClock
    let wakeups: WakeupChannel
    private let tasks: Mutex<[Task<Void, Never>]>
    private let outage = Mutex(Outage())

    private init(location: PostgresLocation, client: PostgresClient, options: Options, logger: Logger, tasks: [Task<Void, Never>]) {
        self.location = location
        self.client = client
        self.options = options
        self.logger = logger
        self.textClock = options.clock ?? .system
        self.wakeups = WakeupChannel(channel: "inlet_work" + (options.schema.map { "_" + $0 } ?? ""), logger: logger)
        self.tasks = Mutex(tasks)
    }

    /// Connects, applies pending migrations under the schema's advisory lock, and returns
    /// the store. Fails when PostgreSQL cannot be reached within the operation timeout.
    /// The schema is the options' or else the location's (`?options=-c search_path=…`).
    public static func open(_ location: PostgresLocation, options: Options = Options(), logger: Logger) async throws -> PostgresStore {
        var options = options
        options.schema = options.schema ?? location.schema
        try await Self.migrate(location, options: options, logger: logger)
        let (client, runner) = try Self.makeClient(location, options: options, logger: logger)
        let store = PostgresStore(location: location, client: client, options: options, logger: logger, tasks: [runner])
        store.startBackgroundTasks()
        return store
    }

    /// Applies pending migrations under the advisory lock (`inlet migrate`, and every
    /// start); returns the versions applied. One connection of its own, made first, so
    /// that a refused password or an unreachable server fails at once with PostgreSQL's
    /// reason (a pool retries those quietly); a minute for the migrations themselves.
    @discardableResult
    public static func migrate(_ location: PostgresLocation, options: Options = Options(), logger: Logger) async throws -> [Int] {
        let schema = options.schema ?? location.schema
        do {
            let configuration = try location.connectionConfiguration()
            let connection = try await withDeadline(options.operationTimeout, timeoutError: { Self.unreachable(location, options) }) {
                try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            }
            do {
                let applied = try await withDeadline(.seconds(60), timeoutError: { PostgresStoreError.timedOut(after: .seconds(60)) }) {
                    try await PostgresMigrations.apply(on: connection, schema: schema, logger: logger)
                }
                try? await connection.close()
                return applied
            } catch {
                try? await connection.close()
                throw error
            }
        } catch {
            throw Self.opening(error, location)
        }
    }

    /// The newest schema version this build knows.
    public static var latestVersion: Int { PostgresMigrations.latestVersion }

    private static func makeClient(
        _ location: PostgresLocation, options: Options, logger: Logger
    ) throws -> (PostgresClient, Task<Void, Never>) {
        var configuration = try location.clientConfiguration()
        configuration.options.maximumConnections = max(1, options.maximumConnections)
        configuration.options.connectTimeout = options.operationTimeout
        if let schema = options.schema {
            configuration.options.additionalStartupParameters = [("search_path", PostgresMigrations.quoted(schema))]
        }
        // The pool logs each failed connection attempt at info, several a second while the
        // server is away; the store's callers say it once (workers, the wake-up listener).
        var background = logger
        background.logLevel = max(logger.logLevel, .warning)
        let client = PostgresClient(configuration: configuration, backgroundLogger: background)
        let runner = Task { await client.run() }
        return (client, runner)
    }

    private static func unreachable(_ location: PostgresLocation, _ options: Options) -> PostgresStoreError {
        PostgresStoreError("PostgreSQL at \(location) did not answer within \(options.operationTimeout)", unavailable: true)
    }

    private static func opening(_ error: any Error, _ location: PostgresLocation) -> PostgresStoreError {
        let wrapped = PostgresStoreError.wrapping(error)
        return PostgresStoreError("cannot open the database \(location): \(wrapped)", unavailable: wrapped.isUnavailable, sqlState: wrapped.sqlState)
    }

    private func startBackgroundTasks() {
        let notifier = Task { [wakeups, client, options] in
            await wakeups.runNotifier(client: client, timeout: options.operationTimeout)
        }
        self.tasks.withLock { $0.append(notifier) }
    }

    /// Runs `body` with the pool under the operation deadline; any error becomes a
    /// ``PostgresStoreError``.
    ///
    /// Once a call gets no connection or no answer (PostgreSQL stopped, restarted, failed
    /// over; not a statement it refused), one call at a time tries it (the probe) and the
    /// others fail at once as unavailable (503), instead of each waiting out its deadline on
    /// a pool that cannot connect. The first call that gets an answer ends the outage. A
    /// `patient` call (recording outcomes and renewing leases) always tries: refusing it
    /// would run its deliveries again when PostgreSQL was only slow.
    func call<T: Sendable>(patient: Bool = false, _ body: @escaping @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let probing = try self.outage.withLock { outage -> Bool in
            guard outage.unreachable, !patient else { return false }
            guard !outage.probing else {
                throw PostgresStoreError("PostgreSQL is unreachable; retry shortly", unavailable: true)
            }
            outage.probing = true
            return true
        }
        let client = self.client
        let timeout = self.options.operationTimeout
        do {
            let result = try await withDeadline(timeout, timeoutError: { PostgresStoreError.timedOut(after: timeout) }) {
                try await body(client)
            }
            // An answer ends the outage; a patient call leaves a running probe's turn alone.
            if probing {
                self.outage.withLock { $0 = Outage() }
            } else if patient {
                self.outage.withLock { $0.unreachable = false }
            }
            return result
        } catch {
            let wrapped = PostgresStoreError.wrapping(error)
            let unreachable = wrapped.isUnavailable && wrapped.sqlState == nil && !(error is CancellationError) && !Task.isCancelled
            self.outage.withLock { outage in
                if unreachable {
                    outage.unreachable = true
                } else if probing && wrapped.sqlState != nil {
                    outage.unreachable = false  // PostgreSQL answered
                }
                if probing { outage.probing = false }
            }
            throw wrapped
        }
    }

    /// Whether PostgreSQL was found unreachable and no call has had an answer since, and
    /// whether a call is trying it now.
    struct Outage {
        var unreachable = false
        var probing = false
    }

    /// Runs `body` in one transaction under the operation deadline.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T) async throws -> T {
        let logger = self.logger
        return try await self.call { client in
            try await client.withTransaction(logger: logger) { connection in try await body(connection, logger) }
        }
    }

    /// Runs one statement and returns its rows once PostgreSQL has committed it
    /// (``PostgresConnection/confirmCommitted(logger:)``).
    @discardableResult
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        let logger = self.logger
        return try await self.call { client in
            try await client.withConnection { connection in
                let rows = try await connection.query(query, logger: logger).collect()
                try await connection.confirmCommitted(logger: logger)
                return rows
            }
        }
    }

    /// Runs one statement that only reads, and returns its rows (nothing to confirm).
    func read(_ query: PostgresQuery) async throws -> [PostgresRow] {
        let logger = self.logger
        return try await self.call { client in try await client.query(query, logger: logger).collect() }
    }

    /// Now, in ms since the epoch, as a statement parameter: the injected clock's reading,
    /// or NULL for the database's clock (statements read `coalesce($n, inlet_now_ms())`).
    var injectedNow: Int64? { self.options.clock?.now().millisecondsSinceEpoch }

    /// This machine's (or the injected) time as stored text.
    var nowText: String { self.textClock.now().description }

    /// The server's version and `synchronous_commit`, for the start-up log.
    public func serverSettings() async throws -> (version: String, synchronousCommit: String) {
        let rows = try await self.read("SELECT current_setting('server_version'), current_setting('synchronous_commit')")
        guard let row = rows.first else { throw PostgresStoreError("PostgreSQL returned no settings", unavailable: true) }
        let (version, synchronous) = try row.decode((String, String).self)
        return (version, synchronous)
    }

    /// Tells the other instances that `handlers` got deliveries.
    func announce(_ handlers: some Sequence<String>) {
        self.wakeups.announce(handlers)
    }

    public func close() async {
        let tasks = self.tasks.withLock { tasks in
            defer { tasks = [] }
            return tasks
        }
        self.wakeups.stop()
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}

extension PostgresStore: InletStore {
    package func checkWritable() async throws {
        let now = self.nowText
        try await self.rows(
            "INSERT INTO store_meta (key, value) VALUES ('last_write_check', \(now)) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )
    }

    /// Never set: an outage of PostgreSQL is answered 503 until it ends, not by stopping.
    package var failure: (any Error)? { nil }

    package func waitForFailure() async -> (any Error)? {
        // Nothing stops this store for good.
        await waitUntilCancelled()
        return nil
    }

    package func watchForWork(_ wake: @escaping @Sendable ([String]?) -> Void) async {
        guard self.options.listen else {
            await waitUntilCancelled()
            return
        }
        await self.wakeups.listen(client: self.client, wake: wake)
    }
}
