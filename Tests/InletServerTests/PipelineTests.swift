import AuditHandler
import AccessTokens
import Auth0Management
import InletHTTPClient
import ProvisioningHandler
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import InletCore
@testable import InletServer
import InletSQLite
import InletTestSupport
import NIOCore
import Synchronization
import Testing

let webhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
let adminToken = "admin_" + String(repeating: "5", count: 32)
let productivityToken = "prod_" + String(repeating: "3", count: 40)

extension TestClientProtocol {
    /// POSTs a productivity event signed as the productivity system signs it.
    func postSigned(
        _ body: String, id: String = "msg_\(UUID().uuidString)", secret: String = webhookSecret,
        timestamp: Int = Int(Date().timeIntervalSince1970), prefix: String = "webhook"
    ) async throws -> TestResponse {
        let signature = try WebhookSecret(secret).sign(id: id, timestamp: String(timestamp), body: Array(body.utf8))
        return try await self.execute(
            uri: "/hooks/productivity", method: .post,
            headers: [
                .contentType: "application/json",
                HTTPField.Name("\(prefix)-id")!: id,
                HTTPField.Name("\(prefix)-timestamp")!: String(timestamp),
                HTTPField.Name("\(prefix)-signature")!: signature,
            ],
            body: ByteBuffer(string: body)
        )
    }

    func admin(_ method: HTTPRequest.Method, _ uri: String) async throws -> TestResponse {
        try await self.execute(uri: uri, method: method, headers: [.authorization: "Bearer \(adminToken)"])
    }
}

func employeeEvent(_ type: String = "employee.created", employeeID: String = "EMP-1", email: String = "e1@example.com") -> String {
    #"{"type":"\#(type)","occurred_at":"2026-11-22T10:00:00Z","data":{"employee_id":"\#(employeeID)","name":"Ada Lovelace","email":"\#(email)","department":"Production"}}"#
}

func deliveryState(_ db: String, event id: String, handler: String) throws -> (state: String, attempts: Int, error: String?)? {
    try query(
        db, "SELECT d.state, d.attempts, d.last_error, d.dead_reason FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE e.id = ? AND d.handler = ?",
        [.text(id), .text(handler)]
    ).first.map { (try $0.string("state"), try $0.int("attempts"), try $0.optionalString("last_error")) }
}

func configurePipeline(_ configuration: inout Configuration) {
    configuration.productivityWebhookSecret = Secret(webhookSecret)
    configuration.adminAPIToken = Secret(adminToken)
}

/// The event pipeline end to end: signed intake, fan-out, retries, dead letters, replay.
@Suite struct PipelineTests {
    @Test func aSignedEventIsCommittedFannedOutAndAnsweredOnceForItsID() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let handler = ScriptedHandler(subscriptions: ["employee.*"])
        try await withInlet(folder: folder, handlers: [handler.factory(), AuditHandler.factory], configure: configurePipeline) { client in
            let body = try fixture("productivity/employee-created.json")
            let first = try await client.postSigned(body, id: "msg_fanout")
            #expect(first.status == .accepted, "\(first.text)")
            #expect(try first.json["event_id"] == "msg_fanout")
            #expect(try first.json["duplicate"] == false)

            let again = try await client.postSigned(body, id: "msg_fanout")
            #expect(again.status == .ok)
            #expect(try again.json["duplicate"] == true)

            try await eventually("both handlers done") {
                try deliveryState(db, event: "msg_fanout", handler: "scripted")?.state == "done"
                    && deliveryState(db, event: "msg_fanout", handler: "audit")?.state == "done"
            }
            #expect(handler.recorded.map(\.id) == ["msg_fanout"])
            #expect(try count(db, "events") == 1)
            let payload = try query(db, "SELECT payload FROM events").first?.string("payload")
            #expect(payload == body)
            try await eventually("audit rows") {
                try query(db, "SELECT outcome FROM audit_log WHERE event_id = 'msg_fanout' ORDER BY outcome").map { try $0.string("outcome") }
                    .contains("received")
            }
        }
    }

    @Test func transientFailuresAreRetriedWithBackoffUntilTheyPass() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let handler = ScriptedHandler(auditAttempts: true) { _, attempt in
            if attempt < 3 { throw HandlerError.transient("upstream 503 on attempt \(attempt)") }
        }
        var options = HandlerOptions()
        options.backoffBase = 0.05
        options.backoffCap = 0.2
        try await withInlet(folder: folder, handlers: [handler.factory(options: options)], configure: configurePipeline) { client in
            #expect(try await client.postSigned(employeeEvent(), id: "msg_retry").status == .accepted)
            try await eventually("done after retries") { try deliveryState(db, event: "msg_retry", handler: "scripted")?.state == "done" }
            #expect(handler.recorded.map(\.attempt) == [1, 2, 3])
            #expect(try deliveryState(db, event: "msg_retry", handler: "scripted")?.attempts == 3)
            // What the handler audited is stored with each attempt's outcome, failed ones too.
            let rows = try query(db, "SELECT handler, detail FROM audit_log WHERE event_id = 'msg_retry' AND outcome = 'attempt_ran' ORDER BY id")
            #expect(try rows.map { try $0.optionalString("handler") } == ["scripted", "scripted", "scripted"])
            #expect(try rows.map { try $0.optionalString("detail") } == ["attempt 1", "attempt 2", "attempt 3"])
        }
    }

    @Test func aPermanentFailureIsDeadLetteredAtOnceAndReplayable() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let refuse = Mutex(true)
        let handler = ScriptedHandler { _, _ in
            if refuse.withLock({ $0 }) { throw HandlerError.permanent("employee record has no department") }
        }
        try await withInlet(folder: folder, handlers: [handler.factory()], configure: configurePipeline) { client in
            #expect(try await client.postSigned(employeeEvent(), id: "msg_dead").status == .accepted)
            try await eventually("dead") { try deliveryState(db, event: "msg_dead", handler: "scripted")?.state == "dead" }
            #expect(handler.recorded.count == 1)

            let shown = try await client.admin(.get, "/admin/events/msg_dead")
            #expect(shown.status == .ok)
            let delivery = try shown.json["deliveries"]
            guard case .array(let deliveries)? = delivery else { Issue.record("no deliveries"); return }
            #expect(deliveries.first?["state"] == "dead")
            #expect(deliveries.first?["dead_reason"] == "permanent")
            #expect(deliveries.first?["last_error"] == "employee record has no department")
            #expect(try shown.json["payload"]?["data"]?["employee_id"] == "EMP-1")

            let listed = try await client.admin(.get, "/admin/events?status=dead")
            guard case .array(let events)? = try listed.json["events"] else { Issue.record("no events"); return }
            #expect(events.map { $0["id"] } == ["msg_dead"])

            refuse.withLock { $0 = false }
            let replay = try await client.admin(.post, "/admin/deliveries/replay?state=dead")
            #expect(replay.status == .accepted)
            #expect(try replay.json["replayed"] == 1)
            try await eventually("done after replay") { try deliveryState(db, event: "msg_dead", handler: "scripted")?.state == "done" }
            #expect(handler.recorded.count == 2)

            // One event replayed on request runs again even though it was done.
            #expect(try await client.admin(.post, "/admin/events/msg_dead/replay").status == .accepted)
            try await eventually("third run") { handler.recorded.count == 3 }
            #expect(try await client.admin(.post, "/admin/events/nope/replay").status == .notFound)
        }
    }

    @Test func attemptsRunOutIntoTheDeadLetterSet() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let handler = ScriptedHandler { _, _ in throw HandlerError.transient("still down") }
        var options = HandlerOptions()
        options.maxAttempts = 3
        options.backoffBase = 0.01
        options.backoffCap = 0.05
        try await withInlet(folder: folder, handlers: [handler.factory(options: options)], configure: configurePipeline) { client in
            #expect(try await client.postSigned(employeeEvent(), id: "msg_exhaust").status == .accepted)
            try await eventually("dead") { try deliveryState(db, event: "msg_exhaust", handler: "scripted")?.state == "dead" }
            #expect(handler.recorded.count == 3)
            let reason = try query(db, "SELECT dead_reason FROM deliveries").first?.optionalString("dead_reason")
            #expect(reason == "exhausted")
        }
    }

    @Test func aHandlersConcurrencyLimitIsRespected() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let handler = ScriptedHandler(gateOpen: false)
        var options = HandlerOptions()
        options.concurrency = 2
        try await withInlet(folder: folder, handlers: [handler.factory(options: options)], configure: configurePipeline) { client in
            for index in 0..<10 {
                #expect(try await client.postSigned(employeeEvent(employeeID: "EMP-\(index)"), id: "msg_c\(index)").status == .accepted)
            }
            // Held at the gate: two run, eight wait their turn.
            try await eventually("both slots busy") { handler.running == 2 }
            #expect(try sqlCount(db, "SELECT count(*) AS count FROM deliveries WHERE state = 'pending'") == 8)
            handler.gate.withLock { $0 = true }
            try await eventually("all done") {
                try sqlCount(db, "SELECT count(*) AS count FROM deliveries WHERE state = 'done'") == 10
            }
            #expect(handler.peak == 2)
        }
    }

    @Test func aDeliveryRunningLongerThanItsLeaseIsNotClaimedAgain() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let handler = ScriptedHandler(gateOpen: false)
        var options = HandlerOptions()
        options.leaseSeconds = 1
        try await withInlet(folder: folder, handlers: [handler.factory(options: options)], configure: configurePipeline) { client in
            #expect(try await client.postSigned(employeeEvent(), id: "msg_long").status == .accepted)
            try await eventually("running") { handler.running == 1 }
            let lease = { try query(db, "SELECT lease_until FROM deliveries").first?.optionalInt("lease_until") ?? 0 }
            let first = try lease()
            // Renewed until well past the first lease's end, while the worker polls every 200 ms.
            try await eventually("lease renewed past its first end") { try lease() >= first + 2_000 }
            #expect(handler.recorded.count == 1)
            handler.gate.withLock { $0 = true }
            try await eventually("done") { try deliveryState(db, event: "msg_long", handler: "scripted")?.state == "done" }
            #expect(handler.recorded.count == 1)
            #expect(try deliveryState(db, event: "msg_long", handler: "scripted")?.attempts == 1)
        }
    }

    @Test func loginsFlowThroughThePipelineToTheAuditLog() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        try await withInlet(folder: folder, handlers: [AuditHandler.factory], configure: configurePipeline) { client in
            #expect(try await client.syncUser(#"{"auth0Id":"auth0|audited"}"#).status == .ok)
            try await eventually("audited") {
                try sqlCount(db, "SELECT count(*) AS count FROM audit_log WHERE event_type = 'auth0.user.login' AND outcome = 'received'") == 1
            }
        }
    }

    struct BadHook: Sendable, CustomTestStringConvertible {
        let name: String
        let send: @Sendable (any TestClientProtocol) async throws -> TestResponse
        let status: HTTPResponse.Status
        var messageContains: String? = nil
        var testDescription: String { self.name }
    }

    static let badHooks: [BadHook] = [
        .init(name: "unsigned", send: { try await $0.execute(uri: "/hooks/productivity", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: employeeEvent())) }, status: .unauthorized),
        .init(name: "wrong secret", send: { try await $0.postSigned(employeeEvent(), secret: "whsec_" + Data("another-secret-key".utf8).base64EncodedString()) }, status: .unauthorized),
        .init(name: "stale timestamp", send: { try await $0.postSigned(employeeEvent(), timestamp: Int(Date().timeIntervalSince1970) - 400) }, status: .unauthorized, messageContains: "old"),
        .init(name: "unknown type", send: { try await $0.postSigned(employeeEvent("employee.promoted")) }, status: .badRequest),
        .init(name: "no employee_id", send: { try await $0.postSigned(#"{"type":"employee.created","data":{"email":"a@example.com"}}"#) }, status: .badRequest, messageContains: "employee_id"),
        .init(name: "no email", send: { try await $0.postSigned(#"{"type":"employee.created","data":{"employee_id":"E1"}}"#) }, status: .badRequest, messageContains: "email"),
        .init(name: "not JSON", send: { try await $0.postSigned("employee.created") }, status: .badRequest),
        // Verified before parsed: a forged body is refused for its signature, whatever it holds.
        .init(name: "forged and not JSON", send: { try await $0.postSigned("{\"type\":", secret: "whsec_" + Data("another-secret-key".utf8).base64EncodedString()) }, status: .unauthorized),
        .init(name: "webhook-id outside the id alphabet", send: { try await $0.postSigned(employeeEvent(), id: "msg 1/2") }, status: .badRequest, messageContains: "event id"),
        .init(name: "webhook-id over 256 characters", send: { try await $0.postSigned(employeeEvent(), id: String(repeating: "m", count: 257)) }, status: .badRequest, messageContains: "event id"),
    ]

    @Test(arguments: badHooks)
    func refusesUnsignedStaleAndInvalidEventsStoringNothing(_ bad: BadHook) async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        try await withInlet(folder: folder, handlers: [AuditHandler.factory], configure: configurePipeline) { client in
            let response = try await bad.send(client)
            #expect(response.status == bad.status, "\(response.text)")
            if let expected = bad.messageContains {
                #expect(try response.json["message"]?.stringValue?.contains(expected) == true, "\(response.text)")
            }
            #expect(try count(db, "events") == 0)
        }
    }

    @Test func acceptsSvixHeadersAndBearerModeAndTheBodyID() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        try await withInlet(folder: folder, configure: configurePipeline) { (client: any TestClientProtocol) async throws -> Void in
            #expect(try await client.postSigned(employeeEvent(), id: "msg_svix", prefix: "svix").status == .accepted)
            #expect(try count(db, "events") == 1)
        }
        let other = try TemporaryFolder()
        try await withInlet(folder: other, configure: { $0.productivityAPIToken = Secret(productivityToken) }) { client in
            let body = #"{"id":"evt_from_body","type":"employee.updated","data":{"employee_id":42,"name":"X","email":"x@example.com","department":"Ops"}}"#
            let response = try await client.execute(
                uri: "/hooks/productivity", method: .post,
                headers: [.contentType: "application/json", .authorization: "Bearer \(productivityToken)"], body: ByteBuffer(string: body)
            )
            #expect(response.status == .accepted)
            #expect(try response.json["event_id"] == "evt_from_body")
            let refused = try await client.execute(
                uri: "/hooks/productivity", method: .post,
                headers: [.contentType: "application/json", .authorization: "Bearer wrong"], body: ByteBuffer(string: body)
            )
            #expect(refused.status == .unauthorized)
        }
    }

    @Test func eachWebhookSignatureHeaderLineIsConsidered() async throws {
        let folder = try TemporaryFolder()
        try await withInlet(folder: folder, configure: configurePipeline) { client in
            let body = employeeEvent()
            let timestamp = String(Int(Date().timeIntervalSince1970))
            let signature = try WebhookSecret(webhookSecret).sign(id: "msg_lines", timestamp: timestamp, body: Array(body.utf8))
            var headers: HTTPFields = [.contentType: "application/json", HTTPField.Name("webhook-id")!: "msg_lines", HTTPField.Name("webhook-timestamp")!: timestamp]
            headers.append(HTTPField(name: HTTPField.Name("webhook-signature")!, value: "v1,bm90IHRoZSBzaWduYXR1cmU="))
            headers.append(HTTPField(name: HTTPField.Name("webhook-signature")!, value: signature))
            let response = try await client.execute(uri: "/hooks/productivity", method: .post, headers: headers, body: ByteBuffer(string: body))
            #expect(response.status == .accepted, "\(response.text)")
        }
    }

    @Test func anEnvelopeIDOutsideTheAlphabetIsRefusedInBearerMode() async throws {
        let folder = try TemporaryFolder()
        try await withInlet(folder: folder, configure: { $0.productivityAPIToken = Secret(productivityToken) }) { client in
            let body = #"{"id":"evt\r\nX-Injected: 1","type":"employee.updated","data":{"employee_id":42,"name":"X","email":"x@example.com","department":"Ops"}}"#
            let response = try await client.execute(
                uri: "/hooks/productivity", method: .post,
                headers: [.contentType: "application/json", .authorization: "Bearer \(productivityToken)"], body: ByteBuffer(string: body)
            )
            #expect(response.status == .badRequest)
            #expect(try count(folder.databasePath, "events") == 0)
        }
    }

    @Test func unknownEventTypesAreCountedAsOther() async throws {
        let folder = try TemporaryFolder()
        try await withInlet(folder: folder, configure: { configuration in
            configurePipeline(&configuration)
            configuration.acceptUnknownEventTypes = true
        }) { client in
            for index in 0..<3 {
                #expect(try await client.postSigned(#"{"type":"sender.chosen.\#(index)","data":{}}"#).status == .accepted)
            }
            let text = try await client.execute(uri: "/metrics", method: .get).text
            #expect(text.contains(#"inlet_events_received_total{source="productivity",type="other",outcome="accepted"} 3"#), "\(text)")
            #expect(!text.contains("sender.chosen"))
        }
    }

    @Test func adminNeedsItsTokenAndMetricsArePublished() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        try await withInlet(folder: folder, handlers: [AuditHandler.factory], configure: configurePipeline) { client in
            #expect(try await client.execute(uri: "/admin/events", method: .get).status == .unauthorized)
            #expect(try await client.execute(uri: "/admin/events", method: .get, headers: [.authorization: "Bearer nope"]).status == .unauthorized)
            #expect(try await client.admin(.get, "/admin/events?status=bogus").status == .badRequest)
            #expect(try await client.postSigned(employeeEvent(), id: "msg_metrics").status == .accepted)
            try await eventually("delivered") { try deliveryState(db, event: "msg_metrics", handler: "audit")?.state == "done" }
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok)
            let text = metrics.text
            #expect(text.contains(#"inlet_events_received_total{source="productivity",type="employee.created",outcome="accepted"} 1"#), "\(text)")
            #expect(text.contains(#"inlet_deliveries_total{handler="audit",outcome="done"} 1"#))
            #expect(text.contains("inlet_queue_depth 0"))
            #expect(text.contains("inlet_handler_duration_seconds"))
        }
    }
}

/// Provisioning without Auth0 credentials: registered, not running; enabled explicitly, its
/// deliveries wait instead of being lost; left at its default, nothing is planned for it.
@Suite(.timeLimit(.minutes(2))) struct WaitingHandlerTests {
    @Test func deliveriesForAHandlerWaitingOnCredentialsArePlannedAndStayPending() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let provisioning = ProvisioningHandler.factory(clients: ManagementClientProvider(http: OutboundClient()))
        let enabled: (inout Configuration) -> Void = { configuration in
            configurePipeline(&configuration)
            configuration.handlerSettings["provisioning"] = ["enabled": true]
        }
        try await withInlet(folder: folder, handlers: [provisioning, AuditHandler.factory], configure: enabled) { client in
            #expect(try await client.postSigned(employeeEvent(), id: "msg_waiting").status == .accepted)
            try await eventually("audit ran") { try deliveryState(db, event: "msg_waiting", handler: "audit")?.state == "done" }
            #expect(try deliveryState(db, event: "msg_waiting", handler: "provisioning")?.state == "pending")
            #expect(try deliveryState(db, event: "msg_waiting", handler: "provisioning")?.attempts == 0)
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            guard case .array(let waiting)? = try ready.json["checks"]?["handlers_waiting"] else { Issue.record("no detail"); return }
            #expect(waiting.map { $0["handler"] } == ["provisioning"])
            #expect(waiting.first?["reason"]?.stringValue?.contains("AUTH0_") == true)
        }
    }

    @Test func withoutCredentialsAndNotEnabledExplicitlyNothingIsPlannedForIt() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let logs = LogCapture()
        let provisioning = ProvisioningHandler.factory(clients: ManagementClientProvider(http: OutboundClient()))
        try await withInlet(folder: folder, logs: logs, handlers: [provisioning, AuditHandler.factory], configure: configurePipeline) { client in
            #expect(try await client.postSigned(employeeEvent(), id: "msg_off").status == .accepted)
            try await eventually("audit ran") { try deliveryState(db, event: "msg_off", handler: "audit")?.state == "done" }
            #expect(try deliveryState(db, event: "msg_off", handler: "provisioning") == nil)
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            #expect(try ready.json["checks"]?["handlers_waiting"] == .array([]))
        }
        // Start-up said why it is off and how to turn it on.
        let inactive = logs.all.first { $0.contains("handler inactive") && $0.contains(#"key: "handler", value: provisioning"#) }
        #expect(inactive?.contains("none planned") == true, "\(logs.all)")
        #expect(inactive?.contains("handlers.provisioning.enabled to true") == true)
        #expect(inactive?.contains("AUTH0_CLIENT_ID") == true)
    }
}
