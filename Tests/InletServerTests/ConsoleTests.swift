import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InletCore
@testable import InletServer
import InletSQLite
import InletTestSupport
import NIOCore
import Testing

extension TestClientProtocol {
    /// A console request as a browser on this machine sends it (the test client's Host is
    /// `localhost`); `forwardedProto` as a TLS-terminating proxy would add it.
    func console(
        _ method: HTTPRequest.Method, _ uri: String, cookie: String? = nil, form: String? = nil, forwardedProto: String? = nil
    ) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let forwardedProto { headers[HTTPField.Name("X-Forwarded-Proto")!] = forwardedProto }
        if let cookie { headers[.cookie] = cookie }
        if form != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        return try await self.execute(uri: uri, method: method, headers: headers, body: form.map { ByteBuffer(string: $0) })
    }

    /// Signs in with `token`; returns the `name=value` of the session cookie.
    func consoleSignIn(token: String = adminToken, forwardedProto: String? = nil) async throws -> (cookie: String, response: TestResponse) {
        let response = try await self.console(.post, "/console/sign-in", form: "token=\(token)", forwardedProto: forwardedProto)
        let setCookie = response.headers[values: .setCookie].first { $0.hasPrefix(ConsoleSessions.cookieName + "=") } ?? ""
        return (String(setCookie.prefix { $0 != ";" }), response)
    }
}

extension TestResponse {
    /// The `csrf` hidden field of the first form on the page.
    var csrfField: String? {
        let text = self.text
        guard let range = text.range(of: #"name="csrf" value=""#) else { return nil }
        return String(text[range.upperBound...].prefix { $0 != "\"" })
    }
}

/// The operator console over loopback HTTP: sessions, CSRF, the security headers, escaping.
@Suite(.timeLimit(.minutes(2))) struct ConsoleTests {
    static let pages = ["/console/", "/console/events", "/console/events/msg_1", "/console/dead-letters", "/console/handlers", "/console/employees"]
    static let actions = [
        "/console/events/msg_1/replay", "/console/dead-letters/replay", "/console/handlers/scripted/pause", "/console/handlers/scripted/resume",
        "/console/employees/EMP-1/provision", "/console/sign-out",
    ]

    static func expectSecurityHeaders(_ response: TestResponse, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let csp = response.headers[.contentSecurityPolicy] ?? ""
        #expect(csp.contains("script-src 'self'"), "\(what): \(csp)", sourceLocation: sourceLocation)
        #expect(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "\(what)", sourceLocation: sourceLocation)
        #expect(!csp.contains("unsafe-inline") && !csp.contains("http"), "\(what): \(csp)", sourceLocation: sourceLocation)
        #expect(response.headers[.xContentTypeOptions] == "nosniff", "\(what)", sourceLocation: sourceLocation)
        #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer", "\(what)", sourceLocation: sourceLocation)
        #expect(response.headers[.cacheControl] == "no-store", "\(what)", sourceLocation: sourceLocation)
    }

    @Test func withoutASessionPagesRedirectToSignInAndActionsAreRefused() async throws {
        let folder = try TemporaryFolder()
        let handler = ScriptedHandler(subscriptions: ["employee.*"])
        try await withInlet(folder: folder, handlers: [handler.factory()], configure: configurePipeline) { client in
            for page in Self.pages {
                let response = try await client.console(.get, page)
                #expect(response.status == .seeOther, "\(page)")
                #expect(response.headers[.location] == "/console/sign-in", "\(page)")
                Self.expectSecurityHeaders(response, page)
                // A forged or stale cookie is no session either.
                let forged = try await client.console(.get, page, cookie: "\(ConsoleSessions.cookieName)=\(String(repeating: "A", count: 43))")
                #expect(forged.status == .seeOther, "\(page)")
            }
            #expect(try await client.console(.post, "/console/sign-in", form: "token=\(adminToken)").status == .seeOther)
            for action in Self.actions {
                let response = try await client.console(.post, action, form: "csrf=anything&handler=scripted")
                #expect(response.status == .forbidden, "\(action)")
                Self.expectSecurityHeaders(response, action)
            }
            #expect(handler.recorded.isEmpty)
            for path in ["/console/sign-in", "/console/static/console.css", "/console/static/console.js", "/console/no-such-page"] {
                Self.expectSecurityHeaders(try await client.console(.get, path), path)
            }
            let missing = try await client.console(.get, "/console/no-such-page")
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType]?.hasPrefix("text/html") == true)
        }
    }

    @Test func signingInSetsAStrictHttpOnlyCookieAndStoresOnlyItsHash() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let logs = LogCapture()
        try await withInlet(folder: folder, logs: logs, configure: configurePipeline) { client in
            let wrong = try await client.console(.post, "/console/sign-in", form: "token=not-the-token")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.headers[.setCookie] == nil)
            #expect(wrong.text.contains("That is not the admin token."))
            Self.expectSecurityHeaders(wrong, "wrong token")

            let (cookie, response) = try await client.consoleSignIn()
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/console/")
            let setCookie = response.headers[.setCookie] ?? ""
            let attributes = setCookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(attributes.contains("HttpOnly"), "\(setCookie)")
            #expect(attributes.contains("SameSite=Strict"), "\(setCookie)")
            #expect(attributes.contains("Max-Age=43200"), "\(setCookie)")
            #expect(attributes.contains("Path=/console"), "\(setCookie)")
            // Plain HTTP on loopback: no Secure (the browser would drop the cookie).
            #expect(!attributes.contains("Secure"), "\(setCookie)")

            // Reached through a TLS-terminating proxy: Secure.
            let (_, proxied) = try await client.consoleSignIn(forwardedProto: "https")
            #expect(proxied.headers[.setCookie]?.contains("; Secure") == true)
            // Through a same-host proxy that names the client but not the scheme: Secure too.
            var forwarded: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            forwarded[HTTPField.Name("X-Forwarded-For")!] = "198.51.100.7"
            let viaProxy = try await client.execute(
                uri: "/console/sign-in", method: .post, headers: forwarded, body: ByteBuffer(string: "token=\(adminToken)")
            )
            #expect(viaProxy.headers[.setCookie]?.contains("; Secure") == true)

            let id = String(cookie.dropFirst(ConsoleSessions.cookieName.count + 1))
            #expect(id.count == 43)
            let stored = try query(db, "SELECT id_hash FROM console_sessions").map { try $0.string("id_hash") }
            #expect(stored.count == 3)
            #expect(!stored.contains(id))
            #expect(stored.contains(Crypto.hex(Crypto.sha256(id)!)))

            let overview = try await client.console(.get, "/console/", cookie: cookie)
            #expect(overview.status == .ok, "\(overview.text)")
            #expect(overview.text.contains("<h1>Overview</h1>"))
            Self.expectSecurityHeaders(overview, "overview")
            for page in Self.pages.dropFirst() {
                let answer = try await client.console(.get, page, cookie: cookie)
                #expect(answer.status == (page.hasSuffix("msg_1") ? .notFound : .ok), "\(page): \(answer.text)")
                #expect(!answer.text.contains(adminToken), "\(page)")
                Self.expectSecurityHeaders(answer, page)
            }
        }
        #expect(!logs.all.joined(separator: "\n").contains(adminToken))
    }

    @Test func anActionWithoutOrWithAWrongCSRFTokenIsRefused() async throws {
        let folder = try TemporaryFolder()
        let handler = ScriptedHandler(subscriptions: ["employee.*"])
        try await withInlet(folder: folder, handlers: [handler.factory()], configure: configurePipeline) { client in
            let (cookie, _) = try await client.consoleSignIn()
            let page = try await client.console(.get, "/console/handlers", cookie: cookie)
            let csrf = try #require(page.csrfField)
            #expect(!csrf.isEmpty)

            let missing = try await client.console(.post, "/console/handlers/scripted/pause", cookie: cookie, form: "")
            #expect(missing.status == .forbidden)
            let wrong = try await client.console(.post, "/console/handlers/scripted/pause", cookie: cookie, form: "csrf=\(csrf.dropLast())x")
            #expect(wrong.status == .forbidden)
            // Another session's token is wrong for this one.
            let (otherCookie, _) = try await client.consoleSignIn()
            let otherPage = try await client.console(.get, "/console/handlers", cookie: otherCookie)
            let otherCSRF = try #require(otherPage.csrfField)
            #expect(otherCSRF != csrf)
            let crossed = try await client.console(.post, "/console/handlers/scripted/pause", cookie: cookie, form: "csrf=\(otherCSRF)")
            #expect(crossed.status == .forbidden)
            let handlers = try await client.console(.get, "/console/handlers", cookie: cookie)
            #expect(!handlers.text.contains("Resume scripted"), "a refused pause changed nothing")

            let paused = try await client.console(.post, "/console/handlers/scripted/pause", cookie: cookie, form: "csrf=\(csrf)")
            #expect(paused.status == .seeOther)
            #expect(paused.headers[.location] == "/console/handlers")
            let flashCookie = paused.headers[values: .setCookie].first { $0.hasPrefix(ConsoleRoutes.flashCookie) }.map { String($0.prefix { $0 != ";" }) }
            let after = try await client.console(.get, "/console/handlers", cookie: [cookie, flashCookie ?? ""].joined(separator: "; "))
            #expect(after.text.contains("Paused scripted."))
            #expect(after.text.contains("Resume scripted"))
        }
    }

    @Test func theHandlersPageShowsSecretsOnlyAsSetOrUnset() async throws {
        let folder = try TemporaryFolder()
        let handler = ScriptedHandler(subscriptions: ["employee.*"])
        let configure: (inout Configuration) -> Void = { configuration in
            configurePipeline(&configuration)
            configuration.handlerSettings["scripted"] = ["api_token": "tok-very-secret-value", "region": "eu-west", "password": ""]
        }
        try await withInlet(folder: folder, handlers: [handler.factory()], configure: configure) { client in
            let (cookie, _) = try await client.consoleSignIn()
            let page = try await client.console(.get, "/console/handlers", cookie: cookie)
            #expect(page.status == .ok)
            #expect(!page.text.contains("tok-very-secret-value"))
            #expect(page.text.contains("<code>api_token</code></th><td>set</td>"), "\(page.text)")
            #expect(page.text.contains("<code>password</code></th><td>unset</td>"))
            #expect(page.text.contains("<code>region</code></th><td>eu-west</td>"))
        }
    }

    @Test func provisionFromTheConsoleAppendsTheAdminEvent() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let handler = ScriptedHandler(subscriptions: ["employee.provision"])
        try await withInlet(folder: folder, handlers: [handler.factory()], configure: configurePipeline) { client in
            try SQLiteConnection(path: db).execute(
                """
                INSERT INTO employees (employee_id, name, email, department, auth0_sync_status, last_error, created_at, updated_at)
                VALUES ('E:7', 'Grace Hopper', 'grace@example.com', 'Engineering', 'failed', 'Auth0 said <no>', '2026-01-01T00:00:00.000Z',
                    '2026-01-01T00:00:00.000Z')
                """
            )
            let (cookie, _) = try await client.consoleSignIn()
            let page = try await client.console(.get, "/console/employees", cookie: cookie)
            #expect(page.text.contains("Auth0 said &lt;no&gt;"))
            #expect(page.text.contains(#"action="/console/employees/E:7/provision""#), "\(page.text)")
            let csrf = try #require(page.csrfField)
            let missing = try await client.console(.post, "/console/employees/E404/provision", cookie: cookie, form: "csrf=\(csrf)")
            #expect(missing.status == .notFound)
            let forced = try await client.console(.post, "/console/employees/E%3A7/provision", cookie: cookie, form: "csrf=\(csrf)&force=true")
            #expect(forced.status == .seeOther, "\(forced.text)")
            #expect(forced.headers[.location] == "/console/employees")
            let rows = try query(db, "SELECT payload FROM events WHERE source = 'admin' AND type = 'employee.provision'")
            #expect(rows.count == 1)
            let payload = try JSONDocument.parse(try #require(rows.first).string("payload")).root.value
            #expect(payload["force"] == true)
            #expect(payload["data"]?["employee_id"] == "E:7")
            try await eventually("the provision event is delivered") { handler.recorded.count == 1 }
        }
    }

    @Test func theEventsListIsPagedByACursor() async throws {
        let folder = try TemporaryFolder()
        try await withInlet(folder: folder, configure: configurePipeline) { client in
            for n in 0..<55 {
                #expect(try await client.postSigned(employeeEvent(employeeID: "EMP-\(n)", email: "e\(n)@example.com"), id: "msg_page_\(n)").status == .accepted)
            }
            let (cookie, _) = try await client.consoleSignIn()
            let first = try await client.console(.get, "/console/events?type=employee.created", cookie: cookie)
            #expect(first.text.components(separatedBy: "<tr data-event-id=").count - 1 == 50)
            #expect(first.text.contains(#"data-event-id="msg_page_54""#))
            let range = try #require(first.text.range(of: #"<a href="/console/events?"#))
            let next = String(first.text[first.text.index(range.lowerBound, offsetBy: 9)...].prefix { $0 != "\"" })
                .replacingOccurrences(of: "&amp;", with: "&")
            #expect(next.contains("type=employee.created") && next.contains("cursor="), "\(next)")
            // A new arrival does not shift the next page.
            #expect(try await client.postSigned(employeeEvent(employeeID: "EMP-new"), id: "msg_page_new").status == .accepted)
            let second = try await client.console(.get, next, cookie: cookie)
            #expect(second.text.components(separatedBy: "<tr data-event-id=").count - 1 == 5)
            #expect(second.text.contains(#"data-event-id="msg_page_0""#))
            #expect(!second.text.contains("msg_page_new"))
            #expect(!second.text.contains("rel=\"next\""))
        }
    }

    @Test func signingOutEndsTheSession() async throws {
        let folder = try TemporaryFolder()
        try await withInlet(folder: folder, configure: configurePipeline) { client in
            let (cookie, _) = try await client.consoleSignIn()
            let overview = try await client.console(.get, "/console/", cookie: cookie)
            let csrf = try #require(overview.csrfField)
            let out = try await client.console(.post, "/console/sign-out", cookie: cookie, form: "csrf=\(csrf)")
            #expect(out.status == .seeOther)
            #expect(out.headers[.location] == "/console/sign-in")
            #expect(out.headers[.setCookie]?.contains("Max-Age=0") == true)
            // The old cookie, replayed, opens nothing.
            let again = try await client.console(.get, "/console/", cookie: cookie)
            #expect(again.status == .seeOther)
            #expect(try count(folder.databasePath, "console_sessions") == 0)
        }
    }

    @Test func aChangedAdminTokenEndsEverySession() async throws {
        let folder = try TemporaryFolder()
        let cookie = try await withInlet(folder: folder, configure: configurePipeline) { client in
            let (cookie, _) = try await client.consoleSignIn()
            #expect(try await client.console(.get, "/console/", cookie: cookie).status == .ok)
            return cookie
        }
        // Restarted with the same token: the session holds.
        try await withInlet(folder: folder, configure: configurePipeline) { client in
            let status = try await client.console(.get, "/console/", cookie: cookie).status
            #expect(status == .ok)
        }
        let newToken = "admin_" + String(repeating: "9", count: 32)
        try await withInlet(folder: folder, configure: { configurePipeline(&$0); $0.adminAPIToken = Secret(newToken) }) { client in
            #expect(try await client.console(.get, "/console/", cookie: cookie).status == .seeOther)
            #expect(try await client.console(.post, "/console/sign-in", form: "token=\(adminToken)").status == .unauthorized)
            let (fresh, _) = try await client.consoleSignIn(token: newToken)
            #expect(try await client.console(.get, "/console/", cookie: fresh).status == .ok)
        }
    }

    @Test func onPostgreSQLASessionHoldsOnEveryInstanceAndSignOutEndsItOnAll() async throws {
        let schema = try TestPostgresSchema()
        let folderA = try TemporaryFolder()
        let onPostgres: @Sendable (inout Configuration) -> Void = { configuration in
            configurePipeline(&configuration)
            configuration.database = .postgres(schema.location)
        }
        try await withInlet(folder: folderA, configure: onPostgres) { a in
            let folderB = try TemporaryFolder()
            try await withInlet(folder: folderB, configure: onPostgres) { b in
                let (cookie, _) = try await a.consoleSignIn()
                let onB = try await b.console(.get, "/console/", cookie: cookie)
                #expect(onB.status == .ok, "\(onB.text)")
                let csrf = try #require(onB.csrfField)
                #expect(try await b.console(.post, "/console/sign-out", cookie: cookie, form: "csrf=\(csrf)").status == .seeOther)
                let afterOnA = try await a.console(.get, "/console/", cookie: cookie)
                #expect(afterOnA.status == .seeOther)
            }
        }
    }

    @Test func theFailureGuardCoversTheSignInForm() async throws {
        let folder = try TemporaryFolder()
        try await withInlet(folder: folder, configure: configurePipeline) { client in
            var statuses: [HTTPResponse.Status] = []
            for attempt in 0..<22 {
                statuses.append(try await client.console(.post, "/console/sign-in", form: "token=guess\(attempt)").status)
            }
            #expect(statuses.prefix(20).allSatisfy { $0 == .unauthorized }, "\(statuses)")
            #expect(statuses.suffix(2).allSatisfy { $0 == .tooManyRequests }, "\(statuses)")
            let limited = try await client.console(.post, "/console/sign-in", form: "token=guess")
            Self.expectSecurityHeaders(limited, "429")
            #expect(limited.headers[.retryAfter] != nil)
            // The bearer routes share the guard: this client is refused there too.
            let admin = try await client.execute(uri: "/admin/events", method: .get, headers: [.authorization: "Bearer wrong"])
            #expect(admin.status == .tooManyRequests)
            // The right token still signs in (a flood of bad guesses locks nobody out).
            #expect(try await client.consoleSignIn().response.status == .seeOther)
        }
    }

    @Test func aPayloadWithMarkupIsShownAsText() async throws {
        let folder = try TemporaryFolder()
        let handler = ScriptedHandler(subscriptions: ["employee.*"])
        try await withInlet(folder: folder, handlers: [handler.factory()], configure: configurePipeline) { client in
            let body = #"{"type":"employee.created","occurred_at":"2026-11-22T10:00:00Z","data":{"employee_id":"EMP-X","name":"<script>alert('x')</script>","email":"x@example.com","department":"\"><img src=x onerror=alert(1)>"}}"#
            #expect(try await client.postSigned(body, id: "msg_markup").status == .accepted)
            let (cookie, _) = try await client.consoleSignIn()
            let list = try await client.console(.get, "/console/events?q=EMP-X", cookie: cookie)
            #expect(list.status == .ok)
            #expect(list.text.contains("msg_markup"))
            let detail = try await client.console(.get, "/console/events/msg_markup", cookie: cookie)
            #expect(detail.status == .ok, "\(detail.text)")
            #expect(detail.text.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), "\(detail.text)")
            #expect(detail.text.contains("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;") || detail.text.contains("\\&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"))
            #expect(!detail.text.contains("<script>alert"))
            #expect(!detail.text.contains("<img src=x"))
            // The only script the page loads is the console's own file.
            #expect(detail.text.components(separatedBy: "<script").count == 2)
            #expect(detail.text.contains(#"<script src="/console/static/console.js" defer></script>"#))
        }
    }
}
