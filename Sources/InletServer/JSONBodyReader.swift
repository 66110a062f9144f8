internal import Hummingbird
internal import InletCore
internal import NIOCore

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
