internal import Hummingbird
internal import HTTPTypes
internal import InletCore
internal import NIOCore

/// Applies the per-client limits by route.
///
/// - `/auth/*`: at most `INLET_AUTH_RATE_LIMIT` requests a minute per client (0 turns
///   it off); the next ones get 429 `rate_limited` with `Retry-After` until the window ends.
/// - Bearer routes (`/internal/auth/sync-user`, `/admin/*`, `/hooks/productivity`, `/hooks/auth0-logs`) and the
///   console's sign-in form (`/console/sign-in`, which answers 401 to a wrong token): failed
///   authentications (401) are counted per client; once a client has `failureGuard.limit`
///   in a minute, its further failures are answered 429 for the rest of that minute. A
///   request that authenticates is never refused or counted, so a flood of bad tokens
///   from an address (or a proxy) shared with the real caller cannot lock it out; the
///   tokens' length (checked at start-up) is what makes guessing hopeless.
///
/// Routes are told apart by the endpoint the router matched, so `//auth/sync` or
/// `/auth/sync/` cannot slip past. Must be added after ``APIErrorMiddleware`` and before
/// the routes.
struct ClientLimitsMiddleware<Context: RemoteAddressRequestContext>: RouterMiddleware {
    /// Nil when the `/auth/*` limit is off.
    let authLimiter: ClientRateLimiter?
    let failureGuard: ClientRateLimiter
    let clients: ClientAddressResolver

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let endpoint = context.endpointPath ?? request.uri.path
        if endpoint == "/auth" || endpoint.hasPrefix("/auth/") {
            if let limiter = self.authLimiter, let wait = limiter.allow(self.clients.key(request, peer: context.remoteAddress)) {
                throw Self.rateLimited("too many requests from this address; retry in \(wait) s", retryAfter: wait)
            }
            return try await next(request, context)
        }
        guard endpoint == "/internal/auth/sync-user" || endpoint == "/hooks/productivity" || endpoint == "/hooks/auth0-logs"
            || endpoint.hasPrefix("/admin/") || endpoint == "/console/sign-in"
        else {
            return try await next(request, context)
        }
        do {
            let response = try await next(request, context)
            if response.status == .unauthorized { try self.countFailure(request, context: context) }
            return response
        } catch let error as APIError where error.status == .unauthorized {
            try self.countFailure(request, context: context)
            throw error
        }
    }

    /// Counts a failed authentication, or refuses it with 429 when the client is over the limit.
    private func countFailure(_ request: Request, context: Context) throws(APIError) {
        let client = self.clients.key(request, peer: context.remoteAddress)
        if let wait = self.failureGuard.blocked(client) {
            throw Self.rateLimited("too many failed authentications from this address; retry in \(wait) s", retryAfter: wait)
        }
        self.failureGuard.recordFailure(client)
    }

    static func rateLimited(_ message: String, retryAfter seconds: Int) -> APIError {
        APIError(status: .tooManyRequests, code: "rate_limited", message: message, headers: [.retryAfter: String(seconds)])
    }
}
