public import HTTPTypes
public import Hummingbird
internal import InletCore
internal import NIOCore

/// An error answered with the contract's body `{"error": code, "message": text}`.
///
/// Only this module maps errors to HTTP: core errors (``JSONError``, a store's ``StorageFailure``)
/// are translated in ``APIErrorMiddleware``.
///
/// ```swift
/// throw APIError.badRequest("`auth0Id` must be a string")
/// throw APIError.unauthorized("missing bearer token")
/// ```
public struct APIError: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    /// The contract's error code (`bad_request`, `unauthorized`, ...).
    public let code: String
    public let message: String
    public let headers: HTTPFields

    public init(status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public static func badRequest(_ message: String) -> APIError {
        .init(status: .badRequest, code: "bad_request", message: message)
    }

    /// 401 with a Bearer challenge, as RFC 6750 asks.
    public static func unauthorized(_ message: String, realm: String = "inlet") -> APIError {
        .init(
            status: .unauthorized, code: "unauthorized", message: message,
            headers: [.wwwAuthenticate: "Bearer realm=\"\(realm)\""]
        )
    }

    public static func forbidden(_ message: String) -> APIError {
        .init(status: .forbidden, code: "forbidden", message: message)
    }

    public static func notFound(_ message: String = "no such resource") -> APIError {
        .init(status: .notFound, code: "not_found", message: message)
    }

    public static func methodNotAllowed(allowed: [HTTPRequest.Method]) -> APIError {
        let list = allowed.map(\.rawValue).joined(separator: ", ")
        return .init(
            status: .methodNotAllowed, code: "method_not_allowed", message: "this path accepts \(list)",
            headers: [.allow: list]
        )
    }

    public static func payloadTooLarge(limit: Int) -> APIError {
        .init(status: .contentTooLarge, code: "payload_too_large", message: "the body is larger than \(limit) bytes")
    }

    public static func unsupportedMediaType(_ message: String = "the body must be application/json") -> APIError {
        .init(status: .unsupportedMediaType, code: "unsupported_media_type", message: message)
    }

    public static func unavailable(_ message: String, retryAfterSeconds: Int? = nil) -> APIError {
        .init(
            status: .serviceUnavailable, code: "unavailable", message: message,
            headers: retryAfterSeconds.map { [.retryAfter: String($0)] } ?? [:]
        )
    }

    public static func internalError() -> APIError {
        .init(status: .internalServerError, code: "internal", message: "an internal error occurred; it has been logged")
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json"
        let body: JSONValue = ["error": .string(self.code), "message": .string(self.message)]
        return Response(status: self.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body.serialized())))
    }
}

extension Response {
    /// A JSON response built with jansson.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: value.serialized()))
        )
    }

    /// A JSON body that is already text: the answers of the login and the webhook, whose
    /// values are integers, booleans and validated ids (nothing to escape), written without
    /// a `JSONValue` tree and a jansson object per request.
    static func json(text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
