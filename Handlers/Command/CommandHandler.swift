public import InletCore
internal import Logging

#if canImport(Glibc)
internal import Glibc
#endif

/// Runs a program for each event: the payload on its standard input, the outcome from
/// its exit status.
///
/// Lets operators hook any script or binary into Inlet without writing Swift. The program
/// is started with `posix_spawn` — no shell, no fork of the Swift runtime — with
/// `arguments` as given, the event's payload JSON on standard input (then closed), and an
/// environment holding only the parent's `PATH`, `environment`, and `INLET_EVENT_ID`,
/// `INLET_EVENT_TYPE`, `INLET_EVENT_SOURCE`, `INLET_DELIVERY_ATTEMPT` (these four cannot
/// be overridden). Standard output and standard error are captured together, the first
/// `maxOutputBytes` kept and the rest read and discarded so the program never blocks on
/// a full pipe.
///
/// Exit 0 is done; exit 75 (`EX_TEMPFAIL`) is a transient failure (retried); any other
/// status, death by a signal, or a program that cannot be started is permanent. A
/// program still running after `timeout` seconds is killed with its process group and
/// the delivery retried. Failure messages carry the status and the captured output, so
/// operators see them as the delivery's last error.
///
/// Each run is a ``ChildProcess``, supervised on its own thread, never on Swift's
/// cooperative pool: the pipe I/O, `poll` and `waitpid` all block. This type decides only
/// what the program gets (arguments, environment, input) and what its end means.
///
/// ```swift
/// let provision = CommandHandler(
///     program: "/usr/local/bin/provision-account",
///     arguments: ["--quiet"],
///     subscriptions: ["employee.*"],
///     timeout: 10,
///     environment: ["DIRECTORY_URL": "https://directory.internal"]
/// )
/// ```
public struct CommandHandler: EventHandler {
    public static let name = "command"

    /// An absolute path, or a name looked up in the server's `PATH`.
    public let program: String
    public let arguments: [String]
    public let subscriptions: [EventPattern]
    /// Seconds before the program is killed and the delivery retried.
    public let timeout: Double
    public var timeoutSeconds: Double? { self.timeout }
    /// How much of the combined standard output and error is kept for the error message.
    public let maxOutputBytes: Int
    /// Extra environment variables (they may override `PATH`).
    public let environment: [String: String]

    public init(
        program: String,
        arguments: [String] = [],
        subscriptions: [EventPattern],
        timeout: Double = 30,
        maxOutputBytes: Int = 8192,
        environment: [String: String] = [:]
    ) {
        self.program = program
        self.arguments = arguments
        self.subscriptions = subscriptions
        self.timeout = timeout
        self.maxOutputBytes = max(0, maxOutputBytes)
        self.environment = environment
    }

    public func handle(_ event: Event, context: HandlerContext) async throws {
        let environment = try self.childEnvironment(event: event, attempt: context.attempt)
        guard let process = ChildProcess(
            program: self.program,
            arguments: [self.program] + self.arguments,
            environment: environment,
            input: Array(event.payload.utf8),
            timeout: self.timeout,
            maxOutputBytes: self.maxOutputBytes
        ) else {
            throw HandlerError.permanent(
                "command \(String(reflecting: self.program)): program and arguments must be non-empty text without NUL bytes"
            )
        }
        let result = await process.run()
        try self.check(result, logger: context.logger)
    }

    /// `PATH` from the parent, then `environment`, then the `INLET_*` variables.
    private func childEnvironment(event: Event, attempt: Int) throws(HandlerError) -> [String] {
        var variables: [String: String] = [:]
        if let path = getenv("PATH") {
            variables["PATH"] = String(cString: path)
        }
        for (name, value) in self.environment {
            guard !name.isEmpty, !name.utf8.contains(UInt8(ascii: "=")), !name.utf8.contains(0),
                  !value.utf8.contains(0)
            else {
                throw .permanent("command `\(self.program)`: invalid environment variable \(String(reflecting: name))")
            }
            variables[name] = value
        }
        variables["INLET_EVENT_ID"] = event.id
        variables["INLET_EVENT_TYPE"] = event.type
        variables["INLET_EVENT_SOURCE"] = event.source
        variables["INLET_DELIVERY_ATTEMPT"] = String(attempt)
        return variables.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }

    /// Returns for exit 0; throws the ``HandlerError`` the outcome calls for.
    private func check(_ result: ChildProcessResult, logger: Logger) throws(HandlerError) {
        let name = "command `\(self.program)`"
        let output = result.outputText()
        let suffix = output.isEmpty ? "" : ": \(output)"
        switch result.termination {
        case .exited(0):
            logger.debug(
                "command finished",
                metadata: ["program": "\(self.program)", "pid": "\(result.pid)", "output": "\(output)"]
            )
        case .exited(EX_TEMPFAIL):
            throw .transient("\(name) exited with status \(EX_TEMPFAIL) (temporary failure)\(suffix)")
        case .exited(let status):
            throw .permanent("\(name) exited with status \(status)\(suffix)")
        case .signaled(let signal):
            throw .permanent("\(name) was killed by signal \(signal)\(suffix)")
        case .timedOut:
            throw .transient("\(name) timed out after \(self.timeout) s and was killed\(suffix)")
        case .cancelled:
            throw .transient("\(name) was killed: the delivery was cancelled\(suffix)")
        case .spawnFailed(let code):
            throw .permanent("\(name) could not be started: \(Self.errnoText(code))")
        case .supervisionFailed(let call, let code):
            throw .transient("\(name): \(call) failed: \(Self.errnoText(code))\(suffix)")
        case .supervisorNotStarted(let code):
            throw .transient("\(name): could not start a supervising thread: \(Self.errnoText(code))")
        }
    }

    /// `strerror` and the number, as failure messages show a C error.
    private static func errnoText(_ code: Int32) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }
}
