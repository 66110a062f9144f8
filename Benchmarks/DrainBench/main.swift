// Drains N committed events through the audit handler with the real dispatcher and a
// real SQLite file, and reports deliveries per second.
//
//   swift build -c release --product inlet-drain-bench
//   .build/release/inlet-drain-bench [events=100000] [synchronous=full]
import AuditHandler
import Foundation
import InletCore
import InletSQLite
import Logging

let arguments = CommandLine.arguments
let total = arguments.count > 1 ? Int(arguments[1]) ?? 100_000 : 100_000
let synchronous = arguments.count > 2 ? SQLiteSynchronous(rawValue: arguments[2]) ?? .full : .full
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inlet-drain-\(UUID().uuidString)")
defer { try? FileManager.default.removeItem(at: folder) }
let store = try await SQLiteStore.open(path: folder.appendingPathComponent("bench.sqlite").path, options: .init(synchronous: synchronous))

let payload = try String(contentsOfFile: "fixtures/productivity/employee-created.json", encoding: .utf8)
var registry = HandlerRegistry()
// The options `inlet serve` gives audit unless configured otherwise (AUDIT_CONCURRENCY overrides).
var options = AuditHandler.defaultOptions
options.concurrency = Int(ProcessInfo.processInfo.environment["AUDIT_CONCURRENCY"] ?? "") ?? options.concurrency
try registry.add(AuditHandler(), options: options)

// Fill: many concurrent appends so they share transactions, as under HTTP load.
let fillStart = ContinuousClock.now
try await withThrowingTaskGroup(of: Void.self) { group in
    let writers = 64
    for writer in 0..<writers {
        group.addTask {
            for index in stride(from: writer, to: total, by: writers) {
                _ = try await store.appendEvent(source: "bench", id: "evt_\(index)", type: "employee.created", payload: payload, handlers: ["audit"])
            }
        }
    }
    try await group.waitForAll()
}
let fill = ContinuousClock.now - fillStart
print("appended \(total) events with deliveries in \(fill) (\(Int(Double(total) / fill.seconds)) events/s)")

// Outcomes are audited: the audit handler records them (as under `inlet serve`).
let dispatcher = Dispatcher(store: store, registry: registry, logger: Logger(label: "bench"))
let drainStart = ContinuousClock.now
let runner = Task { try await dispatcher.run() }
var remaining = total
let deadline = ContinuousClock.now + .seconds(600)
while remaining > 0 && ContinuousClock.now < deadline {
    try await Task.sleep(for: .milliseconds(50))
    remaining = try await store.queueStatus().depth
}
let drain = ContinuousClock.now - drainStart
runner.cancel()
let audited = try await store.read { try $0.requiredRow("SELECT count(*) AS count FROM audit_log").int("count") }
print("drained \(total - remaining) deliveries through audit in \(drain): \(Int(Double(total - remaining) / drain.seconds)) deliveries/s (audit rows: \(audited), synchronous=\(synchronous.rawValue))")
await store.close()
