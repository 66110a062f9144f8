import Foundation
import InletCore
import Testing

/// One entry of `fixtures/productivity/signature-vectors.json`, written by
/// `scripts/make-webhook-vectors.py` with the `standardwebhooks` Python package.
private struct SignatureVector: Decodable {
    let name: String
    let secret: String
    let id: String
    let timestamp: String
    let body: String
    let signature: String
    let valid: Bool

    var bodyBytes: [UInt8] { Array(self.body.utf8) }
    var now: Timestamp { Timestamp(secondsSinceEpoch: Double(self.timestamp)!) }
}

private func signatureVectors() throws -> [SignatureVector] {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let file = root.appendingPathComponent("fixtures/productivity/signature-vectors.json")
    return try JSONDecoder().decode([SignatureVector].self, from: Data(contentsOf: file))
}

@Suite struct StandardWebhooksTests {
    static let secret = try! WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    static let body = Array(#"{"id":"evt_1","type":"employee.created","data":{"employee_id":"E1"}}"#.utf8)
    static let signedAt = "1772439342"
    static let signedAtTime = Timestamp(secondsSinceEpoch: 1_772_439_342)

    @Test func everyIndependentVectorVerifies() throws {
        let vectors = try signatureVectors()
        #expect(vectors.count >= 8)
        for vector in vectors {
            #expect(vector.valid)
            let verifier = StandardWebhooksVerifier(secrets: [try WebhookSecret(vector.secret)])
            #expect(throws: Never.self, "vector \(vector.name)") {
                try verifier.verify(
                    id: vector.id, timestamp: vector.timestamp, signatureHeader: vector.signature,
                    body: vector.bodyBytes, now: vector.now
                )
            }
        }
    }

    @Test func signMatchesTheIndependentSigner() throws {
        for vector in try signatureVectors() where !vector.signature.contains(" ") {
            let ours = try WebhookSecret(vector.secret).sign(id: vector.id, timestamp: vector.timestamp, body: vector.bodyBytes)
            #expect(ours == vector.signature, "vector \(vector.name)")
        }
    }

    @Test func tamperedBodyIdOrTimestampFails() throws {
        for vector in try signatureVectors() {
            let verifier = StandardWebhooksVerifier(secrets: [try WebhookSecret(vector.secret)])
            var body = vector.bodyBytes
            if body.isEmpty { body = [0x20] } else { body[body.count / 2] ^= 0x01 }
            #expect(throws: WebhookVerificationError.noMatchingSignature, "body of \(vector.name)") {
                try verifier.verify(id: vector.id, timestamp: vector.timestamp, signatureHeader: vector.signature, body: body, now: vector.now)
            }
            // A trailing newline added by a re-serialising proxy is tampering too.
            #expect(throws: WebhookVerificationError.noMatchingSignature, "newline on \(vector.name)") {
                try verifier.verify(
                    id: vector.id, timestamp: vector.timestamp, signatureHeader: vector.signature,
                    body: vector.bodyBytes + [0x0A], now: vector.now
                )
            }
            #expect(throws: WebhookVerificationError.noMatchingSignature, "id of \(vector.name)") {
                try verifier.verify(
                    id: vector.id + "x", timestamp: vector.timestamp, signatureHeader: vector.signature,
                    body: vector.bodyBytes, now: vector.now
                )
            }
            let later = String(Int(vector.timestamp)! + 1)
            #expect(throws: WebhookVerificationError.noMatchingSignature, "timestamp of \(vector.name)") {
                try verifier.verify(
                    id: vector.id, timestamp: later, signatureHeader: vector.signature,
                    body: vector.bodyBytes, now: vector.now
                )
            }
        }
    }

    @Test func timestampsOutsideToleranceAreStale() throws {
        let verifier = StandardWebhooksVerifier(secret: Self.secret)
        let signature = Self.secret.sign(id: "msg_1", timestamp: Self.signedAt, body: Self.body)
        func verify(at now: Timestamp) throws(WebhookVerificationError) {
            try verifier.verify(id: "msg_1", timestamp: Self.signedAt, signatureHeader: signature, body: Self.body, now: now)
        }

        let tooOld = #expect(throws: WebhookVerificationError.self) { try verify(at: Self.signedAtTime.adding(seconds: 301)) }
        #expect(tooOld?.isStale == true)
        #expect(tooOld?.message.contains("too old") == true)

        let inFuture = #expect(throws: WebhookVerificationError.self) { try verify(at: Self.signedAtTime.adding(seconds: -301)) }
        #expect(inFuture?.isStale == true)
        #expect(inFuture?.message.contains("in the future") == true)

        for seconds in [-300.0, -299, 0, 299, 300] {
            #expect(throws: Never.self, "\(seconds) s") { try verify(at: Self.signedAtTime.adding(seconds: seconds)) }
        }

        // A stale request with a bad signature is still reported as stale, never as a match.
        let forged = #expect(throws: WebhookVerificationError.self) {
            try verifier.verify(
                id: "msg_1", timestamp: Self.signedAt, signatureHeader: "v1,AAAA", body: Self.body,
                now: Self.signedAtTime.adding(seconds: 3600)
            )
        }
        #expect(forged?.isStale == true)
        #expect(WebhookVerificationError.noMatchingSignature.isStale == false)
    }

    @Test func rotatedSecretsAcceptEitherSignature() throws {
        let old = try WebhookSecret("whsec_" + Base64.standard.encode(Array("the old productivity secret!".utf8)))
        let new = try WebhookSecret("whsec_" + Base64.standard.encode(Array("the new productivity secret!".utf8)))
        let stranger = try WebhookSecret("whsec_" + Base64.standard.encode(Array("somebody else's secret here!".utf8)))
        let verifier = StandardWebhooksVerifier(secrets: [old, new])
        for secret in [old, new] {
            let signature = secret.sign(id: "msg_rot", timestamp: Self.signedAt, body: Self.body)
            #expect(throws: Never.self) {
                try verifier.verify(id: "msg_rot", timestamp: Self.signedAt, signatureHeader: signature, body: Self.body, now: Self.signedAtTime)
            }
        }
        let foreign = stranger.sign(id: "msg_rot", timestamp: Self.signedAt, body: Self.body)
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try verifier.verify(id: "msg_rot", timestamp: Self.signedAt, signatureHeader: foreign, body: Self.body, now: Self.signedAtTime)
        }
        // The sender rotating: several entries, one of them ours.
        let both = "\(foreign) \(new.sign(id: "msg_rot", timestamp: Self.signedAt, body: Self.body))"
        #expect(throws: Never.self) {
            try verifier.verify(id: "msg_rot", timestamp: Self.signedAt, signatureHeader: both, body: Self.body, now: Self.signedAtTime)
        }
    }

    @Test(arguments: ["whsec_", "", "whsec_!!!!", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS$", "whsec_MfKQ 9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_A", "whsec_Mf-Q9r8GKYqrTwjUPD8ILPZIo2LaLa_w"])
    func invalidSecretsAreRefusedWithoutEchoingThem(_ text: String) {
        let error = #expect(throws: WebhookSecretError.self) { try WebhookSecret(text) }
        #expect(error?.message.contains("whsec_ followed by") == true)
        let payload = text.dropFirst("whsec_".count)
        if !payload.isEmpty { #expect(error?.message.contains(payload) == false) }
    }

    @Test func secretsParseWithOrWithoutPrefixAndNeverPrint() throws {
        let prefixed = try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let bare = try WebhookSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let unpadded = try WebhookSecret("whsec_" + Base64.standard.encode([1, 2, 3, 4]).replacingOccurrences(of: "=", with: ""))
        #expect(unpadded.sign(id: "a", timestamp: "1", body: []) == WebhookSecret(keyBytes: [1, 2, 3, 4]).sign(id: "a", timestamp: "1", body: []))
        #expect(prefixed.sign(id: "a", timestamp: "1", body: Self.body) == bare.sign(id: "a", timestamp: "1", body: Self.body))
        #expect(prefixed.description == "<redacted>")
        #expect("\(prefixed)" == "<redacted>")
        #expect(!String(reflecting: prefixed).contains("MfKQ"))
    }

    @Test func signRoundTripsThroughVerify() throws {
        let secret = WebhookSecret(keyBytes: Crypto.randomBytes(count: 32))
        let verifier = StandardWebhooksVerifier(secret: secret)
        for body in [Self.body, [], Array("héllo 😀".utf8), [UInt8](repeating: 0, count: 4096)] {
            let signature = secret.sign(id: "msg_rt", timestamp: Self.signedAt, body: body)
            #expect(signature.hasPrefix("v1,"))
            try verifier.verify(id: "msg_rt", timestamp: Self.signedAt, signatureHeader: signature, body: body, now: Self.signedAtTime)
            try body.withUnsafeBytes { bytes in
                try verifier.verify(id: "msg_rt", timestamp: Self.signedAt, signatureHeader: signature, body: bytes, now: Self.signedAtTime)
            }
        }
    }

    @Test func missingHeadersAreNamed() {
        let verifier = StandardWebhooksVerifier(secret: Self.secret)
        let signature = Self.secret.sign(id: "msg_1", timestamp: Self.signedAt, body: Self.body)
        let cases: [(id: String, timestamp: String, signature: String, header: String)] = [
            ("", Self.signedAt, signature, "webhook-id"),
            ("msg_1", "", signature, "webhook-timestamp"),
            ("msg_1", Self.signedAt, "", "webhook-signature"),
        ]
        for item in cases {
            let error = #expect(throws: WebhookVerificationError.self) {
                try verifier.verify(id: item.id, timestamp: item.timestamp, signatureHeader: item.signature, body: Self.body, now: Self.signedAtTime)
            }
            #expect(error == .missingHeader(item.header))
            #expect(error?.message.contains(item.header) == true)
            #expect(error?.isStale == false)
        }
    }

    @Test(arguments: ["1.7e9", "-1772439342", " 1772439342", "1772439342 ", "+1772439342", "1772439342.0", "abc", "0x69A5A6AE", "99999999999999999999"])
    func malformedTimestampsAreRefused(_ timestamp: String) {
        let verifier = StandardWebhooksVerifier(secret: Self.secret)
        let signature = Self.secret.sign(id: "msg_1", timestamp: timestamp, body: Self.body)
        #expect(throws: WebhookVerificationError.malformedTimestamp) {
            try verifier.verify(id: "msg_1", timestamp: timestamp, signatureHeader: signature, body: Self.body, now: Self.signedAtTime)
        }
    }

    @Test func headerValuesAreCaseSensitiveAndTakenVerbatim() {
        let verifier = StandardWebhooksVerifier(secret: Self.secret)
        let signature = Self.secret.sign(id: "msg_Case", timestamp: Self.signedAt, body: Self.body)
        let base64 = String(signature.dropFirst(3))
        func check(id: String = "msg_Case", timestamp: String = Self.signedAt, header: String) throws(WebhookVerificationError) {
            try verifier.verify(id: id, timestamp: timestamp, signatureHeader: header, body: Self.body, now: Self.signedAtTime)
        }
        #expect(throws: Never.self) { try check(header: signature) }
        // Extra spaces between entries are only separators.
        #expect(throws: Never.self) { try check(header: "v1,AAAA  \(signature) ") }
        // The id is not case-folded or trimmed.
        #expect(throws: WebhookVerificationError.noMatchingSignature) { try check(id: "msg_case", header: signature) }
        #expect(throws: WebhookVerificationError.noMatchingSignature) { try check(id: "msg_Case ", header: signature) }
        // The timestamp is signed as sent: leading zeros are different bytes.
        #expect(throws: WebhookVerificationError.noMatchingSignature) { try check(timestamp: "0" + Self.signedAt, header: signature) }
        // Versions are case-sensitive; unknown versions are ignored.
        #expect(throws: WebhookVerificationError.noMatchingSignature) { try check(header: "V1," + base64) }
        #expect(throws: WebhookVerificationError.noMatchingSignature) { try check(header: "v1a," + base64) }
        #expect(throws: WebhookVerificationError.noMatchingSignature) { try check(header: "v2," + base64) }
        #expect(throws: Never.self) { try check(header: "v1a,\(base64) v2,xyz \(signature)") }
        // Base64 is case-sensitive and must be strict.
        let swapped = String(base64.map { $0.isUppercase ? Character($0.lowercased()) : Character($0.uppercased()) })
        #expect(throws: WebhookVerificationError.noMatchingSignature) { try check(header: "v1," + swapped) }
        #expect(throws: WebhookVerificationError.noMatchingSignature) { try check(header: "v1," + base64.replacingOccurrences(of: "=", with: "")) }
        #expect(throws: WebhookVerificationError.noMatchingSignature) { try check(header: "v1, " + base64) }
        #expect(throws: WebhookVerificationError.noMatchingSignature) { try check(header: "v1" + base64) }
        #expect(throws: WebhookVerificationError.noMatchingSignature) { try check(header: "garbage") }
    }

    @Test func hmacAndBase64MatchTheirStandards() {
        // RFC 4231 test case 2.
        let mac = Array("what do ya want for nothing?".utf8).withUnsafeBytes { Crypto.hmacSHA256(key: Array("Jefe".utf8), message: $0) }
        #expect(Crypto.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // RFC 4648 §10.
        let pairs = [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")]
        for (plain, encoded) in pairs {
            #expect(Base64.standard.encode(Array(plain.utf8)) == encoded)
            #expect(Base64.standard.decode(encoded) == Array(plain.utf8))
        }
        let all = (0...255).map { UInt8($0) }
        #expect(Base64.standard.decode(Base64.standard.encode(all)) == all)
        for bad in ["Zg=", "Zg", "Z===", "Zm9v\n", "Zm-v", "Zm_v", "Zh==", "Zm9=", "=Zm9", "Zg==Zg==", "Zm9vY"] {
            #expect(Base64.standard.decode(bad) == nil, "\(bad)")
        }
        #expect(Base64.standard.decode("Zg", requirePadding: false) == Array("f".utf8))
    }
}
