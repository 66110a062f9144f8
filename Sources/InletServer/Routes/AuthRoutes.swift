internal import AccessTokens
internal import HTTPTypes
internal import Hummingbird
internal import InletCore
internal import Logging

/// `POST /auth/sync` and `GET /auth/verify`: the frontend, with an Auth0 access token.
///
/// The token's `sub` names the user; the body cannot: a body whose `auth0_id` differs
/// is refused with 403. An `email` that differs from the stored one is recorded as
/// unverified unless the token carries it as a verified claim (``JWTClaims/verifiedEmail``). A sync upserts through ``EventIntake/login(_:payload:)``,
/// the same write the Post-Login Action makes, so a user reached by both paths is one row.
///
/// Refusals follow RFC 6750 as Auth0's middleware words them: no token is 401 with
/// `WWW-Authenticate: Bearer realm="api"`; a bad token is 401 with
/// `Bearer error="invalid_token", error_description="..."`; signing keys that cannot be
/// fetched are 503 (the token was not judged).
struct AuthRoutes: Sendable {
    let verifier: JWTVerifier?
    let disabledReason: String?
    let intake: EventIntake
    let users: any UserStore
    let body: JSONBodyReader

    func register(on routes: RouteTable) {
        routes.post("/auth/sync") { request, context in
            try await self.sync(request, logger: context.logger)
        }
        routes.get("/auth/verify") { request, context in
            try await self.verify(request, logger: context.logger)
        }
    }

    func sync(_ request: Request, logger: Logger) async throws -> Response {
        let claims = try await self.authenticate(request, logger: logger)
        let (document, _) = try await self.body.read(request)
        let root = try document.root.requireObject()
        let claimedID = try root.string("auth0_id")
        let email = try root.string("email")
        let name = try root.string("name")
        if let claimedID, !claimedID.utf8.elementsEqual(claims.subject.utf8) {
            throw APIError.forbidden("auth0_id does not match the subject of the access token")
        }
        // The body's email is the user's word; it counts as verified only when the token vouches for it.
        let verified: Bool? = email != nil && claims.verifiedEmail == email ? true : nil
        let login = UserLogin(auth0ID: claims.subject, email: email, name: name, emailVerified: verified)
        // Stored in the Action's shape, so handlers of auth0.user.login read both alike.
        let payload: JSONValue = [
            "auth0Id": .string(claims.subject), "email": .string(email), "name": .string(name), "via": "auth/sync",
        ]
        let result = try await self.intake.login(login, payload: payload.serializedString)
        let user = try await self.users.user(auth0ID: claims.subject)
        return .json([
            "id": .int(Int(user?.id ?? result.userID)),
            "email": .string(user?.email ?? email),
            "name": .string(user?.name ?? name),
        ])
    }

    func verify(_ request: Request, logger: Logger) async throws -> Response {
        let claims = try await self.authenticate(request, logger: logger)
        guard let user = try await self.users.user(auth0ID: claims.subject) else {
            throw APIError.notFound("no user with this Auth0 id; call POST /auth/sync first")
        }
        // Deleted in Auth0 (a du log entry): kept, flagged, never reported as active.
        guard user.isActive else {
            throw APIError.forbidden("this user was deleted in Auth0")
        }
        return .json([
            "valid": true,
            "user": ["id": .int(Int(user.id)), "email": .string(user.email), "name": .string(user.name)],
        ])
    }

    /// The verified claims of the request's bearer token, or the contract's refusal.
    func authenticate(_ request: Request, logger: Logger) async throws(APIError) -> JWTClaims {
        guard let verifier = self.verifier else {
            throw .unavailable("/auth/* is disabled: \(self.disabledReason ?? "access tokens cannot be verified")")
        }
        guard let token = try request.bearerToken() else {
            throw .unauthorized("missing Authorization: Bearer token", realm: "api")
        }
        do {
            return try await verifier.verify(String(token))
        } catch where error.isUnavailable {
            logger.warning("access token not checked: no signing keys", metadata: ["reason": "\(error.message)"])
            throw .unavailable(error.message, retryAfterSeconds: 5)
        } catch {
            logger.info("access token refused", metadata: ["reason": "\(error.message)"])
            throw APIError(
                status: .unauthorized, code: "unauthorized", message: error.message,
                headers: [.wwwAuthenticate: "Bearer error=\"invalid_token\", error_description=\"\(error.message)\""]
            )
        }
    }
}

extension JWTClaims {
    /// The email the token vouches for: `email` with `email_verified: true`, either plain
    /// or as namespaced custom claims (`https://example.com/email`), as an Auth0 Action
    /// adds them to access tokens. Nil when the token does not say the address is verified.
    var verifiedEmail: String? {
        guard case .object(let members) = self.all else { return nil }
        func claim(_ name: String) -> JSONValue? {
            members.first { $0.0 == name }?.1 ?? members.first { $0.0.hasSuffix("/" + name) }?.1
        }
        guard claim("email_verified")?.boolValue == true else { return nil }
        return claim("email")?.stringValue
    }
}
