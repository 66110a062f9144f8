internal import InletThreads

/// One run of a program under supervision: spawned with pipes, fed its standard input,
/// its output captured up to a bound, reaped; killed with its process group on timeout
/// or when the awaiting task is cancelled.
///
/// ``CommandHandler`` builds one for each event and reads the ``ChildProcessResult``;
/// everything about processes, pipes and threads lives here, nothing about events or
/// delivery outcomes. The program is started with `posix_spawn` (`posix_spawnp` for a
/// name without a slash) — no shell — with pipes on descriptors 0, 1 and 2, every other
/// descriptor closed, default signal dispositions, an empty signal mask, and a process
/// group of its own. Its standard output and error share one pipe, captured together:
/// the first `maxOutputBytes` kept, the rest read and discarded so the program never
/// blocks on a full pipe.
///
/// Spawning, pipe I/O, `poll` and `waitpid` all block, so each run is supervised on a
/// thread of its own (``ChildSupervisor``), never on Swift's cooperative pool; `run()`
/// awaits it.
///
/// ```swift
/// guard let process = ChildProcess(
///     program: "/bin/cat", arguments: ["cat"], environment: ["PATH=/usr/bin:/bin"],
///     input: Array("hello".utf8), timeout: 10, maxOutputBytes: 8192
/// ) else { return }
/// let result = await process.run()
/// if result.termination == .exited(0) { print(result.outputText()) }   // hello
/// ```
struct ChildProcess: Sendable {
    /// An absolute or relative path, or (without a slash) a name looked up in the `PATH`
    /// of the calling process.
    let program: String
    /// Including `argv[0]`.
    let arguments: [String]
    /// `NAME=value` entries: the program's whole environment.
    let environment: [String]
    /// Written to the program's standard input, which is then closed.
    let input: [UInt8]
    /// Seconds before the program is killed; no limit if not finite.
    let timeout: Double
    /// How much of the combined standard output and error is kept.
    let maxOutputBytes: Int

    /// Nil if `program` is empty, or `program` or an argument holds a NUL byte (they
    /// become C strings).
    init?(
        program: String, arguments: [String], environment: [String], input: [UInt8],
        timeout: Double, maxOutputBytes: Int
    ) {
        guard !program.isEmpty, !program.utf8.contains(0), !arguments.contains(where: { $0.utf8.contains(0) }) else {
            return nil
        }
        self.program = program
        self.arguments = arguments
        self.environment = environment
        self.input = input
        self.timeout = timeout
        self.maxOutputBytes = maxOutputBytes
    }

    /// Runs the program to its end; kills it (and its process group) if the calling task
    /// is cancelled. Always returns: failures are ``ChildProcessResult/Termination``s.
    func run() async -> ChildProcessResult {
        let supervisor = ChildSupervisor(self)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ChildProcessResult, Never>) in
                // 512 KiB: the supervision needs little, and one thread runs per program.
                let thread = WorkerThread(name: "inlet.command", stackSize: 512 * 1024)
                do throws(WorkerThread.StartError) {
                    try thread.start { continuation.resume(returning: supervisor.supervise()) }
                } catch {
                    continuation.resume(returning: ChildProcessResult(termination: .supervisorNotStarted(error.code)))
                }
            }
        } onCancel: {
            supervisor.cancel()
        }
    }
}
