internal import InletHTTPClient
internal import InletCore

/// Why a JWKS, or one key in it, could not be used.
///
/// Kept for logs and metrics, never for a response: the JWKS is the tenant's, not the
/// caller's. Errors from libcrypto carry OpenSSL's error-queue text; errors from libcurl
/// carry the ``OutboundError`` description.
///
/// ```swift
/// do { _ = try JWKSet.parse(body) } catch { logger.warning("JWKS refused", metadata: ["error": "\(error)"]) }
/// ```
public struct JWKSError: Error, CustomStringConvertible, Sendable, Equatable {
    private enum Kind: Sendable, Equatable {
        case fetch
        case status
        case document
        case invalidKey
        case noKeys
    }

    private let kind: Kind
    public let message: String

    private init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { self.message }

    /// The request got no response (connection, TLS, timeout, size).
    public static func fetch(_ message: String) -> JWKSError { .init(.fetch, "JWKS fetch failed: \(message)") }
    /// The endpoint answered with a status other than 200.
    public static func status(_ status: Int) -> JWKSError { .init(.status, "JWKS endpoint answered HTTP \(status)") }
    /// The body is not a JWKS document.
    public static func document(_ message: String) -> JWKSError { .init(.document, "JWKS document is not valid: \(message)") }
    /// One key cannot be used; the others may be.
    public static func invalidKey(_ message: String) -> JWKSError { .init(.invalidKey, message) }
    /// The document has no usable signing key at all.
    public static func noKeys(_ ignored: [String]) -> JWKSError {
        .init(.noKeys, "JWKS holds no usable signing key" + (ignored.isEmpty ? "" : " (\(ignored.joined(separator: "; ")))"))
    }

}

/// The signing keys of a JSON Web Key Set (RFC 7517), by `kid`.
///
/// A key is kept when `kty` is `RSA`, `use` is `sig` (or absent), `key_ops` (if present)
/// allows `verify`, its `alg` (RS256 when absent) is allowed, it has a `kid`, and its
/// public key can be built from `n`/`e` or, failing those, the first `x5c` certificate.
/// When both are given they must hold the same key. Every other entry is skipped with
/// a reason in ``ignored``, so one odd key (an encryption key, a future algorithm)
/// never takes the others down.
///
/// ```swift
/// let set = try JWKSet.parse(Array(body), allowedAlgorithms: [.rs256])
/// let key = set.keys["mbp8M3J6..."]
/// ```
public struct JWKSet: Sendable {
    public let keys: [String: JWTPublicKey]
    /// Why each skipped entry was skipped (no key material in the text).
    public let ignored: [String]

    public init(keys: [String: JWTPublicKey], ignored: [String] = []) {
        self.keys = keys
        self.ignored = ignored
    }

    /// A set of already built keys, keyed by their `kid`.
    public init(_ keys: [JWTPublicKey]) {
        var byID: [String: JWTPublicKey] = [:]
        for key in keys { if let id = key.keyID { byID[id] = key } }
        self.init(keys: byID)
    }

    /// Largest JWKS document accepted.
    public static let maxBytes = 256 * 1024
    /// Most entries read from one document.
    public static let maxKeys = 64

    /// Reads a JWKS document; throws when it is not one or holds no usable key.
    public static func parse(_ bytes: [UInt8], allowedAlgorithms: Set<JWTAlgorithm> = [.rs256]) throws(JWKSError) -> JWKSet {
        let root: JSONValue
        do {
            root = try JSONDocument.parse(bytes, limits: .init(maxBytes: Self.maxBytes, maxDepth: 8)).root.value
        } catch {
            throw .document(error.message)
        }
        guard case .object = root, let entries = root["keys"] else { throw .document("expected an object with a `keys` array") }
        guard case .array(let list) = entries else { throw .document("`keys` must be an array") }
        var keys: [String: JWTPublicKey] = [:]
        var ignored: [String] = []
        for (index, entry) in list.prefix(Self.maxKeys).enumerated() {
            do {
                let key = try Self.key(entry, allowedAlgorithms: allowedAlgorithms)
                let id = key.keyID ?? ""
                if keys[id] != nil {
                    ignored.append("key \(index): a second key with kid \(id)")
                } else {
                    keys[id] = key
                }
            } catch {
                ignored.append("key \(index): \(error.message)")
            }
        }
        if list.count > Self.maxKeys { ignored.append("entries after the first \(Self.maxKeys) were not read") }
        guard !keys.isEmpty else { throw .noKeys(ignored) }
        return JWKSet(keys: keys, ignored: ignored)
    }

    /// One JWK as a verification key, or the reason it is skipped.
    static func key(_ jwk: JSONValue, allowedAlgorithms: Set<JWTAlgorithm>) throws(JWKSError) -> JWTPublicKey {
        guard case .object = jwk else { throw .invalidKey("not an object") }
        func string(_ name: String) throws(JWKSError) -> String? {
            guard let value = jwk[name] else { return nil }
            if case .null = value { return nil }
            guard let text = value.stringValue else { throw .invalidKey("`\(name)` is not a string") }
            return text
        }
        guard let kty = try string("kty") else { throw .invalidKey("no kty") }
        guard kty == "RSA" else { throw .invalidKey("kty \(Self.printable(kty)) is not supported") }
        if let use = try string("use"), use != "sig" { throw .invalidKey("use is \(Self.printable(use)), not sig") }
        if let ops = jwk["key_ops"], case .array(let list) = ops, !list.contains(.string("verify")) {
            throw .invalidKey("key_ops does not allow verify")
        }
        guard let kid = try string("kid"), !kid.isEmpty else { throw .invalidKey("no kid") }
        let algorithm: JWTAlgorithm
        if let alg = try string("alg") {
            guard let named = JWTAlgorithm(rawValue: alg), allowedAlgorithms.contains(named) else {
                throw .invalidKey("alg \(Self.printable(alg)) is not allowed")
            }
            algorithm = named
        } else {
            guard allowedAlgorithms.contains(.rs256) else { throw .invalidKey("no alg, and RS256 is not allowed") }
            algorithm = .rs256
        }

        var certificateKey: JWTPublicKey?
        if let chain = jwk["x5c"], case .array(let certificates) = chain, let first = certificates.first {
            guard let text = first.stringValue, let der = Base64.standard.decode(text) else {
                throw .invalidKey("x5c[0] is not standard base64")
            }
            certificateKey = try JWTPublicKey(certificateDER: der, keyID: kid, algorithm: algorithm)
        }
        let n = try string("n")
        let e = try string("e")
        guard let n, let e else {
            guard let certificateKey else { throw .invalidKey("neither n/e nor x5c is given") }
            return certificateKey
        }
        guard let modulus = Base64.url.decode(n.utf8), let exponent = Base64.url.decode(e.utf8) else {
            throw .invalidKey("n or e is not strict base64url")
        }
        let key = try JWTPublicKey(modulus: modulus, exponent: exponent, keyID: kid, algorithm: algorithm)
        if let certificateKey, !key.sameKey(as: certificateKey) {
            throw .invalidKey("n/e and the x5c certificate hold different keys")
        }
        return key
    }

    /// A value from the document, shortened and stripped to printable ASCII for a log line.
    private static func printable(_ text: String) -> String {
        let kept = text.utf8.prefix(32).map { (0x20...0x7E).contains($0) && $0 != UInt8(ascii: "\"") ? $0 : UInt8(ascii: "?") }
        return "\"" + String(decoding: kept, as: UTF8.self) + "\""
    }
}
