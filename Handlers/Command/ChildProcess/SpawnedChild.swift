internal import CSpawn

#if canImport(Glibc)
internal import Glibc
#endif

/// A spawned child: its pid (also its process group) and the parent's pipe ends.
///
/// The pipe ends are plain descriptors that ``ChildSupervisor`` closes; the pid is valid
/// until `poll()` reports the child ended or `kill()` returns, both of which reap it.
///
/// ```swift
/// guard case .spawned(let child) = SpawnedChild.spawn(process) else { return }
/// while case .running = child.poll() { /* feed child.stdin, drain child.output */ }
/// ```
struct SpawnedChild {
    let pid: pid_t
    /// Write end of the child's standard input; non-blocking, close-on-exec.
    let stdin: Int32
    /// Read end of the child's standard output and error; non-blocking, close-on-exec.
    let output: Int32

    enum Spawn {
        case spawned(SpawnedChild)
        /// The errno of `pipe2` or `posix_spawn`.
        case failed(Int32)
    }

    enum State {
        case running
        case ended(ChildProcessResult.Termination)
        /// The errno of `waitpid`.
        case failed(Int32)
    }

    /// Starts the program with pipes on fds 0, 1 and 2, default signal dispositions, an
    /// empty signal mask, in a process group of its own.
    static func spawn(_ process: ChildProcess) -> Spawn {
        var input: [Int32] = [-1, -1]
        var output: [Int32] = [-1, -1]
        guard inlet_pipe2(&input, O_CLOEXEC) == 0 else { return .failed(errno) }
        guard inlet_pipe2(&output, O_CLOEXEC) == 0 else {
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
        _ = inlet_spawn_addclosefrom(&actions, 3)

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
        let searchPath = !process.program.utf8.contains(UInt8(ascii: "/"))
        let code = withCStringArray(process.arguments) { argv in
            withCStringArray(process.environment) { envp in
                searchPath
                    ? posix_spawnp(&pid, process.program, &actions, &attributes, argv, envp)
                    : posix_spawn(&pid, process.program, &actions, &attributes, argv, envp)
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
        return .spawned(SpawnedChild(pid: pid, stdin: input[1], output: output[0]))
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
    private static func termination(_ status: Int32) -> ChildProcessResult.Termination {
        let signal = status & 0x7F
        return signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
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
