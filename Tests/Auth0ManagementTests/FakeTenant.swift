import Foundation
import InletCore
import InletSQLite
import InletTestSupport
import NIOCore
import NIOHTTP1
import Synchronization

/// A request as the fake tenant received it, with the status it answered (0: none).
struct TenantRequest: Sendable {
    let method: String
    /// Path without the query, still percent-encoded.
    let path: String
    let query: String
    let headers: [(String, String)]
    let body: [UInt8]
    var status: Int = 0
    /// When the tenant received it.
    var receivedAt = ContinuousClock.now

    func header(_ name: String) -> String? {
        let name = name.lowercased()
        return self.headers.first { $0.0 == name }?.1
    }

    var json: JSONValue? { try? JSONDocument.parse(self.body).root.value }
    var bodyText: String { String(decoding: self.body, as: UTF8.self) }
}

/// A fake Auth0 tenant served over real HTTP/1.1 on 127.0.0.1, answering with the wire
/// shapes of `reference/auth0.md`: `/oauth/token`, users, users-by-email, roles, user
/// roles, patch, password-change tickets. Faults are switched on per test.
final class FakeTenant: Sendable {
    static let clientID = "fake-client-id"
    static let clientSecret = "fake-client-secret-" + String(repeating: "s", count: 24)

    struct User: Sendable {
        var id: String
        var fields: [(String, JSONValue)]
        var roles: [String] = []
    }

    struct State: Sendable {
        var requests: [TenantRequest] = []
        var users: [String: User] = [:]
        var userOrder: [String] = []
        var roles: [(id: String, name: String)] = []
        var tokens: Set<String> = []
        var tokenCounter = 0
        var userCounter = 0
        // Token endpoint.
        var expiresIn = 86_400
        var tokenDelayMilliseconds = 0
        // Rate limiting of /api/v2: a token bucket.
        var bucket: (burst: Double, rate: Double)?
        var bucketTokens = 0.0
        var bucketLast: ContinuousClock.Instant?
        var sendRetryAfter = true
        var rateLimited = 0
        // Faults for the next /api/v2 requests, in order.
        var scripted: [Fault] = []
        /// Paths (method + template) that hang once each.
        var hangOnce: [String] = []
        /// Before answering, the tenant creates users but does not answer the create.
        var hangCreateAfterStoring = 0
        /// users-by-email answers with these user ids instead of the matches, by queried
        /// email (an index that lags or matches loosely).
        var usersByEmailOverride: [String: [String]] = [:]
        /// Log streams (`/api/v2/log-streams`), in creation order.
        var logStreams: [[(String, JSONValue)]] = []
        var logStreamCounter = 0
    }

    enum Fault: Sendable {
        case status(Int, retryAfter: Int? = nil, resetIn: Int? = nil)
        case hang
        /// Answers normally (a fault later in the script then hits a later request).
        case pass
    }

    enum Answer: Sendable {
        case respond(status: Int, headers: [(String, String)], body: [UInt8])
        case delayed(milliseconds: Int, status: Int, headers: [(String, String)], body: [UInt8])
        case hang
    }

    let state = Mutex(State())
    private let listener: LoopbackHTTPListener

    var port: Int { self.listener.port }
    var domain: String { "127.0.0.1:\(self.port)" }
    var baseURL: String { "http://127.0.0.1:\(self.port)" }
    var audience: String { "https://\(self.domain)/api/v2/" }

    private init(listener: LoopbackHTTPListener) {
        self.listener = listener
    }

    /// Starts a tenant with `roles`; with `tls` it speaks HTTPS, as a real `inlet serve`
    /// (which reaches `https://$AUTH0_DOMAIN`) needs.
    static func start(roles: [String] = ["production_associate"], tls: LoopbackTLS? = nil) async throws -> FakeTenant {
        let box = TenantBox()
        let listener = try await LoopbackHTTPListener.start(backlog: 256, tls: tls) { TenantHTTPHandler(box: box) }
        let tenant = FakeTenant(listener: listener)
        box.tenant.withLock { $0 = tenant }
        tenant.state.withLock { state in
            for (index, name) in roles.enumerated() { state.roles.append((id: "rol_\(index)\(String(repeating: "A", count: 14))", name: name)) }
        }
        return tenant
    }

    func stop() async {
        await self.listener.stop()
    }

    // MARK: Test controls and views

    func configure(_ body: @Sendable (inout State) -> Void) { self.state.withLock { state in body(&state) } }

    /// Limits `/api/v2` with a token bucket of `burst` refilled at `perSecond`.
    func limit(burst: Double, perSecond: Double, retryAfter: Bool = true) {
        self.state.withLock {
            $0.bucket = (burst, perSecond)
            $0.bucketTokens = burst
            $0.bucketLast = nil
            $0.sendRetryAfter = retryAfter
        }
    }

    /// Every issued token stops working (the next API call gets 401).
    func expireTokens() { self.state.withLock { $0.tokens.removeAll() } }

    var requests: [TenantRequest] { self.state.withLock { $0.requests } }
    func requests(_ method: String, _ prefix: String) -> [TenantRequest] {
        self.requests.filter { $0.method == method && $0.path.hasPrefix(prefix) }
    }
    /// `POST /api/v2/users` requests (user creations), answered or not.
    var createRequests: [TenantRequest] { self.requests.filter { $0.method == "POST" && $0.path == "/api/v2/users" } }
    var tokenRequests: [TenantRequest] { self.requests("POST", "/oauth/token") }
    var apiRequests: [TenantRequest] { self.requests.filter { $0.path.hasPrefix("/api/v2/") } }
    var users: [User] { self.state.withLock { state in state.userOrder.compactMap { state.users[$0] } } }
    var rateLimitedCount: Int { self.state.withLock { $0.rateLimited } }
    func user(email: String) -> User? { self.users.first { $0.email == email } }
    func roleID(_ name: String) -> String? { self.state.withLock { $0.roles.first { $0.name == name }?.id } }

    /// Adds or replaces a user as the tenant's own (a signup, a change in the dashboard),
    /// with its `updated_at`, for the user listing the reconciler pages through.
    func putUser(id: String, email: String, name: String, updatedAt: Timestamp, verified: Bool = true, loginsCount: Int = 1) {
        self.state.withLock { state in
            if state.users[id] == nil { state.userOrder.append(id) }
            state.users[id] = User(id: id, fields: [
                ("user_id", .string(id)), ("email", .string(email)), ("email_verified", .bool(verified)), ("name", .string(name)),
                ("picture", "https://s.gravatar.com/avatar/0.png"), ("created_at", .string(updatedAt.description)),
                ("updated_at", .string(updatedAt.description)), ("logins_count", .int(loginsCount)),
                ("identities", [["connection": "Username-Password-Authentication", "provider": "auth0", "user_id": .string(String(id.drop { $0 != "|" }.dropFirst())), "isSocial": false]]),
            ])
        }
    }

    /// The log streams as stored, oldest first.
    var logStreams: [JSONValue] { self.state.withLock { $0.logStreams.map { .object($0) } } }

    /// Adds a user directly (an account that exists before Inlet creates one).
    @discardableResult
    func addUser(email: String, verified: Bool = true, appMetadata: JSONValue = [:], connection: String = "Username-Password-Authentication") -> String {
        self.state.withLock { state in
            state.userCounter += 1
            let id = "auth0|pre\(String(format: "%021d", state.userCounter))"
            state.users[id] = User(id: id, fields: [
                ("user_id", .string(id)), ("email", .string(email.lowercased())), ("email_verified", .bool(verified)),
                ("identities", [["connection": .string(connection), "provider": "auth0", "user_id": .string(String(id.dropFirst(6)))]]),
                ("app_metadata", appMetadata), ("user_metadata", [:]),
            ])
            state.userOrder.append(id)
            return id
        }
    }

    // MARK: Answering

    func answer(_ request: TenantRequest) -> Answer {
        self.state.withLock { state in
            var request = request
            let answer = Self.route(&request, state: &state)
            switch answer {
            case .respond(let status, _, _), .delayed(_, let status, _, _): request.status = status
            case .hang: request.status = 0
            }
            state.requests.append(request)
            return answer
        }
    }

    private static func json(_ status: Int, _ value: JSONValue, headers: [(String, String)] = []) -> Answer {
        .respond(status: status, headers: [("content-type", "application/json; charset=utf-8")] + headers, body: value.serialized())
    }

    private static func apiError(_ status: Int, _ error: String, _ message: String, _ code: String? = nil, headers: [(String, String)] = []) -> Answer {
        var body: [(String, JSONValue)] = [("statusCode", .int(status)), ("error", .string(error)), ("message", .string(message))]
        if let code { body.append(("errorCode", .string(code))) }
        return json(status, .object(body), headers: headers)
    }

    private static func route(_ request: inout TenantRequest, state: inout State) -> Answer {
        if request.method == "POST" && request.path == "/oauth/token" {
            return token(request, state: &state)
        }
        guard request.path.hasPrefix("/api/v2/") else { return apiError(404, "Not Found", "Not found") }

        // Authentication first: an expired token is a 401 whatever else holds.
        let header = request.header("authorization") ?? ""
        guard header.hasPrefix("Bearer "), state.tokens.contains(String(header.dropFirst(7))) else {
            return apiError(401, "Unauthorized", "Expired token received for JSON Web Token validation")
        }

        // Rate limit (token bucket), with headers on every answer.
        var limitHeaders: [(String, String)] = []
        if let bucket = state.bucket {
            let now = ContinuousClock.now
            if let last = state.bucketLast {
                let elapsed = last.duration(to: now)
                let seconds = elapsed.seconds
                state.bucketTokens = min(bucket.burst, state.bucketTokens + seconds * bucket.rate)
            }
            state.bucketLast = now
            let wallNow = Date().timeIntervalSince1970
            if state.bucketTokens < 1 {
                state.rateLimited += 1
                let reset = Int((wallNow + (bucket.burst - state.bucketTokens) / bucket.rate).rounded(.up))
                var headers = [("x-ratelimit-limit", String(Int(bucket.burst))), ("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", String(reset))]
                if state.sendRetryAfter {
                    headers.append(("retry-after", String(max(1, Int(((1 - state.bucketTokens) / bucket.rate).rounded(.up))))))
                }
                return apiError(429, "Too Many Requests", "Global limit has been reached", "too_many_requests", headers: headers)
            }
            state.bucketTokens -= 1
            let reset = Int((wallNow + (bucket.burst - state.bucketTokens) / bucket.rate).rounded(.up))
            limitHeaders = [
                ("x-ratelimit-limit", String(Int(bucket.burst))), ("x-ratelimit-remaining", String(Int(state.bucketTokens.rounded(.down)))),
                ("x-ratelimit-reset", String(reset)),
            ]
        }

        if !state.scripted.isEmpty {
            switch state.scripted.removeFirst() {
            case .pass:
                break
            case .hang:
                return .hang
            case .status(let status, let retryAfter, let resetIn):
                var headers = limitHeaders
                if let retryAfter { headers.append(("retry-after", String(retryAfter))) }
                if let resetIn {
                    headers.removeAll { $0.0 == "x-ratelimit-reset" || $0.0 == "x-ratelimit-remaining" }
                    headers += [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", String(Int(Date().timeIntervalSince1970) + resetIn))]
                }
                if status == 429 {
                    state.rateLimited += 1
                    return apiError(429, "Too Many Requests", "Global limit has been reached", "too_many_requests", headers: headers)
                }
                return apiError(status, status == 503 ? "Service Unavailable" : "Internal Server Error", "Something went wrong", nil, headers: headers)
            }
        }
        let answer = api(&request, state: &state)
        guard !limitHeaders.isEmpty else { return answer }
        switch answer {
        case .respond(let status, let headers, let body): return .respond(status: status, headers: headers + limitHeaders, body: body)
        default: return answer
        }
    }

    private static func token(_ request: TenantRequest, state: inout State) -> Answer {
        let body = request.json
        guard body?["grant_type"]?.stringValue == "client_credentials" else {
            return json(403, ["error": "unauthorized_client", "error_description": "Grant type 'password' not allowed for the client."])
        }
        guard body?["client_id"]?.stringValue == clientID, body?["client_secret"]?.stringValue == clientSecret else {
            return json(401, ["error": "access_denied", "error_description": "Unauthorized"])
        }
        guard let audience = body?["audience"]?.stringValue, audience.hasPrefix("https://"), audience.hasSuffix("/api/v2/") else {
            return json(403, ["error": "access_denied", "error_description": .string("Service not enabled within domain: \(body?["audience"]?.stringValue ?? "")")])
        }
        state.tokenCounter += 1
        let token = "eyJhbGciOiJSUzI1NiJ9.fake-token-\(state.tokenCounter).sig"
        state.tokens.insert(token)
        let response: JSONValue = [
            "access_token": .string(token), "expires_in": .int(state.expiresIn), "token_type": "Bearer",
            "scope": "read:users create:users update:users read:roles create:role_members create:user_tickets",
        ]
        if state.tokenDelayMilliseconds > 0 {
            return .delayed(milliseconds: state.tokenDelayMilliseconds, status: 200, headers: [("content-type", "application/json")], body: response.serialized())
        }
        return json(200, response)
    }

    private static func decode(_ text: Substring) -> String {
        String(text).removingPercentEncoding ?? String(text)
    }

    private static func queryValue(_ query: String, _ name: String) -> String? {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0] == name { return decode(parts[1]) }
        }
        return nil
    }

    private static func api(_ request: inout TenantRequest, state: inout State) -> Answer {
        let segments = request.path.dropFirst("/api/v2/".count).split(separator: "/", omittingEmptySubsequences: false)
        switch (request.method, segments.count, segments.first) {
        case ("POST", 1, "users"):
            return createUser(request, state: &state)
        case ("GET", 1, "users-by-email"):
            guard let email = queryValue(request.query, "email") else {
                return apiError(400, "Bad Request", "Query validation error: 'Missing required property: email'", "invalid_query_string")
            }
            let matches = state.usersByEmailOverride[email].map { $0.compactMap { state.users[$0] } }
                ?? state.userOrder.compactMap { state.users[$0] }.filter { $0.email == email }
            return json(200, .array(matches.map { .object($0.fields) }))
        case ("GET", 1, "users") where !(queryValue(request.query, "q")?.hasPrefix("app_metadata.") ?? false):
            return listUsers(request, state: state)
        case ("GET", 1, "users"):
            // User search (`q`, search_engine v3); only `app_metadata.employee_id:<term>` is
            // understood, a number bare or a string quoted.
            let field = "app_metadata.employee_id:"
            guard let query = queryValue(request.query, "q"), query.hasPrefix(field), queryValue(request.query, "search_engine") == "v3" else {
                return apiError(400, "Bad Request", "Query validation error: 'q'", "invalid_query_string")
            }
            let term = query.dropFirst(field.count)
            var wanted: JSONValue = Int(term).map { .int($0) } ?? .null
            if term.hasPrefix("\""), term.hasSuffix("\""), term.count >= 2 {
                var text = "", escaped = false
                for character in term.dropFirst().dropLast() {
                    if character == "\\" && !escaped { escaped = true; continue }
                    text.append(character)
                    escaped = false
                }
                wanted = .string(text)
            }
            let matches = state.userOrder.compactMap { state.users[$0] }.filter { $0.appMetadata?["employee_id"] == wanted }
            return json(200, .array(matches.map { .object($0.fields) }))
        case ("GET", 2, "users"):
            let id = decode(segments[1])
            guard let user = state.users[id] else { return apiError(404, "Not Found", "The user does not exist.", "inexistent_user") }
            return json(200, .object(user.fields))
        case ("PATCH", 2, "users"):
            let id = decode(segments[1])
            guard var user = state.users[id] else { return apiError(404, "Not Found", "The user does not exist.", "inexistent_user") }
            guard case .object(let changes)? = request.json else { return apiError(400, "Bad Request", "Payload validation error: 'Expected type object'", "invalid_body") }
            for (key, value) in changes {
                if key == "app_metadata" || key == "user_metadata" {
                    guard case .object(let members) = value else { continue }
                    if members.isEmpty {
                        user.set(key, [:])
                        continue
                    }
                    var merged: [(String, JSONValue)] = []
                    if case .object(let existing)? = user[key] { merged = existing }
                    for (name, new) in members {
                        merged.removeAll { $0.0 == name }
                        if new != .null { merged.append((name, new)) }
                    }
                    user.set(key, .object(merged))
                } else if key == "email" {
                    user.set(key, .string(value.stringValue?.lowercased() ?? ""))
                } else {
                    user.set(key, value)
                }
            }
            state.users[id] = user
            return json(200, .object(user.fields))
        case ("GET", 1, "roles"):
            let filter = queryValue(request.query, "name_filter")?.lowercased() ?? ""
            let roles = state.roles.filter { filter.isEmpty || $0.name.lowercased().contains(filter) }
            return json(200, .array(roles.map { ["id": .string($0.id), "name": .string($0.name), "description": .string("role \($0.name)")] }))
        case ("POST", 3, "users") where segments[2] == "roles":
            let id = decode(segments[1])
            guard case .array(let roles)? = request.json?["roles"], !roles.isEmpty else {
                return apiError(400, "Bad Request", "Payload validation error: 'Too few items'", "invalid_body")
            }
            for role in roles where !state.roles.contains(where: { $0.id == role.stringValue }) {
                return apiError(404, "Not Found", "The role does not exist.")
            }
            guard var user = state.users[id] else { return apiError(404, "Not Found", "The user does not exist.", "inexistent_user") }
            for role in roles.compactMap(\.stringValue) where !user.roles.contains(role) { user.roles.append(role) }
            state.users[id] = user
            return .respond(status: 204, headers: [], body: [])
        case ("GET", 1, "log-streams"):
            return json(200, .array(state.logStreams.map { .object($0) }))
        case ("POST", 1, "log-streams"):
            guard case .object(let fields)? = request.json, let name = request.json?["name"]?.stringValue, let type = request.json?["type"]?.stringValue else {
                return apiError(400, "Bad Request", "Payload validation error: 'Missing required property: name'.", "invalid_body")
            }
            guard type == "http", let sink = request.json?["sink"], validHTTPSink(sink) else {
                return apiError(400, "Bad Request", "Payload validation error: 'Invalid sink'.", "invalid_body")
            }
            state.logStreamCounter += 1
            let stream: [(String, JSONValue)] = [
                ("id", .string("lst_\(String(format: "%016d", state.logStreamCounter))")), ("name", .string(name)), ("type", .string(type)),
                ("status", "active"), ("sink", sink),
            ]
            _ = fields
            state.logStreams.append(stream)
            return json(200, .object(stream))
        case ("PATCH", 2, "log-streams"):
            let id = decode(segments[1])
            guard let index = state.logStreams.firstIndex(where: { JSONValue.object($0)["id"]?.stringValue == id }) else {
                return apiError(404, "Not Found", "The log stream does not exist.", "inexistent_log_stream")
            }
            guard case .object(let changes)? = request.json else { return apiError(400, "Bad Request", "Payload validation error: 'Expected type object'", "invalid_body") }
            var stream = state.logStreams[index]
            for (key, value) in changes {
                guard ["name", "status", "sink"].contains(key) else {
                    return apiError(400, "Bad Request", "Payload validation error: 'Additional properties not allowed: \(key)'.", "invalid_body")
                }
                var new = value
                if key == "sink", case .object(let members) = value, case .object(var merged)? = JSONValue.object(stream)["sink"] {
                    for (name, field) in members {
                        merged.removeAll { $0.0 == name }
                        merged.append((name, field))
                    }
                    new = .object(merged)
                    guard validHTTPSink(new) else { return apiError(400, "Bad Request", "Payload validation error: 'Invalid sink'.", "invalid_body") }
                }
                stream.removeAll { $0.0 == key }
                stream.append((key, new))
            }
            state.logStreams[index] = stream
            return json(200, .object(stream))
        case ("POST", 2, "tickets") where segments[1] == "password-change":
            guard let userID = request.json?["user_id"]?.stringValue, state.users[userID] != nil else {
                return apiError(404, "Not Found", "The user does not exist.", "inexistent_user")
            }
            return json(201, ["ticket": .string("https://127.0.0.1/lo/reset?ticket=\(Crypto.randomHex(byteCount: 8))#")])
        default:
            return apiError(404, "Not Found", "Not found")
        }
    }

    /// An `http` sink as Auth0 accepts it: an https endpoint, a format of the three.
    private static func validHTTPSink(_ sink: JSONValue) -> Bool {
        guard let endpoint = sink["httpEndpoint"]?.stringValue, endpoint.hasPrefix("https://"),
            let format = sink["httpContentFormat"]?.stringValue, ["JSONLINES", "JSONARRAY", "JSONOBJECT"].contains(format)
        else { return false }
        return sink["httpAuthorization"]?.stringValue != nil
    }

    /// `GET /api/v2/users`: every user, or `q=updated_at:[FROM TO *]`; `sort=updated_at:1`;
    /// `page` and `per_page` (default 50, at most 100); no result past the first 1000.
    private static func listUsers(_ request: TenantRequest, state: State) -> Answer {
        var users = state.userOrder.compactMap { state.users[$0] }
        if let query = queryValue(request.query, "q") {
            let prefix = "updated_at:[", suffix = " TO *]"
            guard query.hasPrefix(prefix), query.hasSuffix(suffix) else {
                return apiError(400, "Bad Request", "Query validation error: 'q'", "invalid_query_string")
            }
            let from = String(query.dropFirst(prefix.count).dropLast(suffix.count))
            users = users.filter { ($0["updated_at"]?.stringValue ?? "") >= from }
        }
        if let sort = queryValue(request.query, "sort") {
            guard sort == "updated_at:1" else { return apiError(400, "Bad Request", "Query validation error: 'sort'", "invalid_query_string") }
            users = users.enumerated().sorted {
                (($0.element["updated_at"]?.stringValue ?? ""), $0.offset) < (($1.element["updated_at"]?.stringValue ?? ""), $1.offset)
            }.map(\.element)
        }
        let perPage = queryValue(request.query, "per_page").flatMap { Int($0) } ?? 50
        let page = queryValue(request.query, "page").flatMap { Int($0) } ?? 0
        guard (1...100).contains(perPage), page >= 0 else { return apiError(400, "Bad Request", "Query validation error: 'per_page'", "invalid_query_string") }
        guard (page + 1) * perPage <= 1000 else {
            return apiError(400, "Bad Request", "You can only page through the first 1000 records. See https://auth0.com/docs/users/search/v3/view-search-results-by-page#limitation", "invalid_paging")
        }
        let slice = users.dropFirst(page * perPage).prefix(perPage)
        return json(200, .array(slice.map { .object($0.fields) }))
    }

    private static func createUser(_ request: TenantRequest, state: inout State) -> Answer {
        guard case .object(let fields)? = request.json else {
            return apiError(400, "Bad Request", "Payload validation error: 'Expected type object but found type null'.", "invalid_body")
        }
        let body = JSONValue.object(fields)
        guard let connection = body["connection"]?.stringValue else {
            return apiError(400, "Bad Request", "Payload validation error: 'Missing required property: connection'.", "invalid_body")
        }
        guard let email = body["email"]?.stringValue?.lowercased(), body["password"]?.stringValue != nil else {
            return apiError(400, "Bad Request", "Payload validation error: 'Missing required property: email'.", "invalid_body")
        }
        if state.users.values.contains(where: { $0.email == email }) {
            return apiError(409, "Conflict", "The user already exists.", "auth0_idp_error")
        }
        state.userCounter += 1
        let local = String(format: "%024x", state.userCounter)
        let id = "auth0|\(local)"
        let now = Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000)).description
        var stored: [(String, JSONValue)] = [
            ("user_id", .string(id)), ("email", .string(email)), ("email_verified", body["email_verified"] ?? false),
            ("name", body["name"] ?? .string(email)), ("nickname", .string(String(email.prefix { $0 != "@" }))),
            ("picture", "https://s.gravatar.com/avatar/0.png"), ("created_at", .string(now)), ("updated_at", .string(now)),
            ("identities", [["connection": .string(connection), "provider": "auth0", "user_id": .string(local), "isSocial": false]]),
        ]
        for key in ["user_metadata", "app_metadata", "blocked"] {
            if let value = body[key] { stored.append((key, value)) }
        }
        state.users[id] = User(id: id, fields: stored)
        state.userOrder.append(id)
        if state.hangCreateAfterStoring > 0 {
            state.hangCreateAfterStoring -= 1
            return .hang
        }
        return json(201, .object(stored))
    }
}

extension FakeTenant.User {
    var email: String? { self[ "email"]?.stringValue }
    var appMetadata: JSONValue? { self["app_metadata"] }
    var userMetadata: JSONValue? { self["user_metadata"] }
    var blocked: Bool { self["blocked"]?.boolValue ?? false }

    subscript(key: String) -> JSONValue? { self.fields.first { $0.0 == key }?.1 }

    mutating func set(_ key: String, _ value: JSONValue) {
        if let index = self.fields.firstIndex(where: { $0.0 == key }) {
            self.fields[index].1 = value
        } else {
            self.fields.append((key, value))
        }
    }
}

/// Lets the channel handlers reach the tenant created after the server is bound.
private final class TenantBox: Sendable {
    let tenant = Mutex<FakeTenant?>(nil)
}

/// Collects one request, asks the tenant, answers.
private final class TenantHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let box: TenantBox
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(box: TenantBox) {
        self.box = box
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body = []
        case .body(var buffer):
            self.body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head = self.head, let tenant = self.box.tenant.withLock({ $0 }) else { return }
            self.head = nil
            let uri = head.uri
            let path = String(uri.prefix { $0 != "?" })
            let query = uri.contains("?") ? String(uri.drop { $0 != "?" }.dropFirst()) : ""
            let request = TenantRequest(
                method: head.method.rawValue, path: path, query: query,
                headers: head.headers.map { ($0.name.lowercased(), $0.value) }, body: self.body
            )
            let keepAlive = head.isKeepAlive
            switch tenant.answer(request) {
            case .respond(let status, let headers, let body):
                context.writeHTTPResponse(status: status, headers: headers, body: body, keepAlive: keepAlive)
            case .delayed(let milliseconds, let status, let headers, let body):
                let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: .milliseconds(Int64(milliseconds))) {
                    loopBound.value.writeHTTPResponse(status: status, headers: headers, body: body, keepAlive: keepAlive)
                }
            case .hang:
                break
            }
        }
    }
}
