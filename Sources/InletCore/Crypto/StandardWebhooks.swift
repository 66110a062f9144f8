internal import COpenSSL

// MARK: - HMAC

extension Crypto {
    /// HMAC-SHA256 of `message` under `key`, from libcrypto's one-shot `HMAC`.
    ///
    /// Standard Webhooks signs `{id}.{timestamp}.{body}` with it; the key is the decoded
    /// bytes of the `whsec_` secret, never its text.
    ///
    /// ```swift
    /// let mac = body.withUnsafeBytes { Crypto.hmacSHA256(key: secretBytes, message: $0) }
    /// ```
    public static func hmacSHA256(key: [UInt8], message: UnsafeRawBufferPointer) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        // libcrypto wants real pointers even for empty inputs; an empty Swift array or
        // buffer may have a nil base address.
        var empty: UInt8 = 0
        let result = key.withUnsafeBytes { keyBytes in
            withUnsafeMutablePointer(to: &empty) { placeholder in
                digest.withUnsafeMutableBufferPointer { output in
                    HMAC(
                        EVP_sha256(),
                        keyBytes.baseAddress ?? UnsafeRawPointer(placeholder), Int32(keyBytes.count),
                        (message.baseAddress ?? UnsafeRawPointer(placeholder)).assumingMemoryBound(to: UInt8.self), message.count,
                        output.baseAddress, &length
                    )
                }
            }
        }
        precondition(result != nil && length == UInt32(SHA256_DIGEST_LENGTH), "HMAC-SHA256 failed in libcrypto")
        return Array(digest.prefix(Int(length)))
    }
}

// MARK: - Secret

/// The shared key of a Standard Webhooks source: `whsec_` followed by base64 of the key.
///
/// The HMAC key is the decoded bytes, not the text, which is the mistake this type exists
/// to prevent. It never prints its key (`description` is `<redacted>`), and a secret that
/// does not parse is refused with a message that does not echo it.
///
/// ```swift
/// let secret = try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
/// let header = secret.sign(id: "msg_1", timestamp: "1700000000", body: body) // "v1,..."
/// ```
public struct WebhookSecret: Sendable, CustomStringConvertible, CustomReflectable {
    /// The HMAC key.
    let key: [UInt8]

    /// Parses `whsec_<base64>`, or bare base64 without the prefix (padding optional).
    public init(_ text: String) throws(WebhookSecretError) {
        var encoded = Substring(text)
        if encoded.hasPrefix("whsec_") { encoded = encoded.dropFirst("whsec_".count) }
        guard !encoded.isEmpty else { throw .empty }
        guard let key = Base64.standard.decode(encoded, requirePadding: false) else { throw .notBase64 }
        guard !key.isEmpty else { throw .empty }
        self.key = key
    }

    /// Fewest key bytes a configured secret may have (the Standard Webhooks recommendation).
    public static let minimumKeyBytes = 24

    /// Parses a configured secret and requires ``minimumKeyBytes``; the error names
    /// `setting`, never the value.
    public static func checked(_ text: String, setting: String) throws(ConfigurationError) -> WebhookSecret {
        let secret: WebhookSecret
        do {
            secret = try WebhookSecret(text)
        } catch {
            throw ConfigurationError("\(setting): \(error.message)")
        }
        guard secret.key.count >= Self.minimumKeyBytes else {
            throw ConfigurationError("\(setting) decodes to fewer than \(Self.minimumKeyBytes) key bytes; use a longer random secret")
        }
        return secret
    }

    /// A secret with these key bytes (at least one).
    public init(keyBytes: [UInt8]) {
        precondition(!keyBytes.isEmpty, "a webhook secret needs at least one key byte")
        self.key = keyBytes
    }

    public var description: String { "<redacted>" }

    /// No children, so `dump` and debuggers do not print the key either.
    public var customMirror: Mirror { Mirror(self, children: [:]) }

    /// The `webhook-signature` entry, `v1,<base64>`, for one message.
    ///
    /// Used to sign outbound events (the forward handler) and in tests.
    public func sign(id: String, timestamp: String, body: UnsafeRawBufferPointer) -> String {
        "v1," + Base64.standard.encode(self.mac(id: id, timestamp: timestamp, body: body))
    }

    /// `sign(id:timestamp:body:)` for a body held in an array.
    public func sign(id: String, timestamp: String, body: [UInt8]) -> String {
        body.withUnsafeBytes { self.sign(id: id, timestamp: timestamp, body: $0) }
    }

    /// HMAC-SHA256 of the exact bytes `{id}.{timestamp}.{body}`.
    func mac(id: String, timestamp: String, body: UnsafeRawBufferPointer) -> [UInt8] {
        signedContent(id: id, timestamp: timestamp, body: body).withUnsafeBytes { self.mac(content: $0) }
    }

    /// HMAC-SHA256 of content already assembled by `signedContent`.
    func mac(content: UnsafeRawBufferPointer) -> [UInt8] {
        Crypto.hmacSHA256(key: self.key, message: content)
    }
}

/// The bytes Standard Webhooks signs: `{id}.{timestamp}.{raw body}`, the body untouched.
private func signedContent(id: String, timestamp: String, body: UnsafeRawBufferPointer) -> [UInt8] {
    var content = [UInt8]()
    content.reserveCapacity(id.utf8.count + timestamp.utf8.count + 2 + body.count)
    content.append(contentsOf: id.utf8)
    content.append(UInt8(ascii: "."))
    content.append(contentsOf: timestamp.utf8)
    content.append(UInt8(ascii: "."))
    content.append(contentsOf: body)
    return content
}

/// A webhook secret that could not be read. The message never contains the secret.
///
/// ```swift
/// do { _ = try WebhookSecret(env) } catch { print(error.message) } // "webhook secret is not valid: expected whsec_ ..."
/// ```
public struct WebhookSecretError: Error, CustomStringConvertible, Sendable, Equatable {
    private enum Kind: Sendable, Equatable {
        case empty
        case notBase64
    }

    private let kind: Kind
    /// Human text; never includes the secret.
    public let message: String

    public var description: String { self.message }

    /// The secret has no key bytes.
    public static let empty = WebhookSecretError(kind: .empty, message: "webhook secret is empty (expected whsec_ followed by base64)")
    /// The secret is not `whsec_` followed by standard base64.
    public static let notBase64 = WebhookSecretError(
        kind: .notBase64,
        message: "webhook secret is not valid: expected whsec_ followed by standard base64"
    )
}

// MARK: - Verifier

/// Checks Standard Webhooks (v1, HMAC-SHA256) signatures on incoming requests.
///
/// The signature covers `{webhook-id}.{webhook-timestamp}.{raw body}`, so the body must be
/// the bytes received, never a re-serialised document. Several secrets may be configured
/// while ours rotates, and the sender may send several `v1` entries while theirs rotates:
/// any match accepts. Timestamps further than `tolerance` from `now` are refused, which
/// bounds replay of a captured request; `now` is injected so tests control the clock.
///
/// ```swift
/// let verifier = StandardWebhooksVerifier(secrets: [try WebhookSecret(env)])
/// try body.withUnsafeBytes {
///     try verifier.verify(id: id, timestamp: ts, signatureHeader: sig, body: $0, now: clock.now())
/// }
/// ```
public struct StandardWebhooksVerifier: Sendable {
    /// Secrets any of which may have signed a request (rotation on our side).
    public let secrets: [WebhookSecret]
    /// Largest accepted distance, in seconds, between the timestamp and `now`, either way.
    public let tolerance: Double

    /// A verifier accepting signatures from any of `secrets` (at least one).
    public init(secrets: [WebhookSecret], tolerance: Double = 300) {
        precondition(!secrets.isEmpty, "StandardWebhooksVerifier needs at least one secret")
        self.secrets = secrets
        self.tolerance = tolerance
    }

    /// A verifier with one secret.
    public init(secret: WebhookSecret, tolerance: Double = 300) {
        self.init(secrets: [secret], tolerance: tolerance)
    }

    /// Returns if the request is signed by one of the secrets and recent; throws otherwise.
    ///
    /// `id`, `timestamp` and `signatureHeader` are the `webhook-id`, `webhook-timestamp`
    /// and `webhook-signature` header values, taken verbatim.
    public func verify(
        id: String,
        timestamp: String,
        signatureHeader: String,
        body: UnsafeRawBufferPointer,
        now: Timestamp
    ) throws(WebhookVerificationError) {
        guard !id.isEmpty else { throw .missingHeader("webhook-id") }
        guard !timestamp.isEmpty else { throw .missingHeader("webhook-timestamp") }
        guard !signatureHeader.isEmpty else { throw .missingHeader("webhook-signature") }

        guard let seconds = Self.unixSeconds(timestamp) else { throw .malformedTimestamp }
        let age = now.secondsSinceEpoch - Double(seconds)
        if age > self.tolerance { throw .timestampTooOld(tolerance: self.tolerance) }
        if -age > self.tolerance { throw .timestampInFuture(tolerance: self.tolerance) }

        let presented: [[UInt8]] = signatureHeader.utf8.split(separator: UInt8(ascii: " ")).compactMap { entry in
            guard let comma = entry.firstIndex(of: UInt8(ascii: ",")) else { return nil }
            guard entry[..<comma].elementsEqual("v1".utf8) else { return nil }  // v1a (ed25519) and unknown versions
            let encoded = String(decoding: entry[entry.index(after: comma)...], as: UTF8.self)
            return Base64.standard.decode(encoded)
        }
        guard !presented.isEmpty else { throw .noMatchingSignature }

        let content = signedContent(id: id, timestamp: timestamp, body: body)
        for secret in self.secrets {
            let expected = content.withUnsafeBytes { secret.mac(content: $0) }
            for signature in presented where Crypto.constantTimeEquals(expected, signature) {
                return
            }
        }
        throw .noMatchingSignature
    }

    /// `verify(id:timestamp:signatureHeader:body:now:)` for a body held in an array.
    public func verify(
        id: String,
        timestamp: String,
        signatureHeader: String,
        body: [UInt8],
        now: Timestamp
    ) throws(WebhookVerificationError) {
        // `withUnsafeBytes` rethrows untyped errors; carry the typed one out in a Result.
        let outcome = body.withUnsafeBytes { bytes in
            Result { () throws(WebhookVerificationError) in
                try self.verify(id: id, timestamp: timestamp, signatureHeader: signatureHeader, body: bytes, now: now)
            }
        }
        try outcome.get()
    }

    /// An unsigned decimal integer of at most 15 digits (beyond year 30 000 000), or nil.
    private static func unixSeconds(_ text: String) -> Int64? {
        let digits = text.utf8
        guard (1...15).contains(digits.count) else { return nil }
        var value: Int64 = 0
        for digit in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { return nil }
            value = value * 10 + Int64(digit - UInt8(ascii: "0"))
        }
        return value
    }
}

/// Why a Standard Webhooks request was refused.
///
/// The message is for the caller ("no matching signature") and never includes a secret or
/// the expected signature. `isStale` tells a replayed or badly clocked request apart from a
/// forged one, for logs and metrics.
///
/// ```swift
/// do { try verifier.verify(...) } catch { logger.info("webhook refused", metadata: ["reason": "\(error.message)"]) }
/// ```
public struct WebhookVerificationError: Error, CustomStringConvertible, Sendable, Equatable {
    private enum Kind: Sendable, Equatable {
        case missingHeader
        case malformedTimestamp
        case timestampTooOld
        case timestampInFuture
        case noMatchingSignature
    }

    private let kind: Kind
    /// Human text suitable for an error response.
    public let message: String

    public var description: String { self.message }

    /// A required header is absent or empty.
    public static func missingHeader(_ name: String) -> WebhookVerificationError {
        .init(kind: .missingHeader, message: "missing or empty \(name) header")
    }
    /// The timestamp is not an integer number of UNIX seconds.
    public static let malformedTimestamp = WebhookVerificationError(
        kind: .malformedTimestamp,
        message: "webhook-timestamp must be an integer number of UNIX seconds"
    )
    /// The timestamp is further in the past than the tolerance.
    public static func timestampTooOld(tolerance: Double) -> WebhookVerificationError {
        .init(kind: .timestampTooOld, message: "webhook-timestamp is too old (more than \(Int(tolerance)) s in the past)")
    }
    /// The timestamp is further in the future than the tolerance.
    public static func timestampInFuture(tolerance: Double) -> WebhookVerificationError {
        .init(kind: .timestampInFuture, message: "webhook-timestamp is in the future (more than \(Int(tolerance)) s ahead)")
    }
    /// No `v1` entry of the signature header matches any secret.
    public static let noMatchingSignature = WebhookVerificationError(kind: .noMatchingSignature, message: "no matching signature")

    /// The timestamp is outside the tolerance (too old or in the future).
    public var isStale: Bool { self.kind == .timestampTooOld || self.kind == .timestampInFuture }
    /// A required header is absent or empty.
    public var isMissingHeader: Bool { self.kind == .missingHeader }
}
