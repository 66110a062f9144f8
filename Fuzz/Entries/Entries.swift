internal import AccessTokens
internal import InletCore

/// A request body: parsed within the server's limits; a parsed document is no deeper than
/// the limit (the pre-scan agrees with the parser), survives a serialise-and-parse round
/// trip unchanged, and goes through every request reader without a trap.
enum JSONEntry {
    static let limits = JSONDocument.Limits(maxBytes: 65_536, maxDepth: 32)

    static func run(_ input: UnsafeRawBufferPointer) throws(FuzzFailure) {
        guard let document = try? JSONDocument.parse(input, limits: Self.limits) else { return }
        let value = document.root.value
        let depth = Self.depth(value)
        guard depth <= Self.limits.maxDepth else {
            throw FuzzFailure("parsed a document \(depth) deep past the depth limit \(Self.limits.maxDepth)")
        }
        let serialized = value.serialized()
        guard let again = try? JSONDocument.parse(serialized, limits: .init(maxBytes: Int.max, maxDepth: Self.limits.maxDepth)) else {
            throw FuzzFailure("the serialisation of a parsed document does not parse: \(String(decoding: serialized, as: UTF8.self))")
        }
        guard again.root.value == value else { throw FuzzFailure("a serialise-and-parse round trip changed the document") }

        // The readers of request bodies on the same tree: each reads or refuses.
        if let object = try? document.root.requireObject() {
            _ = try? UserLogin(json: object)
            _ = try? ProductivityEnvelope(json: object, acceptUnknownTypes: false)
            _ = try? ProductivityEnvelope(json: object, acceptUnknownTypes: true)
            _ = try? object.bool("force")
            if let data = try? object.object("data") { _ = try? Employee(json: data) }
        }
        for element in document.root.elements.prefix(64) {
            if let employee = try? Employee(json: element) {
                guard (try? Employee(json: JSONDocument.parse(employee.json.serialized()).root)) == employee else {
                    throw FuzzFailure("an employee read back from its own JSON differs")
                }
            }
        }
    }

    /// Containers nested, as the pre-scan counts them: a scalar is 0, `[]` is 1.
    static func depth(_ value: JSONValue) -> Int {
        switch value {
        case .array(let elements): 1 + (elements.map(depth).max() ?? 0)
        case .object(let members): 1 + (members.map { depth($0.1) }.max() ?? 0)
        default: 0
        }
    }
}

/// An access token. The first byte picks the shape, so that the checks behind the
/// signature are reached as well as the parsing in front of it:
/// - 0: the rest is the token, as a client sent it;
/// - 1: the rest is the payload (claims JSON), signed under a valid header;
/// - 2: the rest is the protected header JSON, signed over valid claims.
/// A token that verifies must hold the claims the options require.
enum JWTEntry {
    static let now = Timestamp(millisecondsSinceEpoch: 1_772_000_000_000)
    static let issuer = "https://tenant.example.auth0.com/"
    static let audience = "https://inlet.example/api"
    static let signer = FuzzSigningKey()
    static let key = try! JWTPublicKey(modulus: signer.modulus, exponent: signer.exponent, keyID: "fuzz", algorithm: .rs256)
    static let verifier = JWTVerifier(
        options: .init(issuer: issuer, audience: audience), keys: StaticJWTKeys([key]), clock: WallClock { now }, memoLimit: 0
    )
    static let header = Array(#"{"alg":"RS256","typ":"JWT","kid":"fuzz"}"#.utf8)
    static let claims = Array(#"{"iss":"https://tenant.example.auth0.com/","sub":"auth0|1","aud":["https://inlet.example/api"],"exp":1772003600}"#.utf8)

    static func run(_ input: UnsafeRawBufferPointer) throws(FuzzFailure) {
        guard let mode = input.first else { return }
        let rest = Array(input.dropFirst())
        let token: String
        switch mode % 3 {
        case 0: token = String(decoding: rest, as: UTF8.self)
        case 1: token = Self.signed(header: Self.header, payload: rest)
        default: token = Self.signed(header: rest, payload: Self.claims)
        }
        guard let claims = try? Self.verifier.verify(token, keys: { $0 == "fuzz" ? Self.key : nil }) else { return }
        guard claims.issuer == Self.issuer, claims.audiences.contains(Self.audience), !claims.subject.isEmpty,
            Self.now.secondsSinceEpoch < claims.expiresAt + Self.verifier.options.leeway, claims.algorithm == .rs256
        else {
            throw FuzzFailure("a token verified without the required claims")
        }
    }

    static func signed(header: [UInt8], payload: [UInt8]) -> String {
        let input = Base64.url.encode(header) + "." + Base64.url.encode(payload)
        return input + "." + Base64.url.encode(Self.signer.sign(Array(input.utf8)))
    }
}

/// A signed webhook: newline-separated fields `secret`, `webhook-id`, `webhook-timestamp`,
/// `webhook-signature`, clock skew in seconds, then the body. Whatever the secret text,
/// parsing it refuses or gives a key; a signature made with that key verifies; a request
/// verifies only with a `v1,` entry.
enum WebhooksEntry {
    static func run(_ input: UnsafeRawBufferPointer) throws(FuzzFailure) {
        let parts = fields(input, count: 6)
        let id = text(parts[1])
        let timestamp = text(parts[2])
        let header = text(parts[3])
        let body = Array(parts[5])
        let seconds = Int64(timestamp.prefix(15)).map { max(0, min($0, 999_999_999_999_999)) } ?? 1_772_000_000
        let skew = Int64(text(parts[4]).prefix(12)) ?? 0
        let now = Timestamp(millisecondsSinceEpoch: (seconds &+ skew).clamped(0, 9_000_000_000_000_000 / 1000) * 1000)

        guard let secret = try? WebhookSecret(text(parts[0])) else { return }
        let verifier = StandardWebhooksVerifier(secret: secret)
        let verified = (try? verifier.verify(id: id, timestamp: timestamp, signatureHeader: header, body: body, now: now)) != nil
        if verified, !header.utf8.split(separator: UInt8(ascii: " ")).contains(where: { $0.starts(with: "v1,".utf8) }) {
            throw FuzzFailure("a request verified without a v1 signature")
        }
        // Our own signature, fresh, verifies (alone and after an entry of another scheme).
        let signature = secret.sign(id: id, timestamp: timestamp, body: body)
        let fresh = Timestamp(millisecondsSinceEpoch: (Int64(timestamp) ?? -1) &* 1000)
        let wellFormed = !id.isEmpty && (1...15).contains(timestamp.utf8.count) && timestamp.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
        for presented in [signature, "v1a,AAAA " + signature] {
            let ok = (try? verifier.verify(id: id, timestamp: timestamp, signatureHeader: presented, body: body, now: fresh)) != nil
            guard ok == wellFormed else {
                throw FuzzFailure("a signature made with the secret \(ok ? "verified for a malformed request" : "did not verify")")
            }
        }
    }
}

/// Base64 text in both alphabets: decoding is strict (one spelling per value, so
/// re-encoding gives the input back), `isValid` agrees with `decode`, and any bytes
/// survive an encode-and-decode round trip.
enum Base64Entry {
    static func run(_ input: UnsafeRawBufferPointer) throws(FuzzFailure) {
        let bytes = Array(input)
        let asText = String(decoding: bytes, as: UTF8.self)
        for (name, codec) in [("standard", Base64.standard), ("url", Base64.url)] {
            let decoded = codec.decode(input)
            guard codec.isValid(input) == (decoded != nil) else { throw FuzzFailure("\(name): isValid disagrees with decode") }
            if let decoded {
                let canonical = codec.encode(decoded)
                let unpadded = Array(canonical.utf8.prefix { $0 != UInt8(ascii: "=") })
                guard unpadded == bytes else { throw FuzzFailure("\(name): a decoded value has a second spelling") }
            }
            if Array(asText.utf8) == bytes {
                for requirePadding in [true, false] {
                    if let value = codec.decode(asText, requirePadding: requirePadding), codec.encode(value) != asText,
                        requirePadding || Array(codec.encode(value).utf8.prefix { $0 != UInt8(ascii: "=") }) != bytes
                    {
                        throw FuzzFailure("\(name): text decoded (requirePadding: \(requirePadding)) to a value spelt otherwise")
                    }
                }
            }
            let encoded = codec.encode(bytes)
            guard codec.decode(encoded) == bytes else { throw FuzzFailure("\(name): an encoding does not decode to its bytes") }
        }
    }
}

/// A `Content-Type` value: the media type has no parameter, blank or upper-case letter,
/// reads the same when parsed again, and is JSON only as `application/...json`.
enum ContentTypeEntry {
    static func run(_ input: UnsafeRawBufferPointer) throws(FuzzFailure) {
        let mediaType = MediaType(contentType: String(decoding: input, as: UTF8.self))
        guard !mediaType.value.utf8.contains(where: { $0 == UInt8(ascii: ";") || $0 == 0x20 || $0 == 0x09 || (0x41...0x5A).contains($0) }) else {
            throw FuzzFailure("the media type \(mediaType) kept a parameter, a blank or an upper-case letter")
        }
        guard MediaType(contentType: mediaType.value) == mediaType else { throw FuzzFailure("parsing \(mediaType) again changed it") }
        if mediaType.isJSON, !(mediaType.value.hasPrefix("application/") && mediaType.value.hasSuffix("json")) {
            throw FuzzFailure("\(mediaType) counts as JSON")
        }
    }
}

extension Int64 {
    func clamped(_ low: Int64, _ high: Int64) -> Int64 { Swift.min(Swift.max(self, low), high) }
}
