#if canImport(Glibc)
internal import Glibc
#endif

/// How a ``ChildProcess`` run ended, and what the program printed.
struct ChildProcessResult: Sendable {
    /// The end of a run; only `exited` and `signaled` come from the program itself.
    enum Termination: Sendable, Equatable {
        /// The program exited with this status.
        case exited(Int32)
        /// The program was killed by this signal (not by the supervisor).
        case signaled(Int32)
        /// Still running at the deadline; its process group was killed.
        case timedOut
        /// The awaiting task was cancelled; the process group was killed.
        case cancelled
        /// `posix_spawn` (or creating its pipes) failed with this errno.
        case spawnFailed(Int32)
        /// A system call of the supervision itself failed; the child was killed.
        case supervisionFailed(String, Int32)
        /// The supervising thread could not be started (`pthread_create`'s error);
        /// nothing was spawned.
        case supervisorNotStarted(Int32)
    }

    var termination: Termination
    /// 0 if nothing was spawned.
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
