internal import HTTPTypes
public import InletHTTPClient
public import InletCore
public import Logging
public import ServiceLifecycle
internal import Synchronization

/// The tenant's signing keys, fetched from its JWKS endpoint and kept in memory.
///
/// Caching follows Auth0's own libraries: keys are kept about ten minutes
/// (``Options/maxAge``), after which the ``JWKSRefresher`` service (or, without it, the
/// next lookup, in the background) fetches them again. A token naming an unknown `kid`
/// triggers a refetch, but at most once per ``Options/unknownKeyCooldown`` (30 s), so
/// a flood of made-up key ids costs one request to Auth0, not one each. Concurrent
/// lookups share one fetch. When the endpoint is down the last good keys keep serving;
/// only a cache that never held a key answers "keys unavailable".
///
/// Lookups of a known key take a lock and a dictionary read; they never wait on the
/// network. Time is read from the injected ``WallClock`` so tests can move it.
///
/// ```swift
/// let cache = JWKSCache(options: .init(url: "https://tenant.auth0.com/.well-known/jwks.json"),
///                       client: OutboundClient(), logger: logger)
/// let key = try await cache.key(id: "mbp8M3J6...")
/// ```
public final class JWKSCache: JWTKeySource {
    public struct Options: Sendable {
        /// `https://$AUTH0_DOMAIN/.well-known/jwks.json`, or `AUTH0_JWKS_URL`.
        public var url: String
        /// Seconds a fetched set is considered fresh.
        public var maxAge: Double
        /// Least seconds between two fetches caused by unknown `kid`s.
        public var unknownKeyCooldown: Double
        /// Seconds allowed for one fetch, connection included.
        public var fetchTimeout: Double
        /// Seconds the refresher waits before retrying a failed fetch.
        public var retryInterval: Double
        /// Algorithms a key may be bound to.
        public var allowedAlgorithms: Set<JWTAlgorithm>

        public init(
            url: String,
            maxAge: Double = 600,
            unknownKeyCooldown: Double = 30,
            fetchTimeout: Double = 5,
            retryInterval: Double = 30,
            allowedAlgorithms: Set<JWTAlgorithm> = [.rs256]
        ) {
            self.url = url
            self.maxAge = maxAge
            self.unknownKeyCooldown = unknownKeyCooldown
            self.fetchTimeout = fetchTimeout
            self.retryInterval = retryInterval
            self.allowedAlgorithms = allowedAlgorithms
        }

        /// The default address for a tenant domain (which may carry a port).
        public static func defaultURL(domain: String) -> String {
            "https://\(domain)/.well-known/jwks.json"
        }
    }

    /// What a fetch did, for the refresher and for tests.
    public enum FetchOutcome: Sendable, Equatable {
        case updated(keyCount: Int)
        case failed(JWKSError)
    }

    private struct State {
        var keys: [String: JWTPublicKey] = [:]
        /// When the current keys were fetched; nil until the first success.
        var fetchedAt: Timestamp?
        /// When the last fetch caused by an unknown `kid` (or a stale set) started.
        var lastOnDemandFetch: Timestamp?
        var inFlight: Task<FetchOutcome, Never>?
        var lastError: JWKSError?
        var fetchCount = 0
    }

    public let options: Options
    private let client: OutboundClient
    private let clock: WallClock
    private let logger: Logger
    private let state = Mutex(State())

    public init(options: Options, client: OutboundClient, clock: WallClock = .system, logger: Logger) {
        self.options = options
        self.client = client
        self.clock = clock
        self.logger = logger
    }

    /// The ids of the keys held now.
    public var keyIDs: [String] { self.state.withLock { Array($0.keys.keys).sorted() } }
    /// When the keys held now were fetched; nil before the first success.
    public var fetchedAt: Timestamp? { self.state.withLock { $0.fetchedAt } }
    /// Fetches started so far (successful or not).
    public var fetchCount: Int { self.state.withLock { $0.fetchCount } }
    /// The last fetch's error, cleared by a success.
    public var lastError: JWKSError? { self.state.withLock { $0.lastError } }

    private enum Lookup {
        case hit(JWTPublicKey)
        case wait(Task<FetchOutcome, Never>)
        case miss(everFetched: Bool)
    }

    /// The key with `kid` `id`: from memory, or after one refetch if the cooldown allows.
    public func key(id: String) async throws(JWTError) -> JWTPublicKey {
        let now = self.clock.now()
        let lookup = self.state.withLock { state -> Lookup in
            if let key = state.keys[id] {
                // Stale: refresh in the background and serve what we have meanwhile.
                if let fetched = state.fetchedAt, now.secondsSinceEpoch - fetched.secondsSinceEpoch >= self.options.maxAge,
                    state.inFlight == nil, self.cooldownPassed(state, now: now)
                {
                    state.lastOnDemandFetch = now
                    _ = self.startFetch(&state)
                }
                return .hit(key)
            }
            if let task = state.inFlight { return .wait(task) }
            guard self.cooldownPassed(state, now: now) else { return .miss(everFetched: state.fetchedAt != nil) }
            state.lastOnDemandFetch = now
            return .wait(self.startFetch(&state))
        }
        switch lookup {
        case .hit(let key):
            return key
        case .miss(let everFetched):
            throw everFetched ? .unknownKey : self.unavailable()
        case .wait(let task):
            _ = await task.value
            let (key, everFetched) = self.state.withLock { ($0.keys[id], $0.fetchedAt != nil) }
            if let key { return key }
            throw everFetched ? .unknownKey : self.unavailable()
        }
    }

    /// Fetches the set now (or joins the fetch in flight) and reports what happened. On
    /// failure the keys held are kept.
    @discardableResult
    public func refresh() async -> FetchOutcome {
        let task = self.state.withLock { state in state.inFlight ?? self.startFetch(&state) }
        return await task.value
    }

    private func cooldownPassed(_ state: State, now: Timestamp) -> Bool {
        guard let last = state.lastOnDemandFetch else { return true }
        return now.secondsSinceEpoch - last.secondsSinceEpoch >= self.options.unknownKeyCooldown
    }

    private func unavailable() -> JWTError {
        .keysUnavailable("the signing keys of the identity provider could not be fetched; retry shortly")
    }

    /// Starts one fetch; called with the lock held and no fetch in flight.
    private func startFetch(_ state: inout State) -> Task<FetchOutcome, Never> {
        state.fetchCount += 1
        let task = Task { await self.fetch() }
        state.inFlight = task
        return task
    }

    private func fetch() async -> FetchOutcome {
        let outcome: FetchOutcome
        do {
            let set = try await self.download()
            let now = self.clock.now()
            self.state.withLock { state in
                state.keys = set.keys
                state.fetchedAt = now
                state.lastError = nil
                state.inFlight = nil
            }
            for reason in set.ignored {
                self.logger.debug("JWKS entry skipped", metadata: ["jwks.url": "\(self.options.url)", "reason": "\(reason)"])
            }
            self.logger.debug(
                "JWKS fetched", metadata: ["jwks.url": "\(self.options.url)", "jwks.kids": "\(set.keys.keys.sorted().joined(separator: ","))"]
            )
            outcome = .updated(keyCount: set.keys.count)
        } catch {
            let held = self.state.withLock { state in
                state.lastError = error
                state.inFlight = nil
                return state.keys.count
            }
            self.logger.warning(
                "JWKS fetch failed; keeping the keys held",
                metadata: ["jwks.url": "\(self.options.url)", "error": "\(error.message)", "jwks.keys_held": "\(held)"]
            )
            outcome = .failed(error)
        }
        return outcome
    }

    private func download() async throws(JWKSError) -> JWKSet {
        let response: OutboundResponse
        do {
            response = try await self.client.execute(OutboundRequest(
                url: self.options.url, headers: [.accept: "application/json"],
                connectTimeout: self.options.fetchTimeout, timeout: self.options.fetchTimeout,
                maxResponseBytes: JWKSet.maxBytes
            ))
        } catch let error as OutboundError {
            throw .fetch(error.description)
        } catch {
            throw .fetch("\(error)")
        }
        guard response.status == 200 else { throw .status(response.status) }
        return try JWKSet.parse(response.body, allowedAlgorithms: self.options.allowedAlgorithms)
    }
}

/// Keeps a ``JWKSCache`` fresh: fetches at start, then every ``JWKSCache/Options/maxAge``
/// seconds, or every ``JWKSCache/Options/retryInterval`` seconds while fetches fail.
///
/// A swift-service-lifecycle `Service`: it stops on graceful shutdown. With
/// `shutdownClient`, it then shuts down the cache's HTTP client, so list it after the
/// HTTP server (services stop in reverse order).
///
/// ```swift
/// let refresher = JWKSRefresher(cache: cache, client: client)
/// let group = ServiceGroup(services: [refresher, server], logger: logger)
/// ```
public struct JWKSRefresher: Service {
    public let cache: JWKSCache
    private let client: OutboundClient?

    /// `client`, when given, is shut down after the refresher stops.
    public init(cache: JWKSCache, shutdownClient client: OutboundClient? = nil) {
        self.cache = cache
        self.client = client
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let outcome = await self.cache.refresh()
            let seconds: Double
            switch outcome {
            case .updated: seconds = self.cache.options.maxAge
            case .failed: seconds = self.cache.options.retryInterval
            }
            do {
                try await cancelWhenGracefulShutdown {
                    try await Task.sleep(for: .milliseconds(Int64(max(0.001, seconds) * 1000)))
                }
            } catch {
                break
            }
        }
        await self.client?.shutdown()
    }
}
