public import Foundation
public import HTTPTypes
public import InletCore
internal import InletHTTPClient

/// Requests to real `inlet serve` processes (``InletServeProcess``) over loopback, each
/// bounded by a client timeout: an answer that does not come in time counts as status 0,
/// so a hang is a failure a test can count, never a test that waits forever.
///
/// The instances share ``environment``'s secrets: the productivity webhook secret (events
/// are signed per request, Standard Webhooks), the Post-Login Action's token and the
/// admin token.
///
/// ```swift
/// let client = InletTestClient(timeout: 10)
/// let answer = await client.postEmployeeEvent(to: inlet, id: "msg_1", employeeID: "EMP-1")
/// #expect(answer.status == 202)
/// await client.shutdown()
/// ```
public final class InletTestClient: Sendable {
    public static let webhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    public static let internalToken = "itok_" + String(repeating: "c", count: 40)
    public static let adminToken = "atok_" + String(repeating: "d", count: 40)

    /// The variables that give an instance these secrets.
    public static var environment: [String: String] {
        ["PRODUCTIVITY_WEBHOOK_SECRET": webhookSecret, "INTERNAL_API_TOKEN": internalToken, "ADMIN_API_TOKEN": adminToken]
    }

    let http = OutboundClient(configuration: .init(maxConnections: 64, maxConnectionsPerHost: 16))
    /// Seconds a request may take before it counts as a hang.
    public let timeout: Double

    public init(timeout: Double = 10) {
        self.timeout = timeout
    }

    public func shutdown() async { await self.http.shutdown() }

    /// A productivity event (`type`, employee `employeeID`, an email made from it, `extra`
    /// members in `data`), signed, with the webhook id `id`.
    public func postEmployeeEvent(
        to instance: InletServeProcess, id: String, employeeID: String, type: String = "employee.created", email: String? = nil
    ) async -> Answer {
        let email = email ?? "\(employeeID.lowercased())@example.com"
        let body = #"{"type":"\#(type)","occurred_at":"2026-11-22T10:00:00Z","data":{"employee_id":"\#(employeeID)","name":"Ada Lovelace","email":"\#(email)","department":"Production"}}"#
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let signature: String
        do {
            signature = try WebhookSecret(Self.webhookSecret).sign(id: id, timestamp: timestamp, body: Array(body.utf8))
        } catch {
            return Answer(status: 0, body: "", retryAfter: nil, seconds: 0, error: "cannot sign: \(error)")
        }
        let headers: HTTPFields = [
            .contentType: "application/json", HTTPField.Name("webhook-id")!: id, HTTPField.Name("webhook-timestamp")!: timestamp,
            HTTPField.Name("webhook-signature")!: signature,
        ]
        return await self.send(.post, instance.baseURL + "/hooks/productivity", headers: headers, body: body)
    }

    /// A login of `auth0ID` as the Post-Login Action reports it.
    public func postLogin(to instance: InletServeProcess, auth0ID: String) async -> Answer {
        let body = #"{"auth0Id":"\#(auth0ID)","email":"\#(auth0ID.replacingOccurrences(of: "|", with: "-"))@example.com","name":"User","ip":"203.0.113.9"}"#
        return await self.send(
            .post, instance.baseURL + "/internal/auth/sync-user",
            headers: [.contentType: "application/json", .authorization: "Bearer \(Self.internalToken)"], body: body
        )
    }

    public func get(_ url: String) async -> Answer {
        await self.send(.get, url, headers: [:], body: nil)
    }

    public func send(_ method: HTTPRequest.Method, _ url: String, headers: HTTPFields, body: String?) async -> Answer {
        let started = ContinuousClock.now
        do {
            let response = try await self.http.execute(
                OutboundRequest(method: method, url: url, headers: headers, body: body.map { Array($0.utf8) }, connectTimeout: 2, timeout: self.timeout)
            )
            return Answer(
                status: response.status, body: String(decoding: response.body, as: UTF8.self), retryAfter: response.headers[.retryAfter],
                seconds: started.duration(to: .now).seconds, error: nil
            )
        } catch {
            return Answer(status: 0, body: "", retryAfter: nil, seconds: started.duration(to: .now).seconds, error: "\(error)")
        }
    }

    /// What one request got: the status (0: no answer within the client's timeout, or no
    /// connection), the body, the Retry-After header, and how long it took.
    public struct Answer: Sendable {
        public let status: Int
        public let body: String
        public let retryAfter: String?
        public let seconds: Double
        public let error: String?

        public var json: JSONValue? { try? JSONDocument.parse(Array(self.body.utf8)).root.value }
        /// The `error` member of an error body (`unavailable`, ...).
        public var errorCode: String? { self.json?["error"]?.stringValue }
        /// 200 or 202: the request was acknowledged.
        public var acknowledged: Bool { self.status == 200 || self.status == 202 }
    }
}

/// Runs `work` for each of `items` with at most `width` running at once; returns the
/// results in the order of `items`.
public func concurrently<Item: Sendable, Result: Sendable>(
    _ items: [Item], width: Int, _ work: @escaping @Sendable (Item) async -> Result
) async -> [Result] {
    await withTaskGroup(of: (Int, Result).self) { group in
        var results = [Result?](repeating: nil, count: items.count)
        var next = 0
        while next < min(max(1, width), items.count) {
            let index = next
            group.addTask { (index, await work(items[index])) }
            next += 1
        }
        while let (index, result) = await group.next() {
            results[index] = result
            if next < items.count {
                let following = next
                group.addTask { (following, await work(items[following])) }
                next += 1
            }
        }
        return results.map { $0! }
    }
}
