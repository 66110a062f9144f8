internal import COpenSSL

extension Crypto {
    /// The `webhook-signature` value for an outbound Standard Webhooks message:
    /// `v1,<base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))>`.
    ///
    /// The forward handler signs what it sends with it, so a receiver can verify the
    /// message exactly as Inlet verifies its own incoming webhooks. `key` is the secret's
    /// raw key bytes (the base64-decoded part of a `whsec_` secret), never its text; `body`
    /// is signed as the exact bytes sent.
    ///
    /// ```swift
    /// let signature = Crypto.standardWebhookSignature(key: key, id: "msg_1", timestamp: 1_700_000_000, body: body)
    /// // "v1,akRgG+St3jyvupVXMopM3J+rv13CgmhRVxae1evENXw=" for the test vector in ForwardHandlerTests
    /// ```
    public static func standardWebhookSignature(key: [UInt8], id: String, timestamp: Int, body: [UInt8]) -> String {
        var content = [UInt8]()
        content.reserveCapacity(id.utf8.count + 22 + body.count)
        content.append(contentsOf: id.utf8)
        content.append(UInt8(ascii: "."))
        content.append(contentsOf: String(timestamp).utf8)
        content.append(UInt8(ascii: "."))
        content.append(contentsOf: body)
        return "v1," + outboundBase64(outboundHMACSHA256(key: key, message: content))
    }

    /// HMAC-SHA256 with libcrypto's one-shot `HMAC`.
    private static func outboundHMACSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        // libcrypto wants real pointers even for empty inputs; an empty array may have none.
        var placeholder: UInt8 = 0
        let result = withUnsafeMutablePointer(to: &placeholder) { placeholder in
            key.withUnsafeBytes { keyBytes in
                message.withUnsafeBufferPointer { messageBytes in
                    digest.withUnsafeMutableBufferPointer { output in
                        HMAC(
                            EVP_sha256(),
                            keyBytes.baseAddress ?? UnsafeRawPointer(placeholder), Int32(keyBytes.count),
                            messageBytes.baseAddress ?? UnsafePointer(placeholder), messageBytes.count,
                            output.baseAddress, &length
                        )
                    }
                }
            }
        }
        precondition(result != nil && length == UInt32(SHA256_DIGEST_LENGTH), "HMAC-SHA256 failed in libcrypto")
        return Array(digest.prefix(Int(length)))
    }

    /// Standard padded base64 with libcrypto's `EVP_EncodeBlock`.
    private static func outboundBase64(_ bytes: [UInt8]) -> String {
        guard !bytes.isEmpty else { return "" }
        var output = [UInt8](repeating: 0, count: (bytes.count + 2) / 3 * 4 + 1)  // + NUL
        let written = output.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { input in
                EVP_EncodeBlock(out.baseAddress, input.baseAddress, Int32(input.count))
            }
        }
        return String(decoding: output.prefix(Int(written)), as: UTF8.self)
    }
}
