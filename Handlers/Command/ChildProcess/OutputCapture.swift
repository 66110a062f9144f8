#if canImport(Glibc)
internal import Glibc
#endif

/// The bounded capture of a child's combined output: the first `limit` bytes kept, the
/// rest counted and dropped.
///
/// Reading past the limit keeps the pipe drained, so a chatty program never blocks on a
/// full pipe.
///
/// ```swift
/// var capture = OutputCapture(limit: 8192)
/// let open = capture.read(from: fd, maxReads: 16)   // false at EOF
/// ```
struct OutputCapture {
    let limit: Int
    private(set) var kept: [UInt8] = []
    private(set) var discarded = 0
    private var buffer = [UInt8](repeating: 0, count: 1 << 16)

    init(limit: Int) {
        self.limit = limit
    }

    /// Reads what is available from the non-blocking `fd` (at most `maxReads` reads, so a
    /// fast writer cannot keep the supervisor from checking its deadline). Returns false
    /// at EOF or on an error.
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
