internal import COpenSSL

/// The RSA key the JWT entry signs its tokens with (2048 bits, made once per process).
///
/// `@unchecked Sendable`: `pkey` is immutable after init, and OpenSSL allows concurrent
/// signing with one EVP_PKEY.
final class FuzzSigningKey: @unchecked Sendable {
    private let pkey: OpaquePointer

    init() {
        let context = EVP_PKEY_CTX_new_from_name(nil, "RSA", nil)!
        defer { EVP_PKEY_CTX_free(context) }
        precondition(EVP_PKEY_keygen_init(context) == 1)
        precondition(EVP_PKEY_CTX_set_rsa_keygen_bits(context, 2048) == 1)
        var key: OpaquePointer?
        precondition(EVP_PKEY_generate(context, &key) == 1)
        self.pkey = key!
    }

    deinit { EVP_PKEY_free(self.pkey) }

    var modulus: [UInt8] { self.component("n") }
    var exponent: [UInt8] { self.component("e") }

    private func component(_ name: String) -> [UInt8] {
        var number: OpaquePointer?
        precondition(EVP_PKEY_get_bn_param(self.pkey, name, &number) == 1)
        defer { BN_free(number) }
        var bytes = [UInt8](repeating: 0, count: Int((BN_num_bits(number) + 7) / 8))
        _ = BN_bn2bin(number, &bytes)
        return bytes
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 (RS256) over `input`.
    func sign(_ input: [UInt8]) -> [UInt8] {
        let context = EVP_MD_CTX_new()!
        defer { EVP_MD_CTX_free(context) }
        precondition(EVP_DigestSignInit_ex(context, nil, "SHA256", nil, nil, self.pkey, nil) == 1)
        var length = 0
        precondition(EVP_DigestSign(context, nil, &length, input, input.count) == 1)
        var signature = [UInt8](repeating: 0, count: length)
        precondition(EVP_DigestSign(context, &signature, &length, input, input.count) == 1)
        return Array(signature.prefix(length))
    }
}
