internal import Synchronization

#if canImport(Glibc)
internal import Glibc
#endif

/// Supervises one ``ChildProcess`` run from spawn to reaping, on the thread that calls
/// `supervise()`.
///
/// Spawning, writing standard input, reading output and reaping all block, so
/// ``ChildProcess/run()`` calls `supervise()` on a thread of its own (one per running
/// program) and awaits a continuation. That thread polls the pipes in slices of at most
/// 50 ms, checking the child with `waitpid(WNOHANG)`, the deadline and the cancellation
/// flag in between; `cancel()` may be called from any thread.
///
/// ```swift
/// let supervisor = ChildSupervisor(process)
/// try WorkerThread(name: "inlet.command", stackSize: 512 * 1024).start { report(supervisor.supervise()) }
/// supervisor.cancel()   // from elsewhere: the child is killed within 50 ms
/// ```
final class ChildSupervisor: Sendable {
    private let process: ChildProcess
    private let cancelled = Atomic<Bool>(false)

    init(_ process: ChildProcess) {
        self.process = process
    }

    /// Asks the supervising thread to kill the child (or not to spawn it) and return.
    func cancel() {
        self.cancelled.store(true, ordering: .releasing)
    }

    private var isCancelled: Bool { self.cancelled.load(ordering: .acquiring) }

    /// The whole life of the child: returns once it is reaped (or was never spawned).
    /// Blocks; call it once, on a thread of its own.
    func supervise() -> ChildProcessResult {
        // A write to a stdin pipe whose reader is gone raises SIGPIPE for the writing
        // thread; blocked here (this thread only), the write fails with EPIPE instead.
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)

        if self.isCancelled { return ChildProcessResult(termination: .cancelled) }
        let deadline = Deadline(seconds: self.process.timeout)

        let child: SpawnedChild
        switch SpawnedChild.spawn(self.process) {
        case .spawned(let spawned): child = spawned
        case .failed(let code): return ChildProcessResult(termination: .spawnFailed(code))
        }
        var result = ChildProcessResult(termination: .timedOut, pid: child.pid)
        var capture = OutputCapture(limit: self.process.maxOutputBytes)
        var stdin = child.stdin
        var output = child.output
        var written = 0
        defer {
            if stdin >= 0 { close(stdin) }
            if output >= 0 { close(output) }
        }
        if self.process.input.isEmpty {
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
                    if !Self.write(self.process.input, from: &written, to: stdin) {
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
