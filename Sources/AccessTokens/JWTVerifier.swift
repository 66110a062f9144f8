public import InletCore
internal import Synchronization

/// Where a verifier finds the public key a token names in its `kid`.
///
/// ``JWKSCache`` is the production source; ``StaticJWTKeys`` holds fixed keys (tests,
/// benchmarks).
public protocol JWTKeySource: Sendable {
    /// The key with this `kid`; throws ``JWTError/unknownKey`` (or
    /// ``JWTError/keysUnavailable(_:)``) when there is none.
    func key(id: String) async throws(JWTError) -> JWTPublicKey
}

/// A fixed set of keys.
///
/// ```swift
/// let verifier = JWTVerifier(options: options, keys: StaticJWTKeys([key]))
/// ```
public struct StaticJWTKeys: JWTKeySource {
    public let set: JWKSet

    public init(_ keys: [JWTPublicKey]) {
        self.set = JWKSet(keys)
    }

    public func key(id: String) async throws(JWTError) -> JWTPublicKey {
        guard let key = self.set.keys[id] else { throw .unknownKey }
        return key
    }
}

/// The claims of a verified access token.
public struct JWTClaims: Sendable {
    /// `sub`: the Auth0 user id (`auth0|...`, `google-oauth2|...`).
    public let subject: String
    public let issuer: String
    /// `aud`, always as a list.
    public let audiences: [String]
    /// `exp`, `nbf`, `iat` in UNIX seconds.
    public let expiresAt: Double
    public let notBefore: Double?
    public let issuedAt: Double?
    /// `scope` (space-separated), `permissions` (RBAC), `azp` (the client application).
    public let scope: String?
    public let permissions: [String]
    public let authorizedParty: String?
    /// The header's `kid` and the algorithm the signature was checked with.
    public internal(set) var keyID: String
    public internal(set) var algorithm: JWTAlgorithm
    /// Every claim as sent.
    public let all: JSONValue
}

/// Verifies Auth0 access tokens: compact JWS, RS256, keys from the tenant's JWKS.
///
/// In order, cheapest refusals first and nothing from the payload trusted before the
/// signature: the size bound; three strict base64url parts; a JSON header with a `kid`,
/// no `crit`, and a `typ` of `JWT` or `at+jwt` when present; `alg` on the allow-list
/// (`none` and every `HS*` refused outright); the key by `kid`; `alg` equal to the
/// algorithm bound to that key; the signature (EVP, libcrypto); then the claims: `exp`
/// and `nbf` within ``Options/leeway``, `iss` exactly ``Options/issuer`` (byte for byte,
/// trailing slash included), `aud` a string or array containing ``Options/audience``,
/// and a non-empty `sub`.
///
/// RSA verification is about 25 µs of CPU and runs inline; a known key never waits for
/// the network.
///
/// ```swift
/// let verifier = JWTVerifier(
///     options: .auth0(domain: "tenant.eu.auth0.com", audience: "https://api.example.com"),
///     keys: cache, clock: .system
/// )
/// let claims = try await verifier.verify(token)   // claims.subject == "auth0|..."
/// ```
public struct JWTVerifier: Sendable {
    public struct Options: Sendable {
        /// The exact `iss` accepted.
        public var issuer: String
        /// The API identifier that `aud` must contain.
        public var audience: String
        /// Seconds of clock skew tolerated on `exp` and `nbf`.
        public var leeway: Double
        /// Longest token accepted, in bytes.
        public var maxTokenBytes: Int
        /// Algorithms a token may use (each still has to match its key's).
        public var allowedAlgorithms: Set<JWTAlgorithm>

        public init(
            issuer: String, audience: String, leeway: Double = 5, maxTokenBytes: Int = 8192,
            allowedAlgorithms: Set<JWTAlgorithm> = [.rs256]
        ) {
            self.issuer = issuer
            self.audience = audience
            self.leeway = leeway
            self.maxTokenBytes = maxTokenBytes
            self.allowedAlgorithms = allowedAlgorithms
        }

        /// Auth0's rules for a tenant: `iss` is `https://{domain}/`.
        public static func auth0(domain: String, audience: String, leeway: Double = 5) -> Options {
            Options(issuer: "https://\(domain)/", audience: audience, leeway: leeway)
        }
    }

    public let options: Options
    public let keys: any JWTKeySource
    public let clock: WallClock
    private let memo: VerifierMemo

    /// `memoLimit` bounds the remembered headers and payloads (see ``verify(_:)``).
    public init(options: Options, keys: any JWTKeySource, clock: WallClock = .system, memoLimit: Int = 1024) {
        self.options = options
        self.keys = keys
        self.clock = clock
        self.memo = VerifierMemo(limit: memoLimit)
    }

    /// The claims of `token` if it is valid now; throws ``JWTError`` otherwise.
    ///
    /// A frontend sends the same access token with every request until it expires, so
    /// the verifier remembers (up to `memoLimit` entries each, oldest dropped first) what
    /// parsing a header and a payload gave. Only parsing is remembered: the signature is
    /// checked on every call, with the key the JWKS holds now, and a payload is remembered
    /// only after a signature over it verified. `exp` and `nbf` are checked on every call.
    public func verify(_ token: String) async throws(JWTError) -> JWTClaims {
        let parsed = try CompactJWS(token, options: self.options, memo: self.memo)
        let key = try await self.keys.key(id: parsed.keyID)
        return try self.finish(parsed, key: key)
    }

    /// ``verify(_:)`` with a synchronous key lookup (benchmarks, callers holding a set).
    public func verify(_ token: String, keys lookup: (String) -> JWTPublicKey?) throws(JWTError) -> JWTClaims {
        let parsed = try CompactJWS(token, options: self.options, memo: self.memo)
        guard let key = lookup(parsed.keyID) else { throw .unknownKey }
        return try self.finish(parsed, key: key)
    }

    private func finish(_ parsed: CompactJWS, key: JWTPublicKey) throws(JWTError) -> JWTClaims {
        // The algorithm is the key's; the header only gets to agree with it.
        guard parsed.algorithm == key.algorithm else {
            throw .algorithm("the token algorithm does not match its signing key")
        }
        guard parsed.verifySignature(with: key) else { throw .badSignature }

        let segment = parsed.payloadSegment
        let claims: JWTClaims
        if let known = self.memo.claims(segment) {
            claims = known
        } else {
            claims = try self.parseClaims(parsed)
            self.memo.remember(segment, claims)
        }
        // Time is checked on every call, remembered or not.
        let now = self.clock.now().secondsSinceEpoch
        if now >= claims.expiresAt + self.options.leeway { throw .expired }
        if let nbf = claims.notBefore, now + self.options.leeway < nbf { throw .notYetValid }
        return JWTClaims(claims, keyID: parsed.keyID, algorithm: parsed.algorithm)
    }

    /// Reads and checks every claim but the times; the result depends only on the payload.
    private func parseClaims(_ parsed: CompactJWS) throws(JWTError) -> JWTClaims {
        guard let payload = parsed.decodedPayload() else { throw .malformed("the token payload is not base64url") }
        let all: JSONValue
        do {
            let document = try JSONDocument.parse(payload, limits: .init(maxBytes: self.options.maxTokenBytes, maxDepth: 16))
            guard document.root.isObject else { throw JWTError.malformed("the token payload is not a JSON object") }
            all = document.root.value
        } catch let error as JWTError {
            throw error
        } catch {
            throw .malformed("the token payload is not valid JSON")
        }

        guard let exp = try Self.number(all, "exp") else { throw .claim("the token has no exp claim") }
        let nbf = try Self.number(all, "nbf")
        let iat = try Self.number(all, "iat")

        guard let iss = all["iss"]?.stringValue, iss.utf8.elementsEqual(self.options.issuer.utf8) else { throw .wrongIssuer }
        let audiences: [String]
        switch all["aud"] {
        case .string(let single)?: audiences = [single]
        case .array(let list)?:
            audiences = list.compactMap(\.stringValue)
            guard audiences.count == list.count else { throw .claim("the token aud claim must hold strings") }
        default: throw .wrongAudience
        }
        guard audiences.contains(where: { $0.utf8.elementsEqual(self.options.audience.utf8) }) else { throw .wrongAudience }

        guard let sub = all["sub"]?.stringValue, !sub.isEmpty, sub.utf8.count <= UserLogin.maxIDLength else {
            throw .claim("the token has no usable sub claim")
        }
        var permissions: [String] = []
        if case .array(let list)? = all["permissions"] { permissions = list.compactMap(\.stringValue) }
        return JWTClaims(
            subject: sub, issuer: iss, audiences: audiences, expiresAt: exp, notBefore: nbf, issuedAt: iat,
            scope: all["scope"]?.stringValue, permissions: permissions, authorizedParty: all["azp"]?.stringValue,
            keyID: parsed.keyID, algorithm: parsed.algorithm, all: all
        )
    }

    /// A NumericDate claim (RFC 7519 §2): a JSON number, integer or not; nil when absent.
    private static func number(_ claims: JSONValue, _ name: String) throws(JWTError) -> Double? {
        switch claims[name] {
        case nil, .null?: return nil
        case .int(let value)?: return Double(value)
        case .double(let value)? where value.isFinite: return value
        default: throw .claim("the token \(name) claim must be a number")
        }
    }
}

extension JWTClaims {
    /// `claims` as read from a payload, with this token's `kid` and algorithm.
    init(_ claims: JWTClaims, keyID: String, algorithm: JWTAlgorithm) {
        self = claims
        self.keyID = keyID
        self.algorithm = algorithm
    }
}

/// What parsing gave for headers and payloads seen recently, each map bounded and
/// emptied oldest first.
final class VerifierMemo: Sendable {
    struct Header: Sendable {
        let algorithm: JWTAlgorithm
        let keyID: String
    }

    private let headers: Mutex<BoundedMap<Header>>
    private let payloads: Mutex<BoundedMap<JWTClaims>>

    init(limit: Int) {
        self.headers = Mutex(BoundedMap(limit: min(limit, 64)))
        self.payloads = Mutex(BoundedMap(limit: limit))
    }

    func header(_ segment: String) -> Header? { self.headers.withLock { $0[segment] } }
    func remember(_ segment: String, _ header: Header) { self.headers.withLock { $0.insert(segment, header) } }
    func claims(_ segment: String) -> JWTClaims? { self.payloads.withLock { $0[segment] } }
    func remember(_ segment: String, _ claims: JWTClaims) { self.payloads.withLock { $0.insert(segment, claims) } }
}

/// A dictionary of at most `limit` entries that drops the oldest insert when full.
struct BoundedMap<Value: Sendable>: Sendable {
    private var values: [String: Value] = [:]
    private var order: [String?]
    private var next = 0
    let limit: Int

    init(limit: Int) {
        self.limit = max(0, limit)
        self.order = Array(repeating: nil, count: self.limit)
    }

    subscript(key: String) -> Value? { self.values[key] }

    mutating func insert(_ key: String, _ value: Value) {
        guard self.limit > 0, self.values[key] == nil else { return }
        if let oldest = self.order[self.next] { self.values[oldest] = nil }
        self.order[self.next] = key
        self.values[key] = value
        self.next = (self.next + 1) % self.limit
    }
}

/// A token split into its parts, its header read and checked, its signature decoded.
struct CompactJWS {
    let bytes: [UInt8]
    /// Offsets of the two dots.
    let firstDot: Int
    let secondDot: Int
    let algorithm: JWTAlgorithm
    let keyID: String
    let signature: [UInt8]

    init(_ token: String, options: JWTVerifier.Options, memo: VerifierMemo) throws(JWTError) {
        // Bound the work before any decoding: Auth0 access tokens are well under 2 KB.
        guard token.utf8.count <= options.maxTokenBytes else { throw .tooLarge(limit: options.maxTokenBytes) }
        let bytes = Array(token.utf8)
        guard !bytes.isEmpty else { throw .malformed("the token is empty") }
        let dots = bytes.withUnsafeBufferPointer { buffer -> (Int, Int, Bool) in
            let dot = UInt8(ascii: ".")
            guard let first = buffer.firstIndex(of: dot),
                let second = buffer[(first + 1)...].firstIndex(of: dot)
            else { return (0, 0, false) }
            return (first, second, buffer[(second + 1)...].firstIndex(of: dot) == nil)
        }
        guard dots.2 else { throw .malformed("the token must have three dot-separated parts (a compact JWS)") }
        let firstDot = dots.0
        let secondDot = dots.1
        guard firstDot > 0, secondDot > firstDot + 1 else { throw .malformed("the token has an empty part") }
        guard secondDot + 1 < bytes.count else { throw .malformed("the token is not signed") }
        self.bytes = bytes
        self.firstDot = firstDot
        self.secondDot = secondDot

        let segment = String(decoding: bytes[0..<firstDot], as: UTF8.self)
        let header: VerifierMemo.Header
        if let known = memo.header(segment) {
            header = known
        } else {
            header = try Self.readHeader(bytes[0..<firstDot])
            memo.remember(segment, header)
        }
        guard options.allowedAlgorithms.contains(header.algorithm) else { throw .algorithm("the token algorithm is not allowed") }
        self.algorithm = header.algorithm
        self.keyID = header.keyID

        // The payload is decoded only when its parse is not remembered, but it is held to
        // the same strict spelling now, before any key is looked up.
        let payloadIsValid = bytes.withUnsafeBytes {
            Base64.url.isValid(UnsafeRawBufferPointer(rebasing: $0[(firstDot + 1)..<secondDot]))
        }
        guard payloadIsValid else { throw .malformed("the token payload is not base64url") }
        let signature: [UInt8]? = bytes.withUnsafeBytes {
            Base64.url.decode(UnsafeRawBufferPointer(rebasing: $0[(secondDot + 1)...]))
        }
        guard let signature else { throw .malformed("the token signature is not base64url") }
        self.signature = signature
    }

    /// Decodes and checks the protected header: JSON object, `alg` a known asymmetric
    /// algorithm, a `kid`, `typ` JWT or at+jwt when present, no `crit`.
    private static func readHeader(_ encoded: ArraySlice<UInt8>) throws(JWTError) -> VerifierMemo.Header {
        guard let header = Base64.url.decode(encoded) else { throw .malformed("the token header is not base64url") }
        let alg: String
        let kid: String?
        do {
            let document = try JSONDocument.parse(header, limits: .init(maxBytes: 4096, maxDepth: 4))
            guard document.root.isObject else { throw JWTError.malformed("the token header is not a JSON object") }
            let root = document.root
            guard let name = try root.string("alg") else { throw JWTError.malformed("the token header has no alg") }
            alg = name
            kid = try root.string("kid")
            if let typ = try root.string("typ") {
                // Media types compare case-insensitively (RFC 7515 §4.1.9, RFC 9068 §2.1).
                let lowered = typ.lowercased()
                guard lowered == "jwt" || lowered == "at+jwt" || lowered == "application/at+jwt" else {
                    throw JWTError.malformed("the token typ must be JWT or at+jwt")
                }
            }
            // RFC 7515 §4.1.11: extensions marked critical must be understood; none are.
            guard !root.contains("crit") else { throw JWTError.malformed("the token header names critical extensions") }
        } catch let error as JWTError {
            throw error
        } catch {
            throw .malformed("the token header is not valid JSON")
        }

        if alg == "none" || alg.isEmpty { throw .algorithm("unsigned tokens (alg none) are not accepted") }
        if alg.hasPrefix("HS") { throw .algorithm("symmetric algorithms (HS256, HS384, HS512) are not accepted") }
        guard let algorithm = JWTAlgorithm(rawValue: alg) else { throw .algorithm("the token algorithm is not allowed") }
        guard let kid, !kid.isEmpty else { throw .malformed("the token header has no kid") }
        return VerifierMemo.Header(algorithm: algorithm, keyID: kid)
    }

    /// The payload's base64url text (the key under which its parse is remembered).
    var payloadSegment: String {
        String(decoding: self.bytes[(self.firstDot + 1)..<self.secondDot], as: UTF8.self)
    }

    func verifySignature(with key: JWTPublicKey) -> Bool {
        self.bytes.withUnsafeBytes { bytes in
            self.signature.withUnsafeBytes { signature in
                key.verify(signature: signature, signingInput: UnsafeRawBufferPointer(rebasing: bytes[0..<self.secondDot]))
            }
        }
    }

    func decodedPayload() -> [UInt8]? {
        self.bytes.withUnsafeBytes { Base64.url.decode(UnsafeRawBufferPointer(rebasing: $0[(self.firstDot + 1)..<self.secondDot])) }
    }
}
