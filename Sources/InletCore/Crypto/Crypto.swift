internal import COpenSSL

/// The few cryptographic primitives Inlet needs, all from libcrypto.
///
/// Secrets are compared through their SHA-256 digests with `CRYPTO_memcmp`, so the time
/// taken depends on neither the position of the first differing byte nor the length of
/// the secret. Every libcrypto result is checked: a failure never reads as a match.
///
/// ```swift
/// guard Crypto.constantTimeEquals(presentedToken, configuredToken) else { throw unauthorized }
/// let id = Crypto.randomHex(byteCount: 12)
/// ```
public enum Crypto {
    /// SHA-256 of `bytes`, or nil when libcrypto fails (a broken provider, no memory).
    public static func sha256(_ bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        self.digest(bytes, algorithm: EVP_sha256())
    }

    /// SHA-256 of the UTF-8 of `text`, or nil when libcrypto fails.
    public static func sha256(_ text: some StringProtocol) -> [UInt8]? {
        self.digest(text, algorithm: EVP_sha256())
    }

    /// Whether two secrets are equal, in time independent of their contents. False when
    /// either cannot be hashed: a failed digest must never make two secrets look equal.
    public static func constantTimeEquals(_ lhs: some StringProtocol, _ rhs: some StringProtocol) -> Bool {
        self.constantTimeEquals(lhs, rhs, algorithm: EVP_sha256())
    }

    /// `constantTimeEquals` with the digest named, so tests can make it fail.
    static func constantTimeEquals(_ lhs: some StringProtocol, _ rhs: some StringProtocol, algorithm: OpaquePointer?) -> Bool {
        guard let left = self.digest(lhs, algorithm: algorithm), let right = self.digest(rhs, algorithm: algorithm) else { return false }
        return self.constantTimeEquals(left, right)
    }

    /// The digest of the UTF-8 of `text` under `algorithm` (an `EVP_MD`), or nil when
    /// `EVP_Digest` fails; the error queue is cleared then.
    static func digest(_ text: some StringProtocol, algorithm: OpaquePointer?) -> [UInt8]? {
        var text = String(text)
        return text.withUTF8 { self.digest(UnsafeRawBufferPointer($0), algorithm: algorithm) }
    }

    static func digest(_ bytes: UnsafeRawBufferPointer, algorithm: OpaquePointer?) -> [UInt8]? {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        var empty: UInt8 = 0
        let status = withUnsafePointer(to: &empty) { placeholder in
            digest.withUnsafeMutableBufferPointer { output in
                EVP_Digest(bytes.baseAddress ?? UnsafeRawPointer(placeholder), bytes.count, output.baseAddress, &length, algorithm, nil)
            }
        }
        guard status == 1, length > 0 else {
            ERR_clear_error()
            return nil
        }
        return Array(digest.prefix(Int(length)))
    }

    /// Whether two byte strings of possibly different lengths are equal, in constant time
    /// for equal lengths (a MAC compared with a MAC of the same algorithm).
    public static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.withUnsafeBytes { l in
            rhs.withUnsafeBytes { r in CRYPTO_memcmp(l.baseAddress, r.baseAddress, l.count) == 0 }
        }
    }

    /// `count` bytes from the OpenSSL CSPRNG.
    public static func randomBytes(count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let status = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(status == 1, "RAND_bytes failed: the system random source is unavailable")
        return bytes
    }

    /// Lower-case hex of `byteCount` random bytes.
    public static func randomHex(byteCount: Int) -> String {
        hex(randomBytes(count: byteCount))
    }

    /// Lower-case hex.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
