import Foundation
import HTTPTypes
import InletCore
import InletHTTPClient
import InletTestSupport
import NIOCore
import NIOHTTP1
import Synchronization
import Testing


// MARK: - Helpers

/// Runs `body`, which must throw an ``OutboundError``, and returns that error.
func expectClientError(
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> OutboundResponse
) async -> OutboundError? {
    do {
        let response = try await body()
        Issue.record("expected an OutboundError, got status \(response.status)", sourceLocation: sourceLocation)
        return nil
    } catch let error as OutboundError {
        return error
    } catch {
        Issue.record("expected an OutboundError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

// MARK: - Tests

@Suite(.timeLimit(.minutes(1)))
struct OutboundClientTests {
    @Test func getRoundTripSendsHeadersAndParsesJSON() async throws {
        try await withLoopback(script: { _ in .echo }) { server, client in
            let response = try await client.execute(OutboundRequest(
                url: server.url("/echo?x=1"), headers: [HTTPField.Name("X-Test")!: "hello world", .accept: "application/json"], timeout: 10
            ))
            #expect(response.status == 200)
            #expect(response.headers[.contentType] == "application/json")
            let echoed = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
            #expect(echoed["method"] as? String == "GET")
            #expect(echoed["uri"] as? String == "/echo?x=1")
            let headers = try #require(echoed["headers"] as? [String: String])
            #expect(headers["x-test"] == "hello world")
            #expect(headers["accept"] == "application/json")
            #expect(headers["user-agent"]?.hasPrefix("inlet/") == true)
            #expect(server.requests.first?.body == [])
        }
    }

    @Test func postRoundTripSendsTheBodyByteForByte() async throws {
        // Larger than 1 KiB, where older curl would otherwise wait for `100 Continue`.
        let body = Array("{\"name\":\"Zoë\",\"pad\":\"\(String(repeating: "z", count: 4000))\"}\n".utf8) + [0, 255]
        try await withLoopback(script: { _ in .echo }) { server, client in
            let response = try await client.execute(OutboundRequest(
                method: .post, url: server.url("/echo"), headers: [.contentType: "application/json"], body: body, timeout: 10
            ))
            #expect(response.status == 200)
            let received = try #require(server.requests.first)
            #expect(received.method == "POST")
            #expect(received.body == body)
            #expect(received.header("content-length") == String(body.count))
            #expect(received.header("content-type") == "application/json")
            #expect(received.header("expect") == nil)
        }
    }

    @Test func otherMethodsAndEmptyPost() async throws {
        try await withLoopback(script: { _ in .respond(status: 204) }) { server, client in
            let put = try await client.execute(OutboundRequest(method: .patch, url: server.url("/p"), body: Array("{}".utf8), timeout: 10))
            let delete = try await client.execute(OutboundRequest(method: .delete, url: server.url("/d"), timeout: 10))
            let post = try await client.execute(OutboundRequest(method: .post, url: server.url("/e"), timeout: 10))
            #expect([put.status, delete.status, post.status] == [Int](repeating: 204, count: 3))
            let requests = server.requests
            #expect(requests.map(\.method) == ["PATCH", "DELETE", "POST"])
            #expect(requests[0].body == Array("{}".utf8))
            #expect(requests[2].header("content-length") == "0")
        }
    }

    @Test func statusAndResponseHeadersAreParsed() async throws {
        let script: @Sendable (RecordedRequest) -> ScriptedResponse = { _ in
            .respond(status: 418, headers: [("X-Custom", "  a b  "), ("Retry-After", "7"), ("Set-Cookie", "one"), ("Set-Cookie", "two")],
                     body: Array("short and stout".utf8))
        }
        try await withLoopback(script: script) { server, client in
            let response = try await client.execute(OutboundRequest(url: server.url("/teapot"), timeout: 10))
            #expect(response.status == 418)
            #expect(response.body == Array("short and stout".utf8))
            #expect(response.headers[HTTPField.Name("x-custom")!] == "a b")
            #expect(response.headers[HTTPField.Name("X-CUSTOM")!] == "a b")
            #expect(response.headers[.retryAfter] == "7")
            #expect(response.headers[values: .setCookie] == ["one", "two"])
            #expect(response.headers.allSatisfy { $0.name.rawName == $0.name.rawName.lowercased() })
            #expect(response.headers[HTTPField.Name("missing")!] == nil)
        }
    }

    @Test func neverAnsweringServerHitsTheTotalTimeout() async throws {
        try await withLoopback(script: { _ in .hang }) { server, client in
            let error = await expectClientError {
                try await client.execute(OutboundRequest(
                    url: server.url("/hang"), headers: [.authorization: "Bearer secret-token-123"], connectTimeout: 1, timeout: 1
                ))
            }
            #expect(error?.isTimeout == true)
            #expect(error?.isConnectionFailure == false)
            #expect(error?.description.lowercased().contains("time") == true)
            #expect(error?.description.contains("secret-token-123") == false)
        }
    }

    @Test func closeMidResponseIsAnError() async throws {
        try await withLoopback(script: { _ in .truncate(declaredLength: 1000, sentBytes: 10) }) { server, client in
            let error = await expectClientError {
                try await client.execute(OutboundRequest(url: server.url("/cut"), timeout: 10))
            }
            #expect(error != nil)
            #expect(error?.isTimeout == false)
            #expect(error?.isResponseTooLarge == false)
        }
    }

    @Test func oversizedResponseWithContentLengthIsRefused() async throws {
        let big = [UInt8](repeating: 0x41, count: 200_000)
        try await withLoopback(script: { _ in .respond(status: 200, body: big) }) { server, client in
            let error = await expectClientError {
                try await client.execute(OutboundRequest(url: server.url("/big"), timeout: 10, maxResponseBytes: 64 * 1024))
            }
            #expect(error?.isResponseTooLarge == true)
            // The same size within the limit is fine.
            let response = try await client.execute(OutboundRequest(url: server.url("/big"), timeout: 10, maxResponseBytes: big.count))
            #expect(response.body.count == big.count)
        }
    }

    @Test func oversizedChunkedResponseIsAbortedByTheWriteCallback() async throws {
        try await withLoopback(script: { _ in .chunked(totalBytes: 2 << 20) }) { server, client in
            let error = await expectClientError {
                try await client.execute(OutboundRequest(url: server.url("/stream"), timeout: 10))  // default limit, 1 MiB
            }
            #expect(error?.isResponseTooLarge == true)
            #expect(error?.description.contains("\(1 << 20)") == true)
        }
    }

    @Test func fiftyConcurrentRequestsReuseConnections() async throws {
        try await withLoopback(script: { _ in .echo }) { server, client in
            let statuses = try await withThrowingTaskGroup(of: (Int, Int, String?).self) { group in
                for index in 0..<50 {
                    group.addTask {
                        let response = try await client.execute(OutboundRequest(url: server.url("/echo?n=\(index)"), timeout: 20))
                        let echoed = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
                        return (index, response.status, echoed?["uri"] as? String)
                    }
                }
                var results: [(Int, Int, String?)] = []
                for try await result in group { results.append(result) }
                return results
            }
            #expect(statuses.count == 50)
            for (index, status, uri) in statuses {
                #expect(status == 200)
                #expect(uri == "/echo?n=\(index)")
            }
            #expect(server.requests.count == 50)
            #expect(server.acceptedConnections < 50)
            #expect(server.acceptedConnections <= client.configuration.maxConnectionsPerHost)
        }
    }

    @Test func refusedConnectionIsAConnectionFailure() async throws {
        let port = try await closedPort()
        let client = OutboundClient()
        let error = await expectClientError {
            try await client.execute(OutboundRequest(url: "http://127.0.0.1:\(port)/", connectTimeout: 5, timeout: 5))
        }
        await client.shutdown()
        #expect(error?.isConnectionFailure == true)
        #expect(error?.isTimeout == false)
        #expect(error?.curlCode == 7)  // CURLE_COULDNT_CONNECT
    }

    @Test func headerInjectionCannotReachTheWire() async throws {
        // HTTPFields refuses a name that is not a token and blanks CR, LF and NUL in a
        // value, so the request carries one header, never two.
        #expect(HTTPField.Name("X-Token: secret\r\nInjected") == nil)
        try await withLoopback(script: { _ in .respond(status: 204) }) { server, client in
            let response = try await client.execute(OutboundRequest(
                url: server.url("/h"), headers: [HTTPField.Name("X-Token")!: "secret\r\nInjected: yes\0"], timeout: 10
            ))
            #expect(response.status == 204)
            let received = try #require(server.requests.first)
            #expect(received.header("injected") == nil)
            let value = try #require(received.header("x-token"))
            #expect(value.hasPrefix("secret"))
            #expect(!value.utf8.contains { $0 == 0 || $0 == 10 || $0 == 13 })
        }
    }

    @Test func controlCharactersInTheURLAreRefusedWithoutEchoingIt() async throws {
        let client = OutboundClient()
        let error = await expectClientError {
            try await client.execute(OutboundRequest(url: "http://127.0.0.1:1/?token=secret\r\nInjected: yes", timeout: 5))
        }
        await client.shutdown()
        #expect(error?.isInvalidRequest == true)
        #expect(error?.description.contains("secret") == false)
    }

    @Test func proxyVariablesAreIgnoredUnlessAProxyIsConfigured() async throws {
        // `make test` (scripts/test.sh) runs the suite with http_proxy naming a closed port:
        // setting it here would race the tests that start processes (Foundation's
        // Process.run copies the environment while setenv may move it).
        let variable = try #require(
            ProcessInfo.processInfo.environment["http_proxy"], "run the suite with `make test`, which sets http_proxy to a closed port"
        )
        #expect(variable.hasPrefix("http://127.0.0.1:"))
        try await withLoopback(script: { _ in .respond(status: 200) }) { server, client in
            let response = try await client.execute(OutboundRequest(url: server.url("/direct"), timeout: 5))
            #expect(response.status == 200)
        }
        // A configured proxy (INLET_HTTP_PROXY) gets every request, in absolute form.
        try await withLoopback(script: { _ in .respond(status: 204) }) { proxy, _ in
            let client = OutboundClient(configuration: .init(proxy: proxy.url("")))
            let response = try await client.execute(OutboundRequest(url: "http://upstream.invalid/x", timeout: 5))
            await client.shutdown()
            #expect(response.status == 204)
            #expect(proxy.requests.first?.uri == "http://upstream.invalid/x")
        }
    }

    @Test func unsupportedSchemeIsRefused() async throws {
        let client = OutboundClient()
        let error = await expectClientError {
            try await client.execute(OutboundRequest(url: "file:///etc/passwd", timeout: 5))
        }
        await client.shutdown()
        #expect(error?.curlCode == 1)  // CURLE_UNSUPPORTED_PROTOCOL
    }

    @Test func caBundleIsAppliedToHTTPS() async throws {
        // A missing bundle must fail the TLS set-up, never fall back to no verification.
        let configuration = OutboundClient.Configuration(caBundlePath: "/nonexistent/inlet-test-ca.pem")
        try await withLoopback(configuration: configuration, script: { _ in .echo }) { server, client in
            let error = await expectClientError {
                try await client.execute(OutboundRequest(url: "https://127.0.0.1:\(server.port)/", timeout: 5))
            }
            #expect(error?.isTLSFailure == true)
        }
    }

    @Test func shutdownFailsInFlightRequests() async throws {
        let server = try await LoopbackHTTPServer.start { _ in .hang }
        let client = OutboundClient()
        let pending = Task { try await client.execute(OutboundRequest(url: server.url("/hang"), timeout: 30)) }
        try await eventually("the request to arrive") { server.requests.count == 1 }
        await client.shutdown()
        let error = await expectClientError { try await pending.value }
        #expect(error?.isShutdown == true)
        // Later requests fail the same way.
        let after = await expectClientError { try await client.execute(OutboundRequest(url: server.url("/"), timeout: 5)) }
        #expect(after?.isShutdown == true)
        await server.stop()
    }

    @Test func cancellingTheTaskAbortsTheTransfer() async throws {
        try await withLoopback(script: { _ in .hang }) { server, client in
            let pending = Task { try await client.execute(OutboundRequest(url: server.url("/hang"), timeout: 30)) }
            try await eventually("the request to arrive") { server.requests.count == 1 }
            pending.cancel()
            await #expect(throws: CancellationError.self) { try await pending.value }
            // The client still works afterwards.
            let again = Task { try await client.execute(OutboundRequest(url: server.url("/hang"), timeout: 1)) }
            let error = await expectClientError { try await again.value }
            #expect(error?.isTimeout == true)
        }
    }
}
