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

/// Runs `executable ARGUMENTS` to its end (standard error discarded); its exit status and
/// standard output. The output is read with the throwing `readToEnd()`: the older
/// `readDataToEndOfFile()` ends the whole test process with a `try!` when a read is
/// interrupted by a signal (EINTR), which a child's exit can cause while another test runs.
///
/// ```swift
/// let (status, output) = try runToEnd(InletServeProcess.binary, ["events", "list"])
/// ```
public func runToEnd(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try startProcess(process)
    let data = try output.fileHandleForReading.readToEnd() ?? Data()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
