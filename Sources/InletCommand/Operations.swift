import ArgumentParser
import Foundation
import HTTPTypes
import InletCore
import InletHTTPClient
import InletServer

func printJSON(_ value: JSONValue) {
    print(value.serializedString)
}

/// The admin API of the server that holds the database, reached at its configured listen
/// address with `ADMIN_API_TOKEN`.
struct AdminAPI {
    let configuration: Configuration
    let serverPID: Int32

    /// Sends `POST path` and returns the answer's JSON; nil for 404 (no such event); any
    /// other answer outside 2xx is an error carrying the server's message.
    func post(_ path: String) async throws -> JSONValue? {
        let holder = self.serverPID > 0 ? "inlet serve (pid \(self.serverPID))" : "another inlet process"
        guard let token = self.configuration.adminAPIToken else {
            throw ValidationError(
                "\(self.configuration.database) is held by \(holder); set ADMIN_API_TOKEN (as the server has it) to run this through its admin API"
            )
        }
        var host = self.configuration.listenHost
        if host == "0.0.0.0" || host.isEmpty { host = "127.0.0.1" }
        if host == "::" { host = "::1" }
        if host.contains(":") { host = "[\(host)]" }
        let authorization = "Bearer \(token.value)"
        guard HTTPField.isValidValue(authorization) else {
            throw ValidationError("ADMIN_API_TOKEN holds a character that cannot be sent in an HTTP header")
        }
        let client = OutboundClient()
        defer { Task { await client.shutdown() } }
        let response: OutboundResponse
        do {
            response = try await client.execute(
                OutboundRequest(
                    method: .post, url: "http://\(host):\(self.configuration.listenPort)\(path)",
                    headers: [.authorization: authorization], connectTimeout: 5, timeout: 60
                )
            )
        } catch {
            throw ValidationError("\(self.configuration.database) is held by \(holder), whose admin API did not answer: \(error)")
        }
        let body = (try? JSONDocument.parse(response.body).root.value) ?? .null
        if response.status == 404 { return nil }
        guard (200..<300).contains(response.status) else {
            throw ValidationError("the server answered \(response.status): \(body["message"]?.stringValue ?? "no message")")
        }
        return body
    }
}

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show stored events and each handler's delivery state.",
        subcommands: [List.self, Show.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List events, newest first, one JSON object a line.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Only events with a delivery in this state: pending, running, done, dead.")
        var status: String?
        @Option(help: "Only events of this type.")
        var type: String?
        @Option(help: "At most this many events.")
        var limit = 50

        func run() async throws {
            let state = try self.status.map { text -> DeliveryState in
                guard let state = DeliveryState(rawValue: text) else { throw ValidationError("--status must be pending, running, done or dead") }
                return state
            }
            let records = try await withStore(self.common) { store, _ in
                try await store.listEvents(state: state, type: self.type, limit: self.limit)
            }
            for record in records { printJSON(record.json(includePayload: false)) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one event, its payload and its deliveries.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "The event id.")
        var id: String

        func run() async throws {
            guard let record = try await withStore(self.common, { store, _ in try await store.eventRecord(id: self.id) }) else {
                throw ValidationError("no event with id \(self.id)")
            }
            printJSON(record.json(includePayload: true))
        }
    }
}

struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make an event's deliveries, or dead deliveries, due again now.",
        discussion: """
            A running `inlet serve` on the same database picks them up within its poll interval (1 s). \
            With --dead, --handler limits the replay to one handler's dead deliveries and --error-key to one \
            dead-letter group (as GET /admin/dead-letters lists them); with an event id, --handler replays \
            only that handler's delivery of the event.
            """
    )
    @OptionGroup var common: CommonOptions
    @Flag(help: "Replay dead-lettered deliveries (all, or those of --handler and --error-key).")
    var dead = false
    @Option(help: "Only this handler's deliveries.")
    var handler: String?
    @Option(name: .customLong("error-key"), help: "With --dead and --handler: only the dead-letter group with this error key.")
    var errorKey: String?
    @Argument(help: "The event id (omit with --dead).")
    var id: String?

    func validate() throws {
        guard self.dead != (self.id != nil) else { throw ValidationError("give either an event id or --dead") }
        if self.errorKey != nil && (!self.dead || self.handler == nil) { throw ValidationError("--error-key needs --dead and --handler") }
    }

    func run() async throws {
        if self.dead {
            var query: [String] = []
            if let handler { query.append("handler=\(Self.queryValue(handler))") }
            if let errorKey { query.append("error_key=\(Self.queryValue(errorKey))") }
            let count = try await withWriter(self.common) { store in
                try await store.replayDead(handler: self.handler, errorKey: self.errorKey)
            } server: { api in
                query.isEmpty
                    ? try await api.post("/admin/deliveries/replay?state=dead")?["replayed"]?.intValue ?? 0
                    : try await api.post("/admin/dead-letters/replay?" + query.joined(separator: "&"))?["replayed"]?.intValue ?? 0
            }
            printJSON(["replayed": .int(count)])
        } else if let id = self.id {
            let count = try await withWriter(self.common) { store in
                try await store.replay(eventID: id, handler: self.handler)
            } server: { api in
                let query = self.handler.map { "?handler=\(Self.queryValue($0))" } ?? ""
                return try await api.post("/admin/events/\(Self.pathSegment(id))/replay\(query)")?["replayed"]?.intValue
            }
            guard let count else { throw ValidationError("no event with id \(id)") }
            printJSON(["replayed": .int(count), "event_id": .string(id)])
        }
    }

    /// `id` percent-encoded for one path segment.
    static func pathSegment(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? id
    }

    /// `value` percent-encoded for a query string.
    static func queryValue(_ value: String) -> String { Self.pathSegment(value) }
}

struct Purge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete old events whose deliveries are finished, dead ones included, with their deliveries and audit rows.",
        discussion: "Retention (INLET_RETENTION_DAYS) deletes finished events whose deliveries are all done; events with a dead delivery stay until replayed or purged with this command."
    )
    @OptionGroup var common: CommonOptions
    @Flag(help: "Also delete events with dead deliveries (required: this is what the command is for).")
    var dead = false
    @Option(name: .customLong("older-than"), help: "Only events received more than this many days ago.")
    var olderThan: Int

    func validate() throws {
        guard self.dead else { throw ValidationError("--dead is required (finished events go by retention)") }
        guard self.olderThan >= 0 else { throw ValidationError("--older-than must be 0 or more days") }
    }

    func run() async throws {
        let count = try await withWriter(self.common) { store in
            try await purgeFinished(store, olderThanDays: self.olderThan, includingDead: true)
        } server: { api in
            try await api.post("/admin/deliveries/purge?state=dead&older_than_days=\(self.olderThan)")?["purged"]?.intValue ?? 0
        }
        printJSON(["purged": .int(count), "older_than_days": .int(self.olderThan)])
    }
}

struct Handlers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the registered handlers, or pause and resume one.",
        subcommands: [List.self, Pause.self, Resume.self],
        defaultSubcommand: List.self
    )

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pause a handler: its deliveries stay pending and no instance claims any until it is resumed (kept across restarts)."
        )
        @OptionGroup var common: CommonOptions
        @Argument(help: "The handler's name (as `inlet handlers` lists it).")
        var name: String

        func run() async throws { try await setPaused(true, handler: self.name, common: self.common) }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a paused handler: its pending deliveries run again.")
        @OptionGroup var common: CommonOptions
        @Argument(help: "The handler's name.")
        var name: String

        func run() async throws { try await setPaused(false, handler: self.name, common: self.common) }
    }

    /// Through the admin API of the server holding a SQLite file, else in the database.
    static func setPaused(_ paused: Bool, handler: String, common: CommonOptions) async throws {
        let configuration = try common.load()
        let known = InletCommand.factories(configuration).map(\.name)
        guard known.contains(handler) else {
            throw ValidationError("no handler named \(handler) (known: \(known.sorted().joined(separator: ", ")))")
        }
        let path = "/admin/handlers/\(Replay.pathSegment(handler))/\(paused ? "pause" : "resume")"
        _ = try await CommandDatabase.writing(configuration) { store in
            try await store.setPaused(paused, handler: handler)
        } server: { api in
            guard try await api.post(path) != nil else { throw ValidationError("the server knows no handler named \(handler)") }
        }
        printJSON(["handler": .string(handler), "paused": .bool(paused)])
    }
}

extension Handlers {
    /// `inlet handlers` (and `inlet handlers list`).
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the registered handlers, their subscriptions, whether paused, and why any is not running."
        )
        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await withStore(self.common) { store, configuration in
                let paused = try await store.pausedHandlers()
                let registry = try HandlerRegistry(
                    factories: InletCommand.factories(configuration), settings: configuration.handlerSettings,
                    environment: configuration.environment, stores: store
                )
                for entry in registry.active {
                    printJSON([
                        "handler": .string(entry.name), "enabled": true,
                        "subscriptions": .array(entry.subscriptions.map { .string($0.pattern) }),
                        "max_attempts": .int(entry.options.maxAttempts), "concurrency": .int(entry.options.concurrency),
                        "paused": .bool(paused.contains(entry.name)),
                    ])
                }
                for entry in registry.inactive {
                    var line: [(String, JSONValue)] = [("handler", .string(entry.name)), ("enabled", false), ("reason", .string(entry.reason))]
                    if let waiting = entry.waitingOn {
                        line.append(("deliveries_wait_for", .array(waiting.map { .string($0.pattern) })))
                    }
                    printJSON(.object(line))
                }
            }
        }
    }
}
