public import Foundation

/// Starts `process`, one start at a time in the test process: Foundation's `Process.run`
/// crashed (SIGSEGV in memcpy, inside `run`) when tests started processes at once on
/// several threads (the cluster tests start instances in parallel beside the CLI tests).
///
/// ```swift
/// try startProcess(process)   // instead of process.run()
/// ```
public func startProcess(_ process: Process) throws {
    processStarts.lock()
    defer { processStarts.unlock() }
    try process.run()
}

private let processStarts = NSLock()
