public import Hummingbird
internal import HTTPTypes
internal import InletCore
internal import NIOCore

/// Checks `Authorization: Bearer <token>` against one configured secret.
///
/// The comparison is constant-time. An unset secret refuses every call, so a route whose
/// token was never configured is closed rather than open.
struct BearerTokenAuthenticator: Sendable {
    let expected: Secret?
    /// The setting's name, for the message when it is unset.
    let settingName: String

    func authenticate(_ request: Request) throws(APIError) {
        guard let expected = self.expected else {
            throw .unauthorized("this route is disabled: \(self.settingName) is not configured")
        }
        guard let presented = try request.bearerToken() else {
            throw .unauthorized("missing Authorization: Bearer token")
        }
        guard Crypto.constantTimeEquals(presented, expected.value) else {
            throw APIError(
                status: .unauthorized, code: "unauthorized", message: "invalid bearer token",
                headers: [.wwwAuthenticate: "Bearer realm=\"inlet\", error=\"invalid_token\""]
            )
        }
    }
}

extension Request {
    /// The token of the request's `Authorization: Bearer <token>` header; nil when there is
    /// none, it uses another scheme, or it holds no token. Two Authorization headers are a
    /// 400: which one counts would be a guess.
    func bearerToken() throws(APIError) -> Substring? {
        let values = self.headers[values: .authorization]
        guard values.count <= 1 else { throw .badRequest("send one Authorization header") }
        guard let header = values.first, header.utf8.count > 7, header.prefix(7).lowercased() == "bearer " else { return nil }
        let token = header.dropFirst(7).drop { $0 == " " }
        return token.isEmpty ? nil : token
    }
}

/// Reads a request body as bounded JSON.
struct JSONBodyReader: Sendable {
    let limits: JSONDocument.Limits

    /// Reads the body (``readBytes(_:)``) and parses it. Returns the document and the raw
    /// bytes (for storing the payload as received).
    func read(_ request: Request) async throws -> (document: JSONDocument, raw: ByteBuffer) {
        let raw = try await self.readBytes(request)
        return (try self.parse(raw), raw)
    }

    /// Checks the content type, refuses a declared length above the limit before reading
    /// anything, and collects at most the limit, unparsed (a signature is checked on these
    /// bytes before any parser sees them).
    func readBytes(_ request: Request) async throws -> ByteBuffer {
        guard let contentType = request.headers[.contentType] else {
            throw APIError.unsupportedMediaType("a Content-Type of application/json is required")
        }
        let mediaType = InletCore.MediaType(contentType: contentType)
        guard mediaType.isJSON else {
            throw APIError.unsupportedMediaType("the body must be application/json, not \(mediaType)")
        }
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > self.limits.maxBytes {
            throw APIError.payloadTooLarge(limit: self.limits.maxBytes)
        }
        do {
            return try await request.body.collect(upTo: self.limits.maxBytes)
        } catch is NIOTooManyBytesError {
            // A chunked body (no Content-Length) that grew past the limit: reading stops there.
            throw APIError.payloadTooLarge(limit: self.limits.maxBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.payloadTooLarge(limit: self.limits.maxBytes)
        }
    }

    /// Parses bytes from ``readBytes(_:)`` within the limits.
    func parse(_ raw: ByteBuffer) throws -> JSONDocument {
        try raw.withUnsafeReadableBytes { bytes throws(JSONError) in
            try JSONDocument.parse(bytes, limits: self.limits)
        }
    }
}
