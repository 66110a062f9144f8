internal import COpenSSL

/// The few cryptographic primitives Inlet needs, all from libcrypto.
///
/// Secrets are compared through their SHA-256 digests with `CRYPTO_memcmp`, so the time
/// taken depends on neither the position of the first differing byte nor the length of
/// the secret.
///
/// ```swift
/// guard Crypto.constantTimeEquals(presentedToken, configuredToken) else { throw unauthorized }
/// let id = Crypto.randomHex(byteCount: 12)
/// ```
public enum Crypto {
    /// SHA-256 of `bytes`.
    public static func sha256(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        digest.withUnsafeMutableBufferPointer { output in
            _ = EVP_Digest(bytes.baseAddress, bytes.count, output.baseAddress, nil, EVP_sha256(), nil)
        }
        return digest
    }

    /// SHA-256 of the UTF-8 of `text`.
    public static func sha256(_ text: some StringProtocol) -> [UInt8] {
        var text = String(text)
        return text.withUTF8 { sha256(UnsafeRawBufferPointer($0)) }
    }

    /// Whether two secrets are equal, in time independent of their contents.
    public static func constantTimeEquals(_ lhs: some StringProtocol, _ rhs: some StringProtocol) -> Bool {
        let left = sha256(lhs)
        let right = sha256(rhs)
        return left.withUnsafeBytes { l in
            right.withUnsafeBytes { r in CRYPTO_memcmp(l.baseAddress, r.baseAddress, l.count) == 0 }
        }
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
