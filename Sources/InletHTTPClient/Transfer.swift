internal import CCurl
internal import Foundation
internal import HTTPTypes

/// The state of one request while libcurl runs it; C callbacks reach it through an
/// unretained pointer (CURLOPT_WRITEDATA / CURLOPT_HEADERDATA) while the loop's `active`
/// table holds it.
final class Transfer: @unchecked Sendable {
    // @unchecked Sendable: `continuation` is set by the caller before the transfer is
    // queued; `cancelRequested` and `queued` are guarded by the loop's lock; everything
    // else is touched only by the loop thread after the transfer is queued.
    let request: OutboundRequest
    var continuation: CheckedContinuation<OutboundResponse, any Error>?
    var cancelRequested = false
    var queued = false

    var easy: UnsafeMutableRawPointer?
    var headerList: UnsafeMutablePointer<curl_slist>?
    let errorBuffer: UnsafeMutablePointer<CChar>
    var responseHeaders = HTTPFields()
    /// The last header line was dropped, so folded lines after it are dropped too.
    private var droppedLastHeader = false
    var body: [UInt8] = []
    var exceededLimit = false

    init(request: OutboundRequest) {
        self.request = request
        self.errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        self.errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        if let headerList = self.headerList { curl_slist_free_all(headerList) }
        self.errorBuffer.deallocate()
    }

    /// Resumes the caller; later calls do nothing.
    func finish(_ result: Result<OutboundResponse, any Error>) {
        let continuation = self.continuation
        self.continuation = nil
        continuation?.resume(with: result)
    }

    var errorText: String {
        self.errorBuffer[Int(CURL_ERROR_SIZE) - 1] = 0
        return String(cString: self.errorBuffer).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// One header line from libcurl (with its CRLF). A status line starts a new header
    /// block (after `100 Continue` or a proxy's CONNECT answer), so only the final
    /// response's headers are kept.
    func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        var line = Substring(String(decoding: bytes, as: UTF8.self))
        while let last = line.last, last == "\r\n" || last == "\n" || last == "\r" { line.removeLast() }
        if line.isEmpty { return }
        if line.hasPrefix("HTTP/") {
            self.responseHeaders = HTTPFields()
            self.droppedLastHeader = false
            return
        }
        if let first = line.first, first == " " || first == "\t" {
            // Obsolete line folding: continues the previous value.
            guard !self.droppedLastHeader, let last = self.responseHeaders.indices.last else { return }
            let more = line.trimmingCharacters(in: .whitespaces)
            self.responseHeaders[last].value += " " + more
            return
        }
        // A name that is not an HTTP token cannot be an `HTTPField.Name`: the line is dropped.
        guard let colon = line.firstIndex(of: ":"),
              let name = HTTPField.Name(line[..<colon].trimmingCharacters(in: .whitespaces).lowercased())
        else {
            self.droppedLastHeader = true
            return
        }
        self.droppedLastHeader = false
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        self.responseHeaders.append(HTTPField(name: name, value: value))
    }

    /// Body bytes from libcurl; false once the limit is passed (the transfer then aborts).
    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if self.body.count + bytes.count > self.request.maxResponseBytes {
            self.exceededLimit = true
            return false
        }
        self.body.append(contentsOf: bytes)
        return true
    }
}

