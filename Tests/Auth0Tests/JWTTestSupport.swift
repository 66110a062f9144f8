import Auth0
import COpenSSL
import Foundation
import InletCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

// MARK: - Keys and tokens made with libcrypto

/// An RSA key pair generated in the test with EVP_PKEY_keygen, which signs tokens and
/// publishes its public half as a JWK (n/e and, on request, an x5c certificate).
final class TestRSAKey: @unchecked Sendable {
    // @unchecked Sendable: `pkey` is immutable after init; OpenSSL allows concurrent
    // signing with one EVP_PKEY.
    let pkey: OpaquePointer
    let kid: String

    init(bits: Int32 = 2048, kid: String) {
        let context = EVP_PKEY_CTX_new_from_name(nil, "RSA", nil)!
        defer { EVP_PKEY_CTX_free(context) }
        precondition(EVP_PKEY_keygen_init(context) == 1)
        precondition(EVP_PKEY_CTX_set_rsa_keygen_bits(context, bits) == 1)
        var key: OpaquePointer?
        precondition(EVP_PKEY_generate(context, &key) == 1)
        self.pkey = key!
        self.kid = kid
    }

    deinit { EVP_PKEY_free(self.pkey) }

    /// Shared keys: RSA generation takes a while, so the suites reuse these.
    static let primary = TestRSAKey(kid: "test-key-1")
    static let rotated = TestRSAKey(kid: "test-key-2")

    private func component(_ name: String) -> [UInt8] {
        var number: OpaquePointer?
        precondition(EVP_PKEY_get_bn_param(self.pkey, name, &number) == 1)
        defer { BN_free(number) }
        var bytes = [UInt8](repeating: 0, count: Int((BN_num_bits(number) + 7) / 8))
        _ = BN_bn2bin(number, &bytes)
        return bytes
    }

    var modulus: [UInt8] { self.component("n") }
    var exponent: [UInt8] { self.component("e") }

    /// The public key as DER SubjectPublicKeyInfo.
    var publicKeyDER: [UInt8] {
        let length = i2d_PUBKEY(self.pkey, nil)
        var bytes = [UInt8](repeating: 0, count: Int(length))
        bytes.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            _ = i2d_PUBKEY(self.pkey, &cursor)
        }
        return bytes
    }

    /// The public key as PEM text, the "secret" of the classic HS256 key-confusion attack.
    var publicKeyPEM: String {
        let body = Crypto.base64Encoded(self.publicKeyDER)
        var lines: [String] = []
        var rest = Substring(body)
        while !rest.isEmpty {
            lines.append(String(rest.prefix(64)))
            rest = rest.dropFirst(64)
        }
        return "-----BEGIN PUBLIC KEY-----\n" + lines.joined(separator: "\n") + "\n-----END PUBLIC KEY-----\n"
    }

    /// A self-signed certificate of the key, DER.
    var certificateDER: [UInt8] {
        let certificate = X509_new()!
        defer { X509_free(certificate) }
        X509_set_version(certificate, 2)
        ASN1_INTEGER_set(X509_get_serialNumber(certificate), 1)
        X509_gmtime_adj(X509_getm_notBefore(certificate), 0)
        X509_gmtime_adj(X509_getm_notAfter(certificate), 3600)
        X509_set_pubkey(certificate, self.pkey)
        let name = X509_get_subject_name(certificate)
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, "inlet-test", -1, -1, 0)
        X509_set_issuer_name(certificate, name)
        precondition(X509_sign(certificate, self.pkey, EVP_sha256()) > 0)
        let length = i2d_X509(certificate, nil)
        var bytes = [UInt8](repeating: 0, count: Int(length))
        bytes.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            _ = i2d_X509(certificate, &cursor)
        }
        return bytes
    }

    /// The JWK of the public key, shaped as Auth0 publishes it.
    func jwk(alg: String? = "RS256", use: String? = "sig", kid: String? = nil, withNE: Bool = true, x5c: Bool = false) -> JSONValue {
        var members: [(String, JSONValue)] = [("kty", "RSA")]
        if let use { members.append(("use", .string(use))) }
        members.append(("kid", .string(kid ?? self.kid)))
        if let alg { members.append(("alg", .string(alg))) }
        if withNE {
            members.append(("n", .string(JWTBase64URL.encode(self.modulus))))
            members.append(("e", .string(JWTBase64URL.encode(self.exponent))))
        }
        if x5c { members.append(("x5c", [.string(Crypto.base64Encoded(self.certificateDER))])) }
        return .object(members)
    }

    /// An RSASSA-PKCS1-v1_5 signature with the digest named (SHA256, SHA384, SHA512).
    func sign(_ input: [UInt8], digest: String = "SHA256") -> [UInt8] {
        let context = EVP_MD_CTX_new()!
        defer { EVP_MD_CTX_free(context) }
        precondition(EVP_DigestSignInit_ex(context, nil, digest, nil, nil, self.pkey, nil) == 1)
        var length = 0
        precondition(EVP_DigestSign(context, nil, &length, input, input.count) == 1)
        var signature = [UInt8](repeating: 0, count: length)
        precondition(EVP_DigestSign(context, &signature, &length, input, input.count) == 1)
        return Array(signature.prefix(length))
    }

    /// A compact JWS of `claims` under `header` (default: RS256 with this key's kid).
    func token(_ claims: JSONValue, header: JSONValue? = nil, digest: String = "SHA256") -> String {
        let header = header ?? ["alg": "RS256", "typ": "JWT", "kid": .string(self.kid)]
        let input = JWTBase64URL.encode(header.serialized()) + "." + JWTBase64URL.encode(claims.serialized())
        return input + "." + JWTBase64URL.encode(self.sign(Array(input.utf8), digest: digest))
    }

    /// A JWKS document holding `keys`.
    static func jwks(_ keys: [JSONValue]) -> [UInt8] {
        JSONValue.object([("keys", .array(keys))]).serialized()
    }
}

/// Token fixtures for one tenant.
enum TestTenant {
    static let domain = "inlet-test.eu.auth0.com"
    static let issuer = "https://inlet-test.eu.auth0.com/"
    static let audience = "https://api.inlet.example"
    /// A fixed "now" (2026-03-01T00:00:00Z), so every time in a test is exact.
    static let now: Int64 = 1_772_323_200

    /// Auth0-shaped access-token claims valid at `now`; `overrides` replace or add members
    /// (a `.null` value removes one).
    static func claims(_ overrides: [(String, JSONValue)] = []) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("iss", .string(issuer)),
            ("sub", "auth0|6745a1f0c2d94e0012ab34cd"),
            ("aud", .string(audience)),
            ("iat", .int(Int(now) - 60)),
            ("exp", .int(Int(now) + 3600)),
            ("scope", "openid profile email"),
            ("azp", "kQ1bQ3e8h2VtHc9sP4xY7zW0aN6mR5uT"),
        ]
        for (key, value) in overrides {
            members.removeAll { $0.0 == key }
            if value != .null { members.append((key, value)) }
        }
        return .object(members)
    }

    static let options = JWTVerifier.Options.auth0(domain: domain, audience: audience)
}

/// A wall clock the test sets and moves.
final class TestClock: Sendable {
    private let milliseconds: Mutex<Int64>

    init(seconds: Int64 = TestTenant.now) { self.milliseconds = Mutex(seconds * 1000) }

    func advance(seconds: Double) { self.milliseconds.withLock { $0 += Int64(seconds * 1000) } }
    func set(seconds: Double) { self.milliseconds.withLock { $0 = Int64(seconds * 1000) } }
    var clock: WallClock { WallClock { Timestamp(millisecondsSinceEpoch: self.milliseconds.withLock { $0 }) } }
}

let jwtTestLogger = Logger(label: "jwt-test", factory: { _ in SwiftLogNoOpLogHandler() })

/// Runs `body`, which must throw a ``JWTError``, and returns it.
func expectJWTError(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> JWTClaims
) async -> JWTError? {
    do {
        let claims = try await body()
        Issue.record("expected a JWTError, the token verified (sub \(claims.subject))", sourceLocation: sourceLocation)
        return nil
    } catch let error as JWTError {
        return error
    } catch {
        Issue.record("expected a JWTError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

// MARK: - A loopback JWKS endpoint

/// An HTTP/1.1 server on 127.0.0.1 (ephemeral port) that answers every request with
/// what `respond` currently says, and counts requests. Tests switch the answer to
/// rotate keys or take the endpoint down.
final class JWKSTestServer: Sendable {
    enum Answer: Sendable {
        case jwks([UInt8])
        case status(Int)
        case hang
    }

    private struct State {
        var answer: Answer
        var requests = 0
        var channels: [any Channel] = []
    }

    let port: Int
    private let channel: any Channel
    private let box: StateBox

    private init(port: Int, channel: any Channel, box: StateBox) {
        self.port = port
        self.channel = channel
        self.box = box
    }

    var url: String { "http://127.0.0.1:\(self.port)/.well-known/jwks.json" }
    var requests: Int { self.box.state.withLock { $0.requests } }

    func answer(_ answer: Answer) { self.box.state.withLock { $0.answer = answer } }

    static func start(_ answer: Answer) async throws -> JWKSTestServer {
        let box = StateBox(answer)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                box.state.withLock { $0.channels.append(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(box: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return JWKSTestServer(port: channel.localAddress!.port!, channel: channel, box: box)
    }

    func stop() async {
        try? await self.channel.close()
        for channel in self.box.state.withLock({ $0.channels }) { try? await channel.close() }
    }

    /// The state, shared by the server object and its connection handlers.
    private final class StateBox: Sendable {
        let state: Mutex<State>
        init(_ answer: Answer) { self.state = Mutex(State(answer: answer)) }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let box: StateBox
        init(box: StateBox) { self.box = box }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = self.unwrapInboundIn(data) else { return }
            let answer = self.box.state.withLock { state -> Answer in
                state.requests += 1
                return state.answer
            }
            let status: HTTPResponseStatus
            let body: [UInt8]
            switch answer {
            case .hang: return
            case .jwks(let bytes): (status, body) = (.ok, bytes)
            case .status(let code): (status, body) = (HTTPResponseStatus(statusCode: code), Array("{\"error\":\"down\"}".utf8))
            }
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/json")
            headers.add(name: "content-length", value: String(body.count))
            context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.write(self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
            context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}

/// Polls `condition` until it holds or `seconds` pass (then records an issue).
func pollUntil(seconds: Double = 10, _ what: String, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("timed out waiting for \(what)")
            return
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}
