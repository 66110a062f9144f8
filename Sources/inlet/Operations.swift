import ArgumentParser
import Foundation
import InletCore

/// Opens the configured store for a one-shot command and closes it afterwards.
func withStore<T>(_ common: CommonOptions, _ body: (SQLiteStore, Configuration) async throws -> T) async throws -> T {
    let configuration = try common.load()
    let store = try await SQLiteStore.open(path: configuration.databasePath, options: .init(synchronous: configuration.synchronous))
    do {
        let value = try await body(store, configuration)
        await store.close()
        return value
    } catch {
        await store.close()
        throw error
    }
}

func printJSON(_ value: JSONValue) {
    print(value.serializedString)
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
        abstract: "Make an event's deliveries, or every dead delivery, due again now.",
        discussion: "A running `inlet serve` on the same database picks them up within its poll interval (1 s)."
    )
    @OptionGroup var common: CommonOptions
    @Flag(help: "Replay every dead-lettered delivery.")
    var dead = false
    @Argument(help: "The event id (omit with --dead).")
    var id: String?

    func validate() throws {
        guard self.dead != (self.id != nil) else { throw ValidationError("give either an event id or --dead") }
    }

    func run() async throws {
        if self.dead {
            let count = try await withStore(self.common) { store, _ in try await store.replayDead() }
            printJSON(["replayed": .int(count)])
        } else if let id = self.id {
            guard let count = try await withStore(self.common, { store, _ in try await store.replay(eventID: id) }) else {
                throw ValidationError("no event with id \(id)")
            }
            printJSON(["replayed": .int(count), "event_id": .string(id)])
        }
    }
}

struct Handlers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the registered handlers, their subscriptions, and why any is not running."
    )
    @OptionGroup var common: CommonOptions

    func run() async throws {
        try await withStore(self.common) { store, configuration in
            let registry = try HandlerRegistry(
                factories: builtinHandlers(caBundlePath: configuration.caBundlePath, proxy: configuration.httpProxy), settings: configuration.handlerSettings, environment: configuration.environment, store: store
            )
            for entry in registry.active {
                printJSON([
                    "handler": .string(entry.name), "enabled": true,
                    "subscriptions": .array(entry.subscriptions.map { .string($0.pattern) }),
                    "max_attempts": .int(entry.options.maxAttempts), "concurrency": .int(entry.options.concurrency),
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
