public import InletCore
internal import Logging
internal import Synchronization

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
/// Each run is supervised on its own thread, never on Swift's cooperative pool: the
/// pipe I/O, `poll` and `waitpid` all block.
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
        let request = try CommandRequest(
            program: self.program,
            arguments: [self.program] + self.arguments,
            environment: self.childEnvironment(event: event, attempt: context.attempt),
            input: Array(event.payload.utf8),
            timeout: self.timeout,
            maxOutputBytes: self.maxOutputBytes
        )
        let result = try await CommandRun.run(request)
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
    private func check(_ result: CommandResult, logger: Logger) throws(HandlerError) {
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
        }
    }

    static func errnoText(_ code: Int32) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }
}

// MARK: - Running one command

/// One program to run: everything the supervising thread needs, as plain values.
struct CommandRequest: Sendable {
    let program: String
    /// Including `argv[0]`.
    let arguments: [String]
    /// `NAME=value` entries.
    let environment: [String]
    let input: [UInt8]
    let timeout: Double
    let maxOutputBytes: Int

    init(
        program: String, arguments: [String], environment: [String], input: [UInt8],
        timeout: Double, maxOutputBytes: Int
    ) throws(HandlerError) {
        guard !program.isEmpty, !program.utf8.contains(0), !arguments.contains(where: { $0.utf8.contains(0) }) else {
            throw .permanent("command \(String(reflecting: program)): program and arguments must be non-empty text without NUL bytes")
        }
        self.program = program
        self.arguments = arguments
        self.environment = environment
        self.input = input
        self.timeout = timeout
        self.maxOutputBytes = maxOutputBytes
    }
}

/// How a run ended, and what it printed.
struct CommandResult: Sendable {
    enum Termination: Sendable, Equatable {
        case exited(Int32)
        case signaled(Int32)
        case timedOut
        case cancelled
        /// `posix_spawn` (or creating its pipes) failed with this errno.
        case spawnFailed(Int32)
        /// A system call of the supervision itself failed; the child was killed.
        case supervisionFailed(String, Int32)
    }

    var termination: Termination
    var pid: pid_t = 0
    /// The first `maxOutputBytes` of standard output and error, interleaved.
    var output: [UInt8] = []
    /// How many bytes were read past `maxOutputBytes` and dropped.
    var discarded = 0

    /// The captured output, trimmed, with a note of what was dropped.
    func outputText() -> String {
        var bytes = self.output[...]
        if self.discarded > 0 { bytes = Self.droppingPartialCharacter(bytes) }
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
        while let first = bytes.first, isSpace(first) { bytes = bytes.dropFirst() }
        while let last = bytes.last, isSpace(last) { bytes = bytes.dropLast() }
        var text = String(decoding: bytes, as: UTF8.self)
        if self.discarded > 0 {
            text += " … [\(self.discarded) more bytes of output discarded]"
        }
        return text
    }

    /// Drops a UTF-8 sequence cut short by the output limit.
    private static func droppingPartialCharacter(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var index = bytes.endIndex
        var continuations = 0
        while index > bytes.startIndex, continuations < 3, bytes[index - 1] & 0xC0 == 0x80 {
            index -= 1
            continuations += 1
        }
        guard index > bytes.startIndex else { return bytes }
        let lead = bytes[index - 1]
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        return length > continuations + 1 ? bytes[..<(index - 1)] : bytes
    }
}

/// Supervises one child process on a dedicated thread.
///
/// Spawning, writing standard input, reading output and reaping all block, so they run
/// on a thread of their own (one per running command), and the caller awaits a
/// continuation. The thread polls the pipes in slices of at most 50 ms, checking the
/// child with `waitpid(WNOHANG)`, the deadline and the cancellation flag in between.
final class CommandRun: Sendable {
    private let request: CommandRequest
    private let cancelled = Atomic<Bool>(false)

    private init(_ request: CommandRequest) {
        self.request = request
    }

    /// Runs `request` to its end; kills the child if the calling task is cancelled.
    static func run(_ request: CommandRequest) async throws(HandlerError) -> CommandResult {
        let run = CommandRun(request)
        let result: Result<CommandResult, HandlerError> = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<CommandResult, HandlerError>, Never>) in
                let started = SupervisorThread.start {
                    continuation.resume(returning: .success(run.supervise()))
                }
                if let code = started {
                    continuation.resume(
                        returning: .failure(.transient(
                            "command `\(request.program)`: could not start a supervising thread: \(CommandHandler.errnoText(code))"
                        ))
                    )
                }
            }
        } onCancel: {
            run.cancelled.store(true, ordering: .releasing)
        }
        return try result.get()
    }

    private var isCancelled: Bool { self.cancelled.load(ordering: .acquiring) }

    /// The whole life of the child. Runs on the supervising thread.
    private func supervise() -> CommandResult {
        // A write to a stdin pipe whose reader is gone raises SIGPIPE for the writing
        // thread; blocked here (this thread only), the write fails with EPIPE instead.
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)

        if self.isCancelled { return CommandResult(termination: .cancelled) }
        let deadline = Deadline(seconds: self.request.timeout)

        let child: Child
        switch Child.spawn(self.request) {
        case .spawned(let spawned): child = spawned
        case .failed(let code): return CommandResult(termination: .spawnFailed(code))
        }
        var result = CommandResult(termination: .timedOut, pid: child.pid)
        var capture = OutputCapture(limit: self.request.maxOutputBytes)
        var stdin = child.stdin
        var output = child.output
        var written = 0
        defer {
            if stdin >= 0 { close(stdin) }
            if output >= 0 { close(output) }
        }
        if self.request.input.isEmpty {
            close(stdin)
            stdin = -1
        }
        var idleSlice: Int32 = 1

        while true {
            if self.isCancelled {
                result.termination = .cancelled
                child.kill()
                break
            }
            let remaining = deadline.remainingMilliseconds()
            if remaining <= 0 {
                result.termination = .timedOut
                child.kill()
                break
            }

            var fds: [pollfd] = []
            if stdin >= 0 { fds.append(pollfd(fd: stdin, events: Int16(POLLOUT), revents: 0)) }
            if output >= 0 { fds.append(pollfd(fd: output, events: Int16(POLLIN), revents: 0)) }
            // With the output open, poll wakes on data or EOF; once it is closed, check on
            // the child (which normally exits right away) with a growing back-off.
            let slice: Int32
            if output >= 0 {
                slice = 50
            } else {
                slice = idleSlice
                idleSlice = min(idleSlice * 2, 50)
            }
            let ready = poll(&fds, nfds_t(fds.count), min(remaining, slice))
            if ready < 0 && errno != EINTR {
                result.termination = .supervisionFailed("poll", errno)
                child.kill()
                break
            }
            for entry in fds where entry.revents != 0 {
                if entry.fd == stdin {
                    if !Self.write(self.request.input, from: &written, to: stdin) {
                        close(stdin)
                        stdin = -1
                    }
                } else if entry.fd == output {
                    if !capture.read(from: output, maxReads: 16) {
                        close(output)
                        output = -1
                    }
                }
            }

            switch child.poll() {
            case .running:
                continue
            case .ended(let termination):
                result.termination = termination
            case .failed(let code):
                result.termination = .supervisionFailed("waitpid", code)
                child.kill()
            }
            break
        }

        // The child is reaped. Take what is already in the pipe, but do not wait for EOF:
        // a background grandchild may hold the write end open.
        if output >= 0 {
            _ = capture.read(from: output, maxReads: 16)
        }
        result.output = capture.kept
        result.discarded = capture.discarded
        return result
    }

    /// Writes what the pipe takes without blocking. Returns false once the fd should be
    /// closed: everything written, or the reader is gone (EPIPE) or another error.
    private static func write(_ input: [UInt8], from written: inout Int, to fd: Int32) -> Bool {
        input.withUnsafeBytes { buffer in
            while written < buffer.count {
                let count = Glibc.write(fd, buffer.baseAddress! + written, min(buffer.count - written, 1 << 16))
                if count > 0 {
                    written += count
                } else if count < 0 && errno == EINTR {
                    continue
                } else if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                    return true
                } else {
                    return false
                }
            }
            return false
        }
    }
}

/// The bounded capture of the child's combined output.
private struct OutputCapture {
    let limit: Int
    var kept: [UInt8] = []
    var discarded = 0
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)

    init(limit: Int) {
        self.limit = limit
    }

    /// Reads what is available (at most `maxReads` reads, so a fast writer cannot keep
    /// the supervisor from checking its deadline). Returns false at EOF or on an error.
    mutating func read(from fd: Int32, maxReads: Int) -> Bool {
        for _ in 0..<maxReads {
            let count = self.buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if count > 0 {
                let keep = min(count, self.limit - self.kept.count)
                if keep > 0 { self.kept.append(contentsOf: self.buffer[..<keep]) }
                self.discarded += count - keep
            } else if count == 0 {
                return false
            } else if errno == EINTR {
                continue
            } else {
                return errno == EAGAIN || errno == EWOULDBLOCK
            }
        }
        return true
    }
}

/// A spawned child: its pid (also its process group) and the parent's pipe ends.
private struct Child {
    let pid: pid_t
    /// Write end of the child's standard input; non-blocking, close-on-exec.
    let stdin: Int32
    /// Read end of the child's standard output and error; non-blocking, close-on-exec.
    let output: Int32

    enum Spawn {
        case spawned(Child)
        /// The errno of `pipe2` or `posix_spawn`.
        case failed(Int32)
    }

    enum State {
        case running
        case ended(CommandResult.Termination)
        case failed(Int32)
    }

    /// Starts the program with pipes on fds 0, 1 and 2, default signal dispositions, an
    /// empty signal mask, in a process group of its own.
    static func spawn(_ request: CommandRequest) -> Spawn {
        guard let pipe2 = GNU.pipe2 else { return .failed(ENOSYS) }
        var input: [Int32] = [-1, -1]
        var output: [Int32] = [-1, -1]
        guard pipe2(&input, O_CLOEXEC) == 0 else { return .failed(errno) }
        guard pipe2(&output, O_CLOEXEC) == 0 else {
            let code = errno
            close(input[0])
            close(input[1])
            return .failed(code)
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears close-on-exec on the copies; the originals close at exec.
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, output[1], 2)
        // Descriptors opened elsewhere without O_CLOEXEC must not reach the program either.
        if let closeFrom = GNU.addCloseFrom { _ = closeFrom(&actions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP)
        )

        var pid: pid_t = 0
        let searchPath = !request.program.utf8.contains(UInt8(ascii: "/"))
        let code = withCStringArray(request.arguments) { argv in
            withCStringArray(request.environment) { envp in
                searchPath
                    ? posix_spawnp(&pid, request.program, &actions, &attributes, argv, envp)
                    : posix_spawn(&pid, request.program, &actions, &attributes, argv, envp)
            }
        }
        close(input[0])
        close(output[1])
        guard code == 0 else {
            close(input[1])
            close(output[0])
            return .failed(code)
        }
        _ = fcntl(input[1], F_SETFL, O_NONBLOCK)
        _ = fcntl(output[0], F_SETFL, O_NONBLOCK)
        return .spawned(Child(pid: pid, stdin: input[1], output: output[0]))
    }

    /// Reaps the child if it has ended, without blocking.
    func poll() -> State {
        var status: Int32 = 0
        while true {
            let reaped = waitpid(self.pid, &status, WNOHANG)
            if reaped == self.pid { return .ended(Self.termination(status)) }
            if reaped == 0 { return .running }
            if errno != EINTR { return .failed(errno) }
        }
    }

    /// SIGKILLs the child's process group (its own children too) and reaps the child.
    /// The child is not reaped yet, so its pid still names it and its group.
    func kill() {
        _ = Glibc.kill(-self.pid, SIGKILL)
        _ = Glibc.kill(self.pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(self.pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// `WIFEXITED`/`WEXITSTATUS`/`WTERMSIG`, which are macros C-only.
    private static func termination(_ status: Int32) -> CommandResult.Termination {
        let signal = status & 0x7F
        return signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
    }
}

/// A monotonic deadline; none for a non-finite timeout.
private struct Deadline {
    private let nanoseconds: Int64?

    init(seconds: Double) {
        if seconds.isFinite {
            let budget = Int64(max(0, min(seconds, 1e9)) * 1e9)
            self.nanoseconds = Self.now() + budget
        } else {
            self.nanoseconds = nil
        }
    }

    /// Milliseconds left, rounded up; `Int32.max` without a deadline.
    func remainingMilliseconds() -> Int32 {
        guard let deadline = self.nanoseconds else { return .max }
        let left = deadline - Self.now()
        if left <= 0 { return 0 }
        return Int32(min((left + 999_999) / 1_000_000, Int64(Int32.max)))
    }

    private static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}

/// Calls `body` with a NULL-terminated `char *[]` copy of `strings`.
private func withCStringArray<R>(
    _ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R
) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// glibc functions Swift's Glibc module does not import.
///
/// That module is built without `_GNU_SOURCE`, so `pipe2` and
/// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34) are missing from it. The
/// convention would be a shim target, which needs a Package.swift change; until then they
/// are looked up once at run time. Both are plain C functions with these signatures.
private enum GNU {
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32

    static let pipe2: Pipe2? = symbol("pipe2").map { unsafeBitCast($0, to: Pipe2.self) }
    static let addCloseFrom: AddCloseFrom? = symbol("posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }

    private static func symbol(_ name: String) -> UnsafeMutableRawPointer? {
        // The handle of the main program searches it and every library it loaded (libc).
        guard let handle = dlopen(nil, RTLD_NOW) else { return nil }
        return dlsym(handle, name)
    }
}

/// Starts detached threads that run one closure each.
private enum SupervisorThread {
    private final class Body: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Starts a thread running `body`; returns the error code if it could not.
    static func start(_ body: @escaping @Sendable () -> Void) -> Int32? {
        // Allocated rather than `pthread_attr_t()`: that initialiser is attributed to
        // whichever C module first included <pthread.h> (CCurl), not to Glibc.
        let attributes = UnsafeMutablePointer<pthread_attr_t>.allocate(capacity: 1)
        pthread_attr_init(attributes)
        defer {
            pthread_attr_destroy(attributes)
            attributes.deallocate()
        }
        pthread_attr_setstacksize(attributes, 512 * 1024)
        pthread_attr_setdetachstate(attributes, Int32(PTHREAD_CREATE_DETACHED))
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread: pthread_t = 0
        let code = pthread_create(&thread, attributes, { context in
            Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
        if code != 0 {
            Unmanaged<Body>.fromOpaque(context).release()
            return code
        }
        return nil
    }
}
