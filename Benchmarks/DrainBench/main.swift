// Drains committed events through the audit handler with the real dispatcher and a real
// database, and reports deliveries per second.
//
//   swift build -c release --product inlet-drain-bench
//   .build/release/inlet-drain-bench [events=100000] [synchronous=full]      SQLite: fill, then drain
//   .build/release/inlet-drain-bench console [events=100000]                SQLite: the console's queries (ConsoleQueries.swift)
//
// With INLET_DATABASE=postgres://… (password in INLET_DATABASE_PASSWORD), the phases run
// apart, so that several processes can drain one database (Benchmarks/postgres.sh):
//   inlet-drain-bench fill N      append N events, each with an audit delivery
//   inlet-drain-bench drain       run a dispatcher until no delivery is pending or running
//   inlet-drain-bench latency RATE SECONDS [append]
//                                 run a dispatcher for SECONDS whose handler records how long
//                                 each delivery waited from its event's commit to its start;
//                                 with `append`, also append RATE events per second (one at a
//                                 time, as webhooks arrive): run one process with `append` and
//                                 others without to see claims across instances
import AuditHandler
import Foundation
import InletCore
import InletPostgres
import InletSQLite
import Logging
import Synchronization

let arguments = CommandLine.arguments
let environment = ProcessInfo.processInfo.environment
let payload = try String(contentsOfFile: "fixtures/productivity/employee-created.json", encoding: .utf8)
/// The audit handler, with the options `inlet serve` gives it unless configured otherwise
/// (AUDIT_CONCURRENCY overrides).
func auditRegistry() throws -> HandlerRegistry {
    var registry = HandlerRegistry()
    var options = AuditHandler.defaultOptions
    options.concurrency = Int(ProcessInfo.processInfo.environment["AUDIT_CONCURRENCY"] ?? "") ?? options.concurrency
    try registry.add(AuditHandler(), options: options)
    return registry
}

/// Appends `total` events from 64 concurrent writers (as under HTTP load).
func fill(_ store: some InletStore, total: Int, prefix: String) async throws {
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        let writers = 64
        for writer in 0..<writers {
            group.addTask {
                for index in stride(from: writer, to: total, by: writers) {
                    _ = try await store.appendEvent(source: "bench", id: "\(prefix)_\(index)", type: "employee.created", payload: payload, handlers: ["audit"])
                }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = ContinuousClock.now - start
    print("appended \(total) events with deliveries in \(elapsed) (\(Int(Double(total) / elapsed.seconds)) events/s)")
}

/// Runs a dispatcher until the backlog is empty; returns how long it took.
func drain(_ store: some InletStore) async throws -> (Duration, Int) {
    let before = try await store.queueStatus().depth
    let dispatcher = Dispatcher(store: store, registry: try auditRegistry(), logger: Logger(label: "bench"))
    let start = ContinuousClock.now
    let runner = Task { try await dispatcher.run() }
    var remaining = before
    let deadline = ContinuousClock.now + .seconds(600)
    while remaining > 0 && ContinuousClock.now < deadline {
        // Not often: on PostgreSQL the count is a scan of the backlog, which competes with
        // the drain it measures.
        try await Task.sleep(for: .milliseconds(250))
        remaining = try await store.queueStatus().depth
    }
    let elapsed = ContinuousClock.now - start
    runner.cancel()
    return (elapsed, before - remaining)
}

/// Records, for each delivery it runs, how long it waited to start: from the moment its
/// append was acknowledged when this process appended it (commit to start), else from its
/// event's receipt (an upper bound: it includes the other process's commit).
struct LatencyHandler: EventHandler {
    static let name = "latency"
    let subscriptions: [EventPattern] = [EventPattern("employee.created")]
    final class Waits: Sendable {
        let acknowledged = Mutex<[String: Int64]>([:])
        let fromCommit = Mutex<[Double]>([])
        let fromReceipt = Mutex<[Double]>([])
    }
    let waits = Waits()

    func handle(_ event: Event, context: HandlerContext) async throws {
        let now = WallClock.system.now().millisecondsSinceEpoch
        if let acknowledged = self.waits.acknowledged.withLock({ $0[event.id] }) {
            self.waits.fromCommit.withLock { $0.append(Double(now - acknowledged)) }
        } else if let received = Timestamp(rfc3339: event.receivedAt) {
            self.waits.fromReceipt.withLock { $0.append(Double(now - received.millisecondsSinceEpoch)) }
        }
    }
}

/// Appends `rate` events a second for `seconds` while a dispatcher runs the latency
/// handler; prints the waits' percentiles (ms) of the deliveries this process ran.
func latency(_ store: some InletStore, rate: Int, seconds: Int, append: Bool) async throws {
    let handler = LatencyHandler()
    var registry = HandlerRegistry()
    var options = HandlerOptions()
    options.concurrency = 16
    try registry.add(handler, options: options)
    let dispatcher = Dispatcher(store: store, registry: registry, logger: Logger(label: "bench"))
    let runner = Task { try await dispatcher.run() }
    let clock = ContinuousClock()
    let start = clock.now
    if append {
        let prefix = "lat_\(UInt32.random(in: 0...UInt32.max))"
        for index in 0..<(rate * seconds) {
            try await clock.sleep(until: start + .seconds(Double(index) / Double(rate)))
            let id = "\(prefix)_\(index)"
            _ = try await store.appendEvent(source: "bench", id: id, type: "employee.created", payload: payload, handlers: ["latency"])
            let acknowledged = WallClock.system.now().millisecondsSinceEpoch
            handler.waits.acknowledged.withLock { $0[id] = acknowledged }
            dispatcher.notify(["latency"])
        }
        // Time for the last deliveries to be claimed.
        try await clock.sleep(until: clock.now + .seconds(2))
    } else {
        try await clock.sleep(until: start + .seconds(seconds + 2))
    }
    runner.cancel()
    for (label, waits) in [
        ("acknowledged append to start", handler.waits.fromCommit.withLock { $0 }.sorted()),
        ("another process's receipt to start", handler.waits.fromReceipt.withLock { $0 }.sorted()),
    ] where !waits.isEmpty {
        func percentile(_ p: Double) -> Double { waits[min(waits.count - 1, Int(Double(waits.count) * p))] }
        print("\(waits.count) deliveries, \(label): p50 \(percentile(0.5)) ms, p99 \(percentile(0.99)) ms, max \(waits.last ?? 0) ms")
    }
}

/// The phase the arguments name, on the database the environment names.
func run() async throws {
    if let url = environment["INLET_DATABASE"], PostgresLocation.isPostgresURL(url) {
        var location = try PostgresLocation(url: url)
        location.password = environment["INLET_DATABASE_PASSWORD"] ?? location.password
        let store = try await PostgresStore.open(location, logger: Logger(label: "bench"))
        switch arguments.count > 1 ? arguments[1] : "" {
        case "fill":
            let total = arguments.count > 2 ? Int(arguments[2]) ?? 100_000 : 100_000
            try await fill(store, total: total, prefix: "evt_\(UInt32.random(in: 0...UInt32.max))")
        case "drain":
            let (elapsed, drained) = try await drain(store)
            print("backlog of \(drained) drained in \(elapsed) (\(Int(Double(drained) / elapsed.seconds)) deliveries/s, all instances)")
        case "console":
            try await consoleQueries(store, total: arguments.count > 2 ? Int(arguments[2]) ?? 100_000 : 100_000)
        case "latency":
            let rate = arguments.count > 2 ? Int(arguments[2]) ?? 100 : 100
            let seconds = arguments.count > 3 ? Int(arguments[3]) ?? 20 : 20
            try await latency(store, rate: rate, seconds: seconds, append: arguments.count > 4 && arguments[4] == "append")
        default:
            print("usage: INLET_DATABASE=postgres://… inlet-drain-bench fill N | drain | latency RATE SECONDS [append] | console N")
        }
        await store.close()
    } else if arguments.count > 1 && arguments[1] == "console" {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-console-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await SQLiteStore.open(path: folder.appendingPathComponent("bench.sqlite").path)
        try await consoleQueries(store, total: arguments.count > 2 ? Int(arguments[2]) ?? 100_000 : 100_000)
        await store.close()
    } else {
        let total = arguments.count > 1 ? Int(arguments[1]) ?? 100_000 : 100_000
        let synchronous = arguments.count > 2 ? SQLiteSynchronous(rawValue: arguments[2]) ?? .full : .full
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-drain-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try await SQLiteStore.open(path: folder.appendingPathComponent("bench.sqlite").path, options: .init(synchronous: synchronous))
        try await fill(store, total: total, prefix: "evt")
        let (elapsed, drained) = try await drain(store)
        let audited = try await store.read { try $0.requiredRow("SELECT count(*) AS count FROM audit_log").int("count") }
        print("drained \(drained) deliveries through audit in \(elapsed): \(Int(Double(drained) / elapsed.seconds)) deliveries/s (audit rows: \(audited), synchronous=\(synchronous.rawValue))")
        await store.close()
    }
}

// In a function: the optimizer of Swift 6.3 crashes on this code at top level.
try await run()
