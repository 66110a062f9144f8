internal import Hummingbird
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

