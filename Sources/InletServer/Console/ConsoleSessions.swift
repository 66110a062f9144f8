internal import Hummingbird
internal import HTTPTypes
internal import InletCore
internal import NIOCore

/// Signs operators in to the console with the admin token and keeps their sessions.
///
/// A session id is 32 random bytes (base64url) in an `HttpOnly`, `SameSite=Strict` cookie;
/// the store keeps only its SHA-256 and a keyed fingerprint of the admin token it was
/// opened with, so a copy of the table signs no one in, sign-out deletes the row, and a
/// changed `ADMIN_API_TOKEN` ends every session (the fingerprint no longer matches). The
/// CSRF token of a session is an HMAC of its id: tied to it, never stored, never in a URL.
///
/// ```swift
/// guard let session = try await sessions.session(for: request) else { /* 303 to sign-in */ }
/// guard sessions.csrfMatches(form["csrf"], session: session) else { /* 403 */ }
/// ```
struct ConsoleSessions: Sendable {
    let store: any ConsoleSessionStore
    let adminToken: Secret?
    let clock: WallClock

    /// The session cookie's name.
    static let cookieName = "inlet_console"
    /// How long a session lasts: 12 hours.
    static let lifetimeSeconds = 12 * 3600

    /// A signed-in request: its session id (from the cookie) and the CSRF token its forms carry.
    struct SignedIn: Sendable {
        let id: String
        let csrfToken: String
    }

    /// The fingerprint of the configured admin token; nil when none is set.
    private var tokenFingerprint: String? {
        self.adminToken.map { token in
            Array("inlet console session fingerprint".utf8).withUnsafeBytes {
                Crypto.hex(Crypto.hmacSHA256(key: Array(token.value.utf8), message: $0))
            }
        }
    }

    /// Whether `presented` is the admin token (constant time). False when none is configured.
    func tokenMatches(_ presented: String) -> Bool {
        guard let expected = self.adminToken, !presented.isEmpty else { return false }
        return Crypto.constantTimeEquals(presented, expected.value)
    }

    /// Opens a session; returns its id (the cookie's value). The caller checked the token.
    func open() async throws -> SignedIn {
        guard let fingerprint = self.tokenFingerprint else { throw APIError.unauthorized("ADMIN_API_TOKEN is not configured") }
        let id = Base64.url.encode(Crypto.randomBytes(count: 32))
        let now = self.clock.now()
        try await self.store.createConsoleSession(
            ConsoleSession(
                idHash: Self.hash(id), tokenFingerprint: fingerprint, createdAt: now,
                expiresAt: now.adding(seconds: Double(Self.lifetimeSeconds))
            )
        )
        return SignedIn(id: id, csrfToken: Self.csrfToken(sessionID: id))
    }

    /// The request's session, or nil when it has none that is valid: no cookie, an unknown
    /// or expired one, or one opened with another admin token (deleted then).
    func session(for request: Request) async throws -> SignedIn? {
        guard let fingerprint = self.tokenFingerprint, let id = Self.cookieValue(request), id.utf8.count == 43 else { return nil }
        let hash = Self.hash(id)
        guard let stored = try await self.store.consoleSession(idHash: hash) else { return nil }
        guard stored.expiresAt > self.clock.now(), Crypto.constantTimeEquals(stored.tokenFingerprint, fingerprint) else {
            try await self.store.deleteConsoleSession(idHash: hash)
            return nil
        }
        return SignedIn(id: id, csrfToken: Self.csrfToken(sessionID: id))
    }

    /// Ends a session.
    func close(_ session: SignedIn) async throws {
        try await self.store.deleteConsoleSession(idHash: Self.hash(session.id))
    }

    /// Whether a form's CSRF field is the session's token (constant time).
    func csrfMatches(_ presented: String?, session: SignedIn) -> Bool {
        guard let presented, !presented.isEmpty else { return false }
        return Crypto.constantTimeEquals(presented, session.csrfToken)
    }

    /// The `Set-Cookie` value that stores `id`; `Secure` unless the console is reached
    /// over plain HTTP on loopback.
    static func cookie(_ id: String, secure: Bool) -> String {
        "\(cookieName)=\(id); Path=/console; Max-Age=\(lifetimeSeconds); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// The `Set-Cookie` value that removes the cookie.
    static func expiredCookie(secure: Bool) -> String {
        "\(cookieName)=; Path=/console; Max-Age=0; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// Whether the request came over plain HTTP to a loopback address from a loopback peer
    /// (a local operator, or a test): only then may the cookie go without `Secure`. A
    /// request that carries any forwarding header came through a proxy, which may have
    /// taken it over TLS (a same-host nginx often sends `Host: 127.0.0.1:8080`), so its
    /// cookie is `Secure`; a proxy that adds no such header must send `X-Forwarded-Proto`.
    static func isPlainLoopback(_ request: Request, peer: SocketAddress?) -> Bool {
        guard let peer = peer?.ipAddress, peer == "127.0.0.1" || peer == "::1" || peer.hasPrefix("127.") || peer == "::ffff:127.0.0.1" else {
            return false
        }
        if Self.forwardingHeaders.contains(where: { request.headers[$0] != nil }) { return false }
        guard let host = request.head.authority else { return false }
        let name: Substring
        if host.hasPrefix("[") {
            name = host.dropFirst().prefix { $0 != "]" }
        } else {
            name = host.prefix { $0 != ":" }
        }
        return name == "localhost" || name == "::1" || name.hasPrefix("127.")
    }

    /// Headers a proxy adds: their presence means the browser did not talk to Inlet directly.
    private static let forwardingHeaders = ["Forwarded", "X-Forwarded-Proto", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP"]
        .map { HTTPField.Name($0)! }

    static func hash(_ id: String) -> String {
        Crypto.hex(Crypto.sha256(id) ?? [])
    }

    static func csrfToken(sessionID id: String) -> String {
        Array("inlet console csrf".utf8).withUnsafeBytes { Base64.url.encode(Crypto.hmacSHA256(key: Array(id.utf8), message: $0)) }
    }

    /// The session cookie of the request; nil when absent.
    private static func cookieValue(_ request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let trimmed = pair.drop { $0 == " " }
                guard let equals = trimmed.firstIndex(of: "=") else { continue }
                if trimmed[..<equals] == cookieName { return String(trimmed[trimmed.index(after: equals)...]) }
            }
        }
        return nil
    }
}
