// inlet-jwt-bench: verifications per second of a valid RS256 Auth0 access token with a
// cached key, on one core, to compare with `openssl speed rsa2048` (verify/s).
//
//   swift build -c release --product inlet-jwt-bench
//   taskset -c 0 .build/release/inlet-jwt-bench [seconds] [case...]   (Benchmarks/jwt.sh does both)
//
// The key is generated here (RSA-2048, EVP_PKEY_keygen), published as a JWKS document and
// read back through `JWKSet.parse` (the production path: n/e -> OSSL_PARAM_BLD ->
// EVP_PKEY_fromdata). The token is shaped like an Auth0 access token (aud array,
// scope, permissions). Cases, each run for `seconds` after a warm-up:
//   full   JWTVerifier.verify(token) async, key from a JWTKeySource (as a cached JWKS
//          key): size check, split, strict base64url, header JSON, alg/kid checks, key
//          lookup, SHA-256 + EVP_PKEY_verify, payload JSON, every claim check.
//   fresh  `full` over 1,500 distinct tokens (one user each) in turn, more than the
//          verifier's memo of 1,024 payloads holds: every payload is decoded and parsed
//          with jansson, as for a token seen for the first time.
//   sync   `full` with a synchronous key lookup (no async call).
//   rsa    JWTPublicKey.verify alone (hash + EVP_PKEY_verify on a pooled context).
// Output: one line per case, `<case> verify/s: <n>`; the `full` line is the figure.

import AccessTokens
import Auth0Management
import InletHTTPClient
import COpenSSL
import InletCore

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

let seconds = CommandLine.arguments.count > 1 ? Double(CommandLine.arguments[1]) ?? 3 : 3
/// Cases to run (all when none is named after the seconds).
let selected = Set(CommandLine.arguments.dropFirst(2))
func wanted(_ name: String) -> Bool { selected.isEmpty || selected.contains(name) }

// MARK: - Key and token

func fail(_ what: String) -> Never {
    var buffer = [CChar](repeating: 0, count: 256)
    ERR_error_string_n(ERR_get_error(), &buffer, buffer.count)
    fatalError("\(what): \(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
}

func generateKey() -> OpaquePointer {
    guard let context = EVP_PKEY_CTX_new_from_name(nil, "RSA", nil) else { fail("EVP_PKEY_CTX_new_from_name") }
    defer { EVP_PKEY_CTX_free(context) }
    guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_CTX_set_rsa_keygen_bits(context, 2048) == 1 else { fail("keygen init") }
    var key: OpaquePointer?
    guard EVP_PKEY_generate(context, &key) == 1, let key else { fail("EVP_PKEY_generate") }
    return key
}

func component(_ key: OpaquePointer, _ name: String) -> [UInt8] {
    var number: OpaquePointer?
    guard EVP_PKEY_get_bn_param(key, name, &number) == 1, let number else { fail("EVP_PKEY_get_bn_param \(name)") }
    defer { BN_free(number) }
    var bytes = [UInt8](repeating: 0, count: Int((BN_num_bits(number) + 7) / 8))
    _ = BN_bn2bin(number, &bytes)
    return bytes
}

func sign(_ key: OpaquePointer, _ input: [UInt8]) -> [UInt8] {
    guard let context = EVP_MD_CTX_new() else { fail("EVP_MD_CTX_new") }
    defer { EVP_MD_CTX_free(context) }
    guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, key) == 1 else { fail("EVP_DigestSignInit") }
    var length = 0
    guard EVP_DigestSign(context, nil, &length, input, input.count) == 1 else { fail("EVP_DigestSign") }
    var signature = [UInt8](repeating: 0, count: length)
    guard EVP_DigestSign(context, &signature, &length, input, input.count) == 1 else { fail("EVP_DigestSign") }
    return Array(signature.prefix(length))
}

// MARK: - Harness

let clock = ContinuousClock()
nonisolated(unsafe) var sink = 0

/// User CPU seconds of this process, as `openssl speed` counts (it divides by user time
/// unless given `-elapsed`), so that both figures survive a busy machine alike.
func userCPUSeconds() -> Double {
    var usage = rusage()
    #if canImport(Glibc)
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
}

/// Operations per user-CPU second of `body`, run in batches of 256 for `seconds` of wall
/// time after a warm-up. Prints the wall-clock rate beside it.
func rate(_ name: String, _ body: () async throws -> Int) async rethrows -> Double {
    for _ in 0..<2_000 { sink &+= try await body() }
    var count = 0
    let start = clock.now
    let cpuStart = userCPUSeconds()
    let budget = Duration.milliseconds(Int64(seconds * 1000))
    var elapsed = Duration.zero
    while elapsed < budget {
        for _ in 0..<256 { sink &+= try await body() }
        count += 256
        elapsed = start.duration(to: clock.now)
    }
    let cpu = userCPUSeconds() - cpuStart
    let wall = elapsed.seconds
    let perSecond = Double(count) / cpu
    let microseconds = (1e6 / perSecond * 100).rounded() / 100
    print("\(name) verify/s: \(Int(perSecond.rounded()))   (\(microseconds) us of CPU/op; \(Int((Double(count) / wall).rounded()))/s wall; \(count) ops)")
    return perSecond
}

/// Everything runs inside this nonisolated function: top-level code is main-actor code,
/// and a closure formed there would hop to the main thread on every call.
func benchmark() async throws {
    let privateKey = generateKey()
    let kid = "bench-key-1"
    let jwks: JSONValue = [
        "keys": [[
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": .string(kid),
            "n": .string(Base64.url.encode(component(privateKey, "n"))),
            "e": .string(Base64.url.encode(component(privateKey, "e"))),
        ]],
    ]
    let set = try JWKSet.parse(jwks.serialized())
    let publicKey = set.keys[kid]!

    let domain = "inlet-bench.eu.auth0.com"
    let audience = "https://api.inlet.example"
    let now = Int(WallClock.system.now().secondsSinceEpoch)
    let header: JSONValue = ["alg": "RS256", "typ": "JWT", "kid": .string(kid)]
    let claims: JSONValue = [
        "iss": .string("https://\(domain)/"),
        "sub": "auth0|6745a1f0c2d94e0012ab34cd",
        "aud": [.string(audience), .string("https://\(domain)/userinfo")],
        "iat": .int(now), "exp": .int(now + 86_400),
        "scope": "openid profile email read:profile",
        "azp": "kQ1bQ3e8h2VtHc9sP4xY7zW0aN6mR5uT",
        "permissions": ["read:profile", "sync:self"],
    ]
    let signingInput = Base64.url.encode(header.serialized()) + "." + Base64.url.encode(claims.serialized())
    let token = signingInput + "." + Base64.url.encode(sign(privateKey, Array(signingInput.utf8)))

    let verifier = JWTVerifier(options: .auth0(domain: domain, audience: audience), keys: StaticJWTKeys([publicKey]))
    // Sanity: the token verifies, a tampered one does not.
    let verified = try await verifier.verify(token)
    precondition(verified.subject == "auth0|6745a1f0c2d94e0012ab34cd")
    do {
        _ = try await verifier.verify(String(token.dropLast(2)) + (token.hasSuffix("AA") ? "AQ" : "AA"))
        fatalError("a tampered token verified")
    } catch {}

    let signatureBytes = Base64.url.decode(token.split(separator: ".")[2].utf8)!
    let inputBytes = Array(signingInput.utf8)

    // Distinct tokens for `fresh`: the same shape, one subject each.
    var freshTokens: [String] = []
    if wanted("fresh") {
        let encodedHeader = Base64.url.encode(header.serialized())
        for index in 0..<1_500 {
            guard case .object(var members) = claims else { break }
            members[1] = ("sub", .string("auth0|6745a1f0c2d94e00\(String(100_000 + index))"))
            let input = encodedHeader + "." + Base64.url.encode(JSONValue.object(members).serialized())
            freshTokens.append(input + "." + Base64.url.encode(sign(privateKey, Array(input.utf8))))
        }
    }
    var next = 0
    if wanted("full") { _ = try await rate("full") { try await verifier.verify(token).subject.utf8.count } }
    if wanted("fresh") {
        _ = try await rate("fresh") {
            next = next == freshTokens.count - 1 ? 0 : next + 1
            return try await verifier.verify(freshTokens[next]).subject.utf8.count
        }
    }
    if wanted("sync") { _ = try await rate("sync") { try verifier.verify(token) { $0 == kid ? publicKey : nil }.subject.utf8.count } }
    if wanted("rsa") { _ = await rate("rsa") { publicKey.verify(signature: signatureBytes, signingInput: inputBytes) ? 1 : 0 } }
    print("token bytes: \(token.utf8.count)  checksum: \(sink & 0xFFFF)")
    EVP_PKEY_free(privateKey)
}

try await benchmark()

