internal import COpenSSL
internal import Synchronization

/// A JWS signature algorithm Inlet can verify. Only asymmetric RSA algorithms exist here:
/// `none` and the `HS*` family cannot even be named, so a JWKS key can never be used as an
/// HMAC secret (the key-confusion attack).
///
/// ```swift
/// JWTAlgorithm(rawValue: "RS256") // .rs256
/// JWTAlgorithm(rawValue: "HS256") // nil
/// ```
public enum JWTAlgorithm: String, Sendable, Hashable, CaseIterable {
    /// RSASSA-PKCS1-v1_5 with SHA-256: what Auth0 signs access tokens with.
    case rs256 = "RS256"
    case rs384 = "RS384"
    case rs512 = "RS512"
}

/// An RSA public key that verifies JWS signatures with one bound algorithm.
///
/// The algorithm belongs to the key (from the JWK's `alg`, RS256 when absent), never to the
/// token: a token whose header names another algorithm is refused before any signature
/// is checked. Keys come from a JWK's `n` and `e`, or from the certificate in its `x5c`,
/// through OpenSSL 3 (`OSSL_PARAM_BLD` + `EVP_PKEY_fromdata`, in the C shim); keys under
/// 2048 bits are refused.
///
/// Verification hashes with a pre-fetched digest and checks the signature with
/// `EVP_PKEY_verify` on contexts initialised once and pooled, so a check costs one
/// RSA public operation and one hash, not an algorithm fetch per call.
///
/// ```swift
/// let key = try JWTPublicKey(modulus: n, exponent: e, keyID: "k1", algorithm: .rs256)
/// let ok = key.verify(signature: signatureBytes, signingInput: headerDotPayloadBytes)
/// ```
public final class JWTPublicKey: @unchecked Sendable, CustomStringConvertible {
    // @unchecked Sendable: `pkey` is immutable after init and OpenSSL allows concurrent
    // read-only use of one EVP_PKEY. The per-call contexts are never shared: each is taken
    // out of `pool` under its lock, used by one thread, then put back.

    /// The JWK's `kid`.
    public let keyID: String?
    /// The one algorithm this key verifies.
    public let algorithm: JWTAlgorithm
    /// Modulus size in bits.
    public let bits: Int

    let pkey: OpaquePointer
    private let signatureLength: Int
    private let pool = Mutex<[VerifyContext]>([])

    /// Smallest RSA modulus accepted.
    public static let minimumBits = 2048
    /// Contexts kept for reuse; more concurrent verifications make temporary ones.
    private static let poolLimit = 16

    /// A key from the big-endian bytes of the modulus `n` and public exponent `e`.
    public convenience init(modulus: [UInt8], exponent: [UInt8], keyID: String?, algorithm: JWTAlgorithm = .rs256) throws(JWKSError) {
        // Leading zero bytes do not change the number but would inflate a length check.
        let n = modulus.drop { $0 == 0 }
        let e = exponent.drop { $0 == 0 }
        guard !n.isEmpty, !e.isEmpty else { throw .invalidKey("the RSA modulus or exponent is zero") }
        guard n.count <= 2048 else { throw .invalidKey("the RSA modulus is larger than 16384 bits") }
        guard e.count <= 8 else { throw .invalidKey("the RSA exponent is too large") }
        guard e.last.map({ $0 & 1 == 1 }) == true, e.count > 1 || e.first! > 1 else {
            throw .invalidKey("the RSA exponent must be odd and greater than 1")
        }
        let pkey = Array(n).withUnsafeBufferPointer { n in
            Array(e).withUnsafeBufferPointer { e in
                COpenSSL_RSA_public_key_from_n_e(n.baseAddress, n.count, e.baseAddress, e.count)
            }
        }
        guard let pkey else { throw .invalidKey("OpenSSL refused the RSA key: \(OpenSSLErrors.drain())") }
        try self.init(owning: pkey, keyID: keyID, algorithm: algorithm)
    }

    /// The public key of a DER X.509 certificate (a JWK `x5c` entry, base64-decoded).
    /// The certificate's validity dates are not checked: Auth0's signing certificates are
    /// self-signed carriers of the key, as in every JWKS.
    public convenience init(certificateDER: [UInt8], keyID: String?, algorithm: JWTAlgorithm = .rs256) throws(JWKSError) {
        let pkey = certificateDER.withUnsafeBufferPointer { der in
            COpenSSL_X509_public_key_from_der(der.baseAddress, der.count)
        }
        guard let pkey else { throw .invalidKey("the x5c certificate cannot be read: \(OpenSSLErrors.drain())") }
        try self.init(owning: pkey, keyID: keyID, algorithm: algorithm)
    }

    /// Takes ownership of `pkey` (freed here if the key is refused).
    private init(owning pkey: OpaquePointer, keyID: String?, algorithm: JWTAlgorithm) throws(JWKSError) {
        guard COpenSSL_EVP_PKEY_is_rsa(pkey) == 1 else {
            EVP_PKEY_free(pkey)
            throw .invalidKey("the key is not an RSA key")
        }
        let bits = Int(EVP_PKEY_get_bits(pkey))
        guard bits >= Self.minimumBits else {
            EVP_PKEY_free(pkey)
            throw .invalidKey("the RSA key has \(bits) bits; at least \(Self.minimumBits) are required")
        }
        self.pkey = pkey
        self.bits = bits
        self.signatureLength = Int(EVP_PKEY_get_size(pkey))
        self.keyID = keyID
        self.algorithm = algorithm
    }

    deinit {
        let contexts = self.pool.withLock { pool in
            let taken = pool
            pool = []
            return taken
        }
        for context in contexts { context.free() }
        EVP_PKEY_free(self.pkey)
    }

    public var description: String {
        "JWTPublicKey(kid: \(self.keyID ?? "-"), alg: \(self.algorithm.rawValue), bits: \(self.bits))"
    }

    /// Whether both hold the same public key (algorithm and kid aside).
    public func sameKey(as other: JWTPublicKey) -> Bool {
        EVP_PKEY_eq(self.pkey, other.pkey) == 1
    }

    /// True when `signature` is this key's signature, with its algorithm, over
    /// `signingInput` (the ASCII `header.payload` of a compact JWS).
    public func verify(signature: UnsafeRawBufferPointer, signingInput: UnsafeRawBufferPointer) -> Bool {
        // RSA signatures are exactly the modulus length (RFC 7518 §3.3 / RFC 8017 §8.2.2).
        guard signature.count == self.signatureLength, let signatureBase = signature.baseAddress else { return false }
        guard let context = self.takeContext() else {
            ERR_clear_error()
            return false
        }
        var verified = false
        var healthy = false
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Int(EVP_MAX_MD_SIZE)) { digest in
            let length = COpenSSL_digest(
                context.digest, self.algorithm.messageDigest, signingInput.baseAddress ?? UnsafeRawPointer(signatureBase),
                signingInput.count, digest.baseAddress
            )
            guard length > 0 else { return }
            let result = COpenSSL_RSA_verify_digest(
                context.verify, signatureBase.assumingMemoryBound(to: UInt8.self), signature.count,
                digest.baseAddress, Int(length)
            )
            verified = result == 1
            healthy = result >= 0
        }
        if verified {
            self.giveBack(context)
        } else {
            // A refused signature leaves its reason on this thread's error queue; an
            // erroring context is not reused.
            ERR_clear_error()
            if healthy { self.giveBack(context) } else { context.free() }
        }
        return verified
    }

    /// `verify(signature:signingInput:)` with byte arrays.
    public func verify(signature: [UInt8], signingInput: [UInt8]) -> Bool {
        signature.withUnsafeBytes { s in signingInput.withUnsafeBytes { self.verify(signature: s, signingInput: $0) } }
    }

    private func takeContext() -> VerifyContext? {
        if let context = self.pool.withLock({ $0.popLast() }) { return context }
        return VerifyContext(pkey: self.pkey, md: self.algorithm.messageDigest)
    }

    private func giveBack(_ context: VerifyContext) {
        let kept = self.pool.withLock { pool -> Bool in
            guard pool.count < Self.poolLimit else { return false }
            pool.append(context)
            return true
        }
        if !kept { context.free() }
    }
}

/// A digest context and an initialised verify context for one key.
private struct VerifyContext: @unchecked Sendable {
    // @unchecked Sendable: used by one thread at a time. It is either in the key's pool
    // (behind its lock) or held by the one caller that took it out.
    let digest: OpaquePointer
    let verify: OpaquePointer

    init?(pkey: OpaquePointer, md: OpaquePointer) {
        guard let digest = EVP_MD_CTX_new() else { return nil }
        guard let verify = COpenSSL_RSA_pkcs1_verify_context(pkey, md) else {
            EVP_MD_CTX_free(digest)
            return nil
        }
        self.digest = digest
        self.verify = verify
    }

    func free() {
        EVP_MD_CTX_free(self.digest)
        EVP_PKEY_CTX_free(self.verify)
    }
}

extension JWTAlgorithm {
    /// The digest, fetched once per process (an implicit fetch per call costs more than
    /// the hash of a token).
    var messageDigest: OpaquePointer {
        switch self {
        case .rs256: Digests.sha256
        case .rs384: Digests.sha384
        case .rs512: Digests.sha512
        }
    }
}

private enum Digests {
    // nonisolated(unsafe): set once, then only read; a fetched EVP_MD is immutable and
    // safe to share between threads.
    nonisolated(unsafe) static let sha256: OpaquePointer = fetch("SHA256")
    nonisolated(unsafe) static let sha384: OpaquePointer = fetch("SHA384")
    nonisolated(unsafe) static let sha512: OpaquePointer = fetch("SHA512")

    private static func fetch(_ name: String) -> OpaquePointer {
        guard let md = EVP_MD_fetch(nil, name, nil) else {
            preconditionFailure("libcrypto has no \(name): \(OpenSSLErrors.drain())")
        }
        return md
    }
}

/// OpenSSL's error queue, read and emptied.
enum OpenSSLErrors {
    /// The queued errors as `error:...` strings joined with `; `; the queue is left empty.
    static func drain() -> String {
        var parts: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            parts.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return parts.isEmpty ? "no OpenSSL error recorded" : parts.joined(separator: "; ")
    }
}
