internal import Hummingbird
internal import HTTPTypes
internal import InletCore
internal import Logging
internal import NIOCore

/// The operator console at `/console/`: server-rendered pages over the same store and
/// intake operations as the admin API (no second implementation of replay, pause or
/// provision), behind a sign-in with the admin token.
///
/// Without a session every page answers 303 to the sign-in page and every action 403.
/// Every action is a POST form carrying the session's CSRF token (403 without it), and
/// answers 303 back to a page (Post/Redirect/Get) with a one-time flash message.
///
/// ```swift
/// ConsoleRoutes(store: store, intake: intake, overview: overview, catalogue: catalogue, sessions: sessions, pages: try ConsolePages(), clock: clock)
///     .register(on: routes)
/// ```
struct ConsoleRoutes: Sendable {
    let store: any StoreBackend
    let intake: EventIntake
    /// The overview and the handlers as configured: the pieces `GET /admin/overview` and
    /// `GET /admin/handlers` answer with.
    let overview: AdminOverview
    let catalogue: HandlerCatalogue
    let sessions: ConsoleSessions
    let pages: ConsolePages
    let clock: WallClock

    /// The flash cookie: a one-time message for the page an action redirects to.
    static let flashCookie = "inlet_console_flash"

    func register(on routes: RouteTable) {
        routes.get("/console/static/console.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8"], body: .init(byteBuffer: ConsolePages.stylesheet))
        }
        routes.get("/console/static/console.js") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/javascript; charset=utf-8"], body: .init(byteBuffer: ConsolePages.script)
            )
        }
        self.registerSignIn(on: routes)
        self.view("/console", on: routes) { request, _, session, flash in try await self.overview(request, session: session, flash: flash) }
        self.view("/console/events", on: routes) { request, _, session, flash in try await self.events(request, session: session, flash: flash) }
        self.view("/console/events/{id}", on: routes) { request, context, session, flash in
            try await self.event(try Self.pathParameter("id", context), session: session, flash: flash)
        }
        self.view("/console/dead-letters", on: routes) { _, _, session, flash in try await self.deadLetters(session: session, flash: flash) }
        self.view("/console/handlers", on: routes) { _, _, session, flash in try await self.handlers(session: session, flash: flash) }
        self.view("/console/employees", on: routes) { request, _, session, flash in
            try await self.employees(request, session: session, flash: flash)
        }
        self.registerActions(on: routes)
    }

    // MARK: - Sign-in

    private func registerSignIn(on routes: RouteTable) {
        routes.get("/console/sign-in") { request, context in
            if try await self.sessions.session(for: request) != nil { return Self.redirect("/console/") }
            return self.signInPage(error: nil, status: .ok)
        }
        routes.post("/console/sign-in") { request, context in
            let form = try await ConsoleForm.read(request)
            guard self.sessions.adminToken != nil else {
                return self.signInPage(error: "The console is closed: ADMIN_API_TOKEN is not configured.", status: .unauthorized)
            }
            // A 401 here is counted by the failure guard of the bearer routes (ClientLimitsMiddleware).
            guard self.sessions.tokenMatches(form["token"] ?? "") else {
                context.logger.notice("console sign-in refused: wrong admin token")
                return self.signInPage(error: "That is not the admin token.", status: .unauthorized)
            }
            let session = try await self.sessions.open()
            context.logger.info("console sign-in")
            var response = Self.redirect("/console/")
            response.headers.append(HTTPField(name: .setCookie, value: ConsoleSessions.cookie(session.id, secure: self.secure(request, context))))
            return response
        }
        routes.post("/console/sign-out") { request, context in
            try await self.act(request, context) { session, _ in
                try await self.sessions.close(session)
                context.logger.info("console sign-out")
                var response = Self.redirect("/console/sign-in")
                response.headers.append(HTTPField(name: .setCookie, value: ConsoleSessions.expiredCookie(secure: self.secure(request, context))))
                return response
            }
        }
    }

    private func signInPage(error: String?, status: HTTPResponse.Status) -> Response {
        self.pages.render("sign-in", title: "Sign in", section: nil, values: ["error": error as Any], session: nil, status: status)
    }

    // MARK: - Plumbing

    /// Registers a page: 303 to the sign-in page without a session; the flash message (if
    /// any) is shown once and its cookie cleared.
    private func view(
        _ path: String, on routes: RouteTable,
        _ render: @escaping @Sendable (Request, InletRequestContext, ConsoleSessions.SignedIn, String?) async throws -> Response
    ) {
        routes.get(path) { request, context in
            guard let session = try await self.sessions.session(for: request) else { return Self.redirect("/console/sign-in") }
            let flash = Self.flash(in: request)
            var response = try await render(request, context, session, flash)
            if flash != nil {
                response.headers.append(
                    HTTPField(name: .setCookie, value: "\(Self.flashCookie)=; Path=/console; Max-Age=0; HttpOnly; SameSite=Strict")
                )
            }
            return response
        }
    }

    /// Runs an action: 403 without a session or without the session's CSRF token.
    func act(
        _ request: Request, _ context: InletRequestContext,
        _ body: (ConsoleSessions.SignedIn, ConsoleForm) async throws -> Response
    ) async throws -> Response {
        guard let session = try await self.sessions.session(for: request) else {
            return self.pages.message(
                title: "Not signed in", text: "Sign in to the console first; nothing was changed.", status: .forbidden, session: nil
            )
        }
        let form = try await ConsoleForm.read(request)
        guard self.sessions.csrfMatches(form["csrf"], session: session) else {
            context.logger.notice("console action refused: missing or wrong CSRF token", metadata: ["path": "\(request.uri.path)"])
            return self.pages.message(
                title: "Refused", text: "This form is stale or did not come from the console; nothing was changed. Reload the page and try again.",
                status: .forbidden, session: session
            )
        }
        return try await body(session, form)
    }

    /// 303 to `location` with a flash message for the next page.
    func redirect(_ location: String, flash: String, _ request: Request, _ context: InletRequestContext) -> Response {
        var response = Self.redirect(location)
        let value = Base64.url.encode(Array(flash.utf8))
        var cookie = "\(Self.flashCookie)=\(value); Path=/console; Max-Age=60; HttpOnly; SameSite=Strict"
        if self.secure(request, context) { cookie += "; Secure" }
        response.headers.append(HTTPField(name: .setCookie, value: cookie))
        return response
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    private static func flash(in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let trimmed = pair.drop { $0 == " " }
                guard trimmed.hasPrefix("\(flashCookie)=") else { continue }
                let value = trimmed.dropFirst(flashCookie.count + 1)
                guard !value.isEmpty, value.utf8.count <= 1024, let bytes = Base64.url.decode(value) else { return nil }
                return String(decoding: bytes, as: UTF8.self)
            }
        }
        return nil
    }

    private func secure(_ request: Request, _ context: InletRequestContext) -> Bool {
        !ConsoleSessions.isPlainLoopback(request, peer: context.remoteAddress)
    }

    /// `time` for a table cell; empty for nil.
    static func time(_ time: Timestamp?) -> String {
        time?.description ?? ""
    }

    /// A duration for people: `850 ms`, `12 s`, `4 min 5 s`, `3 h 20 min`.
    static func duration(milliseconds: Int64) -> String {
        let ms = max(0, milliseconds)
        if ms < 1000 { return "\(ms) ms" }
        let seconds = ms / 1000
        if seconds < 60 { return "\(seconds) s" }
        if seconds < 3600 { return "\(seconds / 60) min \(seconds % 60) s" }
        if seconds < 86_400 { return "\(seconds / 3600) h \(seconds % 3600 / 60) min" }
        return "\(seconds / 86_400) d \(seconds % 86_400 / 3600) h"
    }

    /// The path parameter `name`, percent-decoded (the router hands it over as sent).
    static func pathParameter(_ name: String, _ context: InletRequestContext) throws -> String {
        ConsoleForm.decode(Substring(try context.parameters.require(name)), plusIsSpace: false)
    }

    /// `text` percent-encoded for a URL query value or path segment.
    static func urlEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: ":"), UInt8(ascii: "@"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let digits = Array("0123456789ABCDEF".unicodeScalars)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(digits[Int(byte >> 4)])
                out.unicodeScalars.append(digits[Int(byte & 0xF)])
            }
        }
        return out
    }
}
