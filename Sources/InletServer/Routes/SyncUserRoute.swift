internal import Hummingbird
internal import InletCore
internal import NIOCore

/// `POST /internal/auth/sync-user`: the Auth0 Post-Login Action reports a login.
///
/// Answers `{"success": true, "user_id": N, "created": bool}` once the user row and the
/// `auth0.user.login` event are committed. Never calls Auth0: the Action is waiting.
struct SyncUserRoute: Sendable {
    let intake: EventIntake
    let authenticator: BearerTokenAuthenticator
    let body: JSONBodyReader

    func register(on routes: RouteTable) {
        routes.post("/internal/auth/sync-user") { request, _ in
            try await self.handle(request)
        }
    }

    func handle(_ request: Request) async throws -> Response {
        try self.authenticator.authenticate(request)
        let (document, raw) = try await self.body.read(request)
        let login = try UserLogin(json: document.root.requireObject())
        let result = try await self.intake.login(login, payload: String(buffer: raw))
        return .json(text: #"{"success":true,"user_id":\#(result.userID),"created":\#(result.created)}"#)
    }
}
