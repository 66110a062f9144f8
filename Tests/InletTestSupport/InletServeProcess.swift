public import Foundation
internal import Glibc
internal import InletHTTPClient

/// A real `inlet serve` process (the binary `swift build --build-tests` built), on an
/// ephemeral loopback port that it reports in its log: no port is guessed, so no other
/// test can take it first.
///
/// End-to-end tests start one (or several on one PostgreSQL database), send it requests
/// over loopback, and stop it with SIGTERM, or SIGKILL to simulate a crash. Its standard
/// output and error go to `log` (appended), which a failing test prints.
///
/// ```swift
/// let inlet = try await InletServeProcess.start(arguments: ["--config", config], environment: ["INLET_DATABASE": url], log: log)
/// defer { inlet.kill() }
/// // POST to http://127.0.0.1:\(inlet.port)/hooks/productivity ...
/// try inlet.terminate()   // SIGTERM, then expects exit status 0
/// ```
public final class InletServeProcess: @unchecked Sendable {
    // @unchecked Sendable: `process`, `port` and `log` are set in init and never change;
    // Foundation's Process may be signalled and waited for from any thread.
    public let process: Process
    /// The port it listens on (127.0.0.1).
    public let port: Int
    /// The file its output goes to.
    public let log: String

    private init(process: Process, port: Int, log: String) {
        self.process = process
        self.port = port
        self.log = log
    }

    /// The package's root folder (this file is Tests/InletTestSupport/InletServeProcess.swift).
    public static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The `inlet` executable that `swift build --build-tests` built beside the tests.
    public static var binary: String {
        let candidates = [".build/debug/inlet", ".build/x86_64-unknown-linux-gnu/debug/inlet", ".build/aarch64-unknown-linux-gnu/debug/inlet"]
        return candidates.map { packageRoot.appendingPathComponent($0).path }.first { FileManager.default.isExecutableFile(atPath: $0) }
            ?? candidates[0]
    }

    public var pid: Int32 { self.process.processIdentifier }
    public var isRunning: Bool { self.process.isRunning }
    public var baseURL: String { "http://127.0.0.1:\(self.port)" }

    /// Starts `inlet serve ARGUMENTS --listen 127.0.0.1:0` with this process's environment
    /// plus `environment`, and returns once it has logged its address (within `timeout`).
    /// Throws ``InletServeProcess/Failure`` with the log when it exits first or says nothing in time.
    public static func start(
        arguments: [String] = [], environment extra: [String: String] = [:], log: String, timeout: Duration = .seconds(60)
    ) async throws -> InletServeProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve"] + arguments + ["--listen", "127.0.0.1:0"]
        var environment = ProcessInfo.processInfo.environment
        environment.merge(extra) { $1 }
        process.environment = environment
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let offset = handle.seekToEndOfFile()
        process.standardError = handle
        process.standardOutput = handle
        try startProcess(process)
        try? handle.close()
        var port: Int?
        do {
            try await eventually(timeout: timeout, "inlet to log its address") {
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                let fresh = String(decoding: text.utf8.dropFirst(Int(offset)), as: UTF8.self)
                guard let line = fresh.split(separator: "\n").first(where: { $0.contains("address=127.0.0.1:") }),
                    let range = line.range(of: "address=127.0.0.1:")
                else { return !process.isRunning }
                port = Int(line[range.upperBound...].prefix { $0.isNumber })
                return true
            }
        } catch {
            if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
            throw Failure("inlet serve did not report its address within \(timeout)", log: log)
        }
        guard let port else {
            process.waitUntilExit()
            throw Failure("inlet serve exited with status \(process.terminationStatus) before listening", log: log)
        }
        return InletServeProcess(process: process, port: port, log: log)
    }

    /// Starts `count` processes at once with the same `arguments` and `environment`, each
    /// logging to `folder/inlet-N.log`, and returns them once each answers `/healthz` (all
    /// killed if one fails). Several on one PostgreSQL database are a cluster: starting
    /// together, they apply the schema under its advisory lock.
    public static func startCluster(
        _ count: Int, arguments: [String] = [], environment: [String: String], folder: String
    ) async throws -> [InletServeProcess] {
        let results = await withTaskGroup(of: (Int, Result<InletServeProcess, any Error>).self) { group in
            for index in 0..<count {
                group.addTask {
                    do {
                        return (index, .success(try await Self.start(arguments: arguments, environment: environment, log: folder + "/inlet-\(index).log")))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var results: [(Int, Result<InletServeProcess, any Error>)] = []
            for await entry in group { results.append(entry) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
        let instances = results.compactMap { try? $0.get() }
        do {
            for result in results { _ = try result.get() }
            for instance in instances { try await instance.waitUntilServing() }
        } catch {
            for instance in instances { instance.kill() }
            throw error
        }
        return instances
    }

    /// Polls `GET /healthz` until it answers 200 (within `timeout`).
    public func waitUntilServing(timeout: Duration = .seconds(60)) async throws {
        try await Self.waitUntilServing(port: self.port, log: self.log, timeout: timeout)
    }

    /// Polls `GET /healthz` on 127.0.0.1:`port` until it answers 200 (within `timeout`);
    /// the error carries the log at `log`.
    public static func waitUntilServing(port: Int, log: String, timeout: Duration = .seconds(60)) async throws {
        let client = OutboundClient()
        defer { Task { await client.shutdown() } }
        do {
            try await eventually(timeout: timeout, "inlet serving on \(port)") {
                let response = try? await client.execute(OutboundRequest(url: "http://127.0.0.1:\(port)/healthz", connectTimeout: 1, timeout: 2))
                return response?.status == 200
            }
        } catch {
            throw Failure("inlet on port \(port) did not answer /healthz: \(error)", log: log)
        }
    }

    /// Sends `signal` (SIGKILL by default) if it still runs, and waits for it to exit.
    public func kill(_ signal: Int32 = SIGKILL) {
        guard self.process.isRunning else { return }
        Glibc.kill(self.process.processIdentifier, signal)
        self.process.waitUntilExit()
    }

    /// SIGTERM, then waits up to `timeout` for the graceful exit (SIGKILL after it); returns
    /// the exit status (nil when it had to be killed).
    @discardableResult
    public func terminate(timeout: Duration = .seconds(30)) async -> Int32? {
        guard self.process.isRunning else { return self.process.terminationStatus }
        Glibc.kill(self.process.processIdentifier, SIGTERM)
        let exited = (try? await eventually(timeout: timeout, "inlet to exit") { !self.process.isRunning }) != nil
        guard exited else {
            self.kill()
            return nil
        }
        self.process.waitUntilExit()
        return self.process.terminationStatus
    }

    /// The log so far.
    public var logText: String { (try? String(contentsOfFile: self.log, encoding: .utf8)) ?? "" }

    /// Why a process could not be started or reached, with its log.
    public struct Failure: Error, CustomStringConvertible {
        public let message: String
        public let log: String

        init(_ message: String, log path: String) {
            self.message = message
            self.log = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "(no log)"
        }

        public var description: String { "\(self.message); its log:\n\(self.log.suffix(6000))" }
    }
}
