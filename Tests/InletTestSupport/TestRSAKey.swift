internal import COpenSSL
public import InletCore

/// An RSA key pair generated in the test with libcrypto (`EVP_PKEY_generate`), which
/// signs tokens and publishes its public half as a JWK (n/e and, on request, an x5c
/// certificate).
///
/// ```swift
/// let key = TestRSAKey.primary
/// let jwks = TestRSAKey.jwks([key.jwk()])  // serve this as the tenant's JWKS
/// let token = key.token(["sub": "auth0|1", "aud": "https://api.example"])
/// ```
public final class TestRSAKey: @unchecked Sendable {
    // @unchecked Sendable: `pkey` is immutable after init; OpenSSL allows concurrent
    // signing with one EVP_PKEY.
    private let pkey: OpaquePointer
    public let kid: String

    /// Generation takes a while (tens of milliseconds for 2048 bits); reuse ``primary``
    /// and ``rotated`` where a test does not need a key of its own.
    public init(bits: Int32 = 2048, kid: String) {
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
    public static let primary = TestRSAKey(kid: "test-key-1")
    public static let rotated = TestRSAKey(kid: "test-key-2")

    private func component(_ name: String) -> [UInt8] {
        var number: OpaquePointer?
        precondition(EVP_PKEY_get_bn_param(self.pkey, name, &number) == 1)
        defer { BN_free(number) }
        var bytes = [UInt8](repeating: 0, count: Int((BN_num_bits(number) + 7) / 8))
        _ = BN_bn2bin(number, &bytes)
        return bytes
    }

    /// The modulus `n`, big-endian.
    public var modulus: [UInt8] { self.component("n") }
    /// The public exponent `e`, big-endian.
    public var exponent: [UInt8] { self.component("e") }

    /// The public key as DER SubjectPublicKeyInfo.
    public var publicKeyDER: [UInt8] {
        let length = i2d_PUBKEY(self.pkey, nil)
        var bytes = [UInt8](repeating: 0, count: Int(length))
        bytes.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            _ = i2d_PUBKEY(self.pkey, &cursor)
        }
        return bytes
    }

    /// The public key as PEM text, the "secret" of the classic HS256 key-confusion attack.
    public var publicKeyPEM: String {
        let body = Base64.standard.encode(self.publicKeyDER)
        var lines: [String] = []
        var rest = Substring(body)
        while !rest.isEmpty {
            lines.append(String(rest.prefix(64)))
            rest = rest.dropFirst(64)
        }
        return "-----BEGIN PUBLIC KEY-----\n" + lines.joined(separator: "\n") + "\n-----END PUBLIC KEY-----\n"
    }

    /// A self-signed certificate of the key, DER.
    public var certificateDER: [UInt8] { self.certificate(commonName: "inlet-test", extensions: []) }

    /// A self-signed certificate that TLS clients accept for https://127.0.0.1 when they
    /// trust it (it is its own CA): subjectAltName IP:127.0.0.1, basicConstraints CA:TRUE.
    public var loopbackServerCertificateDER: [UInt8] {
        self.certificate(
            commonName: "127.0.0.1",
            extensions: [
                // SEQUENCE { [7] 127.0.0.1 }
                (NID_subject_alt_name, false, [0x30, 0x06, 0x87, 0x04, 0x7F, 0x00, 0x00, 0x01]),
                // SEQUENCE { BOOLEAN TRUE }
                (NID_basic_constraints, true, [0x30, 0x03, 0x01, 0x01, 0xFF]),
            ]
        )
    }

    /// The private key as DER (PKCS#1 for RSA), for a TLS server.
    public var privateKeyDER: [UInt8] {
        let length = i2d_PrivateKey(self.pkey, nil)
        var bytes = [UInt8](repeating: 0, count: Int(length))
        bytes.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            _ = i2d_PrivateKey(self.pkey, &cursor)
        }
        return bytes
    }

    /// A self-signed X.509 v3 certificate of the key valid from a minute ago for an hour,
    /// with `extensions` given as (NID, critical, DER value).
    private func certificate(commonName: String, extensions: [(Int32, Bool, [UInt8])]) -> [UInt8] {
        let certificate = X509_new()!
        defer { X509_free(certificate) }
        X509_set_version(certificate, 2)
        ASN1_INTEGER_set(X509_get_serialNumber(certificate), 1)
        X509_gmtime_adj(X509_getm_notBefore(certificate), -60)
        X509_gmtime_adj(X509_getm_notAfter(certificate), 3600)
        X509_set_pubkey(certificate, self.pkey)
        let name = X509_get_subject_name(certificate)
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, commonName, -1, -1, 0)
        X509_set_issuer_name(certificate, name)
        for (nid, critical, value) in extensions {
            let octets = ASN1_OCTET_STRING_new()!
            defer { ASN1_OCTET_STRING_free(octets) }
            precondition(ASN1_OCTET_STRING_set(octets, value, Int32(value.count)) == 1)
            let extensionValue = X509_EXTENSION_create_by_NID(nil, nid, critical ? 1 : 0, octets)!
            defer { X509_EXTENSION_free(extensionValue) }
            precondition(X509_add_ext(certificate, extensionValue, -1) == 1)
        }
        precondition(X509_sign(certificate, self.pkey, EVP_sha256()) > 0)
        let length = i2d_X509(certificate, nil)
        var bytes = [UInt8](repeating: 0, count: Int(length))
        bytes.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            _ = i2d_X509(certificate, &cursor)
        }
        return bytes
    }

    /// The JWK of the public key, shaped as Auth0 publishes it; a `nil` `alg` or `use`
    /// leaves the member out, `kid` replaces the key's own.
    public func jwk(alg: String? = "RS256", use: String? = "sig", kid: String? = nil, withNE: Bool = true, x5c: Bool = false) -> JSONValue {
        var members: [(String, JSONValue)] = [("kty", "RSA")]
        if let use { members.append(("use", .string(use))) }
        members.append(("kid", .string(kid ?? self.kid)))
        if let alg { members.append(("alg", .string(alg))) }
        if withNE {
            members.append(("n", .string(Base64.url.encode(self.modulus))))
            members.append(("e", .string(Base64.url.encode(self.exponent))))
        }
        if x5c { members.append(("x5c", [.string(Base64.standard.encode(self.certificateDER))])) }
        return .object(members)
    }

    /// An RSASSA-PKCS1-v1_5 signature with the digest named (SHA256, SHA384, SHA512).
    public func sign(_ input: [UInt8], digest: String = "SHA256") -> [UInt8] {
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
    public func token(_ claims: JSONValue, header: JSONValue? = nil, digest: String = "SHA256") -> String {
        let header = header ?? ["alg": "RS256", "typ": "JWT", "kid": .string(self.kid)]
        let input = Base64.url.encode(header.serialized()) + "." + Base64.url.encode(claims.serialized())
        return input + "." + Base64.url.encode(self.sign(Array(input.utf8), digest: digest))
    }

    /// A JWKS document holding `keys`.
    public static func jwks(_ keys: [JSONValue]) -> [UInt8] {
        JSONValue.object([("keys", .array(keys))]).serialized()
    }
}
