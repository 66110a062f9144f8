import Foundation
import InletTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to 127.0.0.1, for clients no HTTP library would be: one that
/// sends a header a byte at a time, never finishes its body, or just sits there.
///
/// The socket is non-blocking; every wait polls with a deadline.
///
/// ```swift
/// let connection = try RawConnection(port: port)
/// connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
/// let answer = try await connection.response()
/// ```
final class RawConnection {
    private let descriptor: Int32
    private var received: [UInt8] = []
    private(set) var isClosed = false

    init(port: Int) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw RawConnectionError("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else {
            let code = errno
            Glibc.close(descriptor)
            throw RawConnectionError("connect: errno \(code)")
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        self.descriptor = descriptor
    }

    deinit {
        self.close()
    }

    /// Closes this end (once).
    func close() {
        guard !self.closedHere else { return }
        self.closedHere = true
        Glibc.close(self.descriptor)
    }
    private var closedHere = false

    /// Sends `text`; false when the peer has closed the connection.
    @discardableResult
    func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { Glibc.send(self.descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if sent < 0 && errno != EAGAIN { self.isClosed = true }
        return sent == bytes.count
    }

    /// Reads what has arrived; notes an end of stream or a reset.
    func drain() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<1024 {
            let count = buffer.withUnsafeMutableBytes { recv(self.descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                self.received += buffer.prefix(count)
                continue
            }
            if count == 0 || errno != EAGAIN { self.isClosed = true }
            return
        }
    }

    /// Everything received so far, as text.
    var text: String { String(decoding: self.received, as: UTF8.self) }

    /// Waits until the server has closed the connection.
    func waitUntilClosed(timeout: Duration) async throws {
        try await eventually(timeout: timeout, "the server to close the connection") {
            self.drain()
            return self.isClosed
        }
    }

    /// Waits for a whole response head (and a body of its Content-Length) and returns it.
    func response(timeout: Duration = .seconds(5)) async throws -> String {
        try await eventually(timeout: timeout, "a response") {
            self.drain()
            guard let end = self.text.range(of: "\r\n\r\n") else { return false }
            let head = self.text[..<end.lowerBound].lowercased()
            let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            return self.text.utf8.count - self.text[..<end.upperBound].utf8.count >= length
        }
        return self.text
    }
}

struct RawConnectionError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Raises the soft limit on open files to `needed` (at most the hard limit); returns the
/// soft limit now in force.
func raiseOpenFileLimit(to needed: Int) -> Int {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
    if limit.rlim_cur < rlim_t(needed) {
        limit.rlim_cur = min(rlim_t(needed), limit.rlim_max)
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
    return Int(limit.rlim_cur)
}
