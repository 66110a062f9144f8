internal import CCurl
internal import Foundation
internal import HTTPTypes
internal import InletThreads

/// The thread that owns the `CURLM` handle and runs every transfer.
final class CurlMultiLoop: @unchecked Sendable {
    // @unchecked Sendable: `multi`, `active` and `idleHandles` are touched only by the
    // loop thread, except `curl_multi_wakeup`, which libcurl allows from any thread and
    // which is called under `lock` only while `stopping` is false (the loop thread frees
    // the handle only after it saw `stopping`). `pending`, `cancellations` and `stopping`
    // are guarded by `lock`; `thread` and `configuration` are immutable.
    private let lock = NSLock()
    private var pending: [Transfer] = []
    private var cancellations: [Transfer] = []
    private var stopping = false
    private let thread = WorkerThread(name: "inlet.http.curl", stackSize: 1 << 20)

    private let configuration: OutboundClient.Configuration
    private let multi: UnsafeMutableRawPointer
    private var active: [UnsafeMutableRawPointer: Transfer] = [:]
    private var idleHandles: [UnsafeMutableRawPointer] = []

    init(configuration: OutboundClient.Configuration) {
        _ = CurlGlobal.initialized
        self.configuration = configuration
        guard let multi = curl_multi_init() else { preconditionFailure("curl_multi_init failed (out of memory)") }
        self.multi = multi
        _ = CCurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(1, configuration.maxConnections))
        _ = CCurl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, max(1, configuration.maxConnectionsPerHost))
        // The thread keeps the loop alive until it stops.
        do {
            try self.thread.start { [self] in self.run() }
        } catch {
            preconditionFailure("\(error)")
        }
    }

    // MARK: Called from any thread

    func enqueue(_ transfer: Transfer) {
        self.lock.lock()
        if self.stopping {
            self.lock.unlock()
            transfer.finish(.failure(OutboundError.shutdown))
            return
        }
        if transfer.cancelRequested {
            self.lock.unlock()
            transfer.finish(.failure(CancellationError()))
            return
        }
        transfer.queued = true
        self.pending.append(transfer)
        _ = curl_multi_wakeup(self.multi)
        self.lock.unlock()
    }

    func cancel(_ transfer: Transfer) {
        self.lock.lock()
        transfer.cancelRequested = true
        if transfer.queued && !self.stopping {
            self.cancellations.append(transfer)
            _ = curl_multi_wakeup(self.multi)
        }
        self.lock.unlock()
    }

    func requestStop() {
        self.lock.lock()
        if !self.stopping {
            self.stopping = true
            _ = curl_multi_wakeup(self.multi)
        }
        self.lock.unlock()
    }

    /// Fails every transfer with ``OutboundError/shutdown``, frees the handles, and returns
    /// once the loop thread has ended.
    func stop() async {
        self.requestStop()
        await self.thread.join()
    }

    // MARK: The loop thread

    private func run() {
        while true {
            self.lock.lock()
            if self.stopping {
                let orphans = self.pending
                self.pending = []
                self.cancellations = []
                self.lock.unlock()
                self.close(orphans: orphans)
                return
            }
            let starting = self.pending
            let cancelling = self.cancellations
            self.pending = []
            self.cancellations = []
            self.lock.unlock()

            for transfer in starting { self.start(transfer) }
            for transfer in cancelling {
                guard let easy = transfer.easy, self.active[easy] === transfer else { continue }
                self.active[easy] = nil
                curl_multi_remove_handle(self.multi, easy)
                self.release(easy, of: transfer)
                transfer.finish(.failure(CancellationError()))
            }

            var running: Int32 = 0
            let performed = curl_multi_perform(self.multi, &running)
            if performed != CURLM_OK { self.failAll(performed) }
            self.collectFinished()
            // Sleeps until a socket is ready, curl's next timer, a wakeup, or 1 s.
            _ = curl_multi_poll(self.multi, nil, 0, 1000, nil)
        }
    }

    private func close(orphans: [Transfer]) {
        for transfer in orphans { transfer.finish(.failure(OutboundError.shutdown)) }
        let inFlight = self.active
        self.active = [:]
        for (easy, transfer) in inFlight {
            curl_multi_remove_handle(self.multi, easy)
            self.release(easy, of: transfer)
            transfer.finish(.failure(OutboundError.shutdown))
        }
        for easy in self.idleHandles { curl_easy_cleanup(easy) }
        self.idleHandles = []
        curl_multi_cleanup(self.multi)
    }

    /// The multi handle itself failed (out of memory): fail what it was running.
    private func failAll(_ code: CURLMcode) {
        let message = "curl_multi_perform failed: \(String(cString: curl_multi_strerror(code)))"
        let inFlight = self.active
        self.active = [:]
        for (easy, transfer) in inFlight {
            curl_multi_remove_handle(self.multi, easy)
            self.release(easy, of: transfer)
            transfer.finish(.failure(OutboundError.internalFailure(message)))
        }
    }

    private func collectFinished() {
        var queued: Int32 = 0
        while let message = curl_multi_info_read(self.multi, &queued) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                  let transfer = self.active.removeValue(forKey: easy)
            else { continue }
            // Read the message before removing the handle: that invalidates it.
            let code = CCurl_msg_result(message)
            var status = 0
            _ = CCurl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
            curl_multi_remove_handle(self.multi, easy)

            let result: Result<OutboundResponse, any Error>
            if code == CURLE_OK {
                result = .success(OutboundResponse(status: status, headers: transfer.responseHeaders, body: transfer.body))
            } else if transfer.exceededLimit || code == CURLE_FILESIZE_EXCEEDED {
                result = .failure(OutboundError.responseTooLarge(code, limit: transfer.request.maxResponseBytes))
            } else {
                result = .failure(OutboundError.transfer(code, detail: transfer.errorText))
            }
            self.release(easy, of: transfer)
            transfer.finish(result)
        }
    }

    private func start(_ transfer: Transfer) {
        guard let easy = self.idleHandles.popLast() ?? curl_easy_init() else {
            transfer.finish(.failure(OutboundError.internalFailure("curl_easy_init failed (out of memory)")))
            return
        }
        transfer.easy = easy
        let configured = self.configure(easy, for: transfer)
        if configured != CURLE_OK {
            let error = OutboundError.transfer(configured, detail: transfer.errorText)
            self.release(easy, of: transfer)
            transfer.finish(.failure(error))
            return
        }
        let added = curl_multi_add_handle(self.multi, easy)
        if added != CURLM_OK {
            let message = "curl_multi_add_handle failed: \(String(cString: curl_multi_strerror(added)))"
            self.release(easy, of: transfer)
            transfer.finish(.failure(OutboundError.internalFailure(message)))
            return
        }
        self.active[easy] = transfer
    }

    /// Resets the handle (which drops every pointer into `transfer`) and keeps it for the
    /// next request, or frees it when enough are kept.
    private func release(_ easy: UnsafeMutableRawPointer, of transfer: Transfer) {
        curl_easy_reset(easy)
        transfer.easy = nil
        if let headerList = transfer.headerList {
            curl_slist_free_all(headerList)
            transfer.headerList = nil
        }
        if self.idleHandles.count < max(1, self.configuration.maxConnections) {
            self.idleHandles.append(easy)
        } else {
            curl_easy_cleanup(easy)
        }
    }

    /// Sets every option of one transfer; returns the first failure, or CURLE_OK.
    private func configure(_ easy: UnsafeMutableRawPointer, for transfer: Transfer) -> CURLcode {
        let request = transfer.request
        var failure = CURLE_OK
        func set(_ code: CURLcode) {
            if failure == CURLE_OK && code != CURLE_OK { failure = code }
        }
        func milliseconds(_ seconds: Double) -> Int {
            Int(min(max(1, (seconds * 1000).rounded(.up)), Double(Int32.max)))
        }

        set(CCurl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(transfer.errorBuffer)))
        set(CCurl_easy_setopt_string(easy, CURLOPT_URL, request.url))
        set(CCurl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https"))
        set(CCurl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        set(CCurl_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0))
        set(CCurl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1))
        set(CCurl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2))
        if let caBundle = self.configuration.caBundlePath {
            set(CCurl_easy_setopt_string(easy, CURLOPT_CAINFO, caBundle))
        }
        set(CCurl_easy_setopt_string(easy, CURLOPT_USERAGENT, self.configuration.userAgent))
        // An empty proxy turns the *_proxy environment variables off.
        set(CCurl_easy_setopt_string(easy, CURLOPT_PROXY, self.configuration.proxy ?? ""))
        set(CCurl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(request.connectTimeout)))
        set(CCurl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, milliseconds(request.timeout)))
        // Refuses a declared Content-Length over the limit before reading the body; the
        // write callback catches bodies without one.
        set(CCurl_easy_setopt_off(easy, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(request.maxResponseBytes)))

        let context = Unmanaged.passUnretained(transfer).toOpaque()
        set(CCurl_easy_setopt_write_callback(easy) { data, size, count, context in
            let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
        })
        set(CCurl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, context))
        set(CCurl_easy_setopt_header_callback(easy) { data, size, count, context in
            let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: length))
            return length
        })
        set(CCurl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, context))

        // Headers, names lower-cased. "name;" is curl's spelling of an empty value; an
        // empty "Expect:" stops curl from waiting for `100 Continue` before sending a large
        // body.
        var list: UnsafeMutablePointer<curl_slist>? = nil
        for field in request.headers {
            let name = field.name.canonicalName
            let line = field.value.isEmpty ? "\(name);" : "\(name): \(field.value)"
            guard let extended = curl_slist_append(list, line) else { set(CURLE_OUT_OF_MEMORY); break }
            list = extended
        }
        if !request.headers.contains(.expect), let extended = curl_slist_append(list, "Expect:") { list = extended }
        transfer.headerList = list
        set(CCurl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list))

        // Method and body.
        switch request.method {
        case .get: set(CCurl_easy_setopt_long(easy, CURLOPT_HTTPGET, 1))
        case .head: set(CCurl_easy_setopt_long(easy, CURLOPT_NOBODY, 1))
        case .post: set(CCurl_easy_setopt_long(easy, CURLOPT_POST, 1))
        default: set(CCurl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method.rawValue))
        }
        if request.body != nil || request.method == .post {
            let body = request.body ?? []
            set(CCurl_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            // COPYPOSTFIELDS copies the bytes now; a real pointer even for an empty body,
            // since NULL would make curl read the body from its read callback.
            var placeholder: UInt8 = 0
            withUnsafeMutablePointer(to: &placeholder) { placeholder in
                body.withUnsafeBytes { bytes in
                    let pointer = UnsafeMutableRawPointer(mutating: bytes.baseAddress) ?? UnsafeMutableRawPointer(placeholder)
                    set(CCurl_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, pointer))
                }
            }
            // Setting a body turns GET/HEAD into POST; keep the verb the caller asked for.
            if request.method == .get || request.method == .head {
                set(CCurl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method.rawValue))
            }
        }
        return failure
    }
}
