import AuditHandler
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

/// The console's admin routes on a live server: event search and detail (headers, attempt
/// history), dead-letter groups and their replay, the overview, handlers with pause and
/// resume, employees and recent logins.
@Suite(.timeLimit(.minutes(2))) struct OperatorRoutesTests {
    @Test func anEventShowsItsAllowListedHeadersAndEveryAttempt() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let handler = ScriptedHandler { _, attempt in
            if attempt < 3 { throw HandlerError.transient("upstream answered 503 on attempt \(attempt)") }
        }
        var options = HandlerOptions()
        options.backoffBase = 0.05
        options.backoffCap = 0.1
        try await withInlet(folder: folder, handlers: [handler.factory(options: options)], configure: configurePipeline) { client in
            #expect(try await client.postSigned(employeeEvent(employeeID: "EMP-77", email: "Grace@Example.com"), id: "msg_history").status == .accepted)
            try await eventually("delivered on the third attempt") { try deliveryState(db, event: "msg_history", handler: "scripted")?.state == "done" }

            let detail = try await client.admin(.get, "/admin/events/msg_history")
            #expect(detail.status == .ok)
            let json = try detail.json
            #expect(json["headers"]?["content-type"] == "application/json")
            #expect(json["headers"]?["webhook-id"] == "msg_history")
            #expect(json["headers"]?["webhook-signature"] == nil, "a signature is never stored")
            guard case .array(let attempts)? = json["deliveries"]?[0]?["attempt_history"] else {
                Issue.record("no attempt history: \(detail.text)")
                return
            }
            #expect(attempts.map { $0["attempt"] } == [1, 2, 3])
            #expect(attempts.map { $0["outcome"] } == ["retry", "retry", "done"])
            #expect(attempts[0]["error"] == "upstream answered 503 on attempt 1")
            #expect(attempts[0]["next_attempt_at"]?.stringValue != nil && attempts[2]["next_attempt_at"] == .null)
            #expect(attempts.allSatisfy { ($0["instance"]?.stringValue?.isEmpty == false) && $0["duration_ms"]?.intValue != nil })
            #expect(!(try query(db, "SELECT headers FROM events").first?.optionalString("headers") ?? "").contains("v1,"))

            // Found by the employee's id or email (any case), and by its own id.
            for q in ["EMP-77", "grace@example.com", "GRACE@example.com", "msg_history"] {
                let found = try await client.admin(.get, "/admin/events?q=\(q)")
                #expect(try found.json["events"]?[0]?["id"] == "msg_history", "\(q)")
            }
            #expect(try await client.admin(.get, "/admin/events?q=nobody").json["events"] == [])
        }
    }

    @Test func eventsAreFilteredAndPagedByCursor() async throws {
        let folder = try TemporaryFolder()
        try await withInlet(folder: folder, configure: configurePipeline) { client in
            for index in 1...3 {
                #expect(try await client.postSigned(employeeEvent(employeeID: "E\(index)"), id: "msg_\(index)").status == .accepted)
            }
            let first = try await client.admin(.get, "/admin/events?limit=2&source=productivity&type=employee.created")
            #expect(try first.json["events"]?[0]?["id"] == "msg_3" && first.json["events"]?[1]?["id"] == "msg_2")
            let cursor = try #require(try first.json["next_cursor"]?.stringValue)
            #expect(try await client.postSigned(employeeEvent(employeeID: "E4"), id: "msg_4").status == .accepted)
            let second = try await client.admin(.get, "/admin/events?limit=2&cursor=\(cursor)")
            #expect(try second.json["events"] == .array([try #require(second.json["events"]?[0])]))
            #expect(try second.json["events"]?[0]?["id"] == "msg_1")
            #expect(try await client.admin(.get, "/admin/events?source=admin").json["events"] == [])
            #expect(try await client.admin(.get, "/admin/events?from=2000-01-01T00:00:00Z&to=2001-01-01T00:00:00Z").json["events"] == [])
            for bad in ["limit=0", "status=lost", "from=yesterday", "cursor=nope"] {
                let answer = try await client.admin(.get, "/admin/events?\(bad)")
                #expect(answer.status == .badRequest, "\(bad): \(answer.text)")
            }
        }
    }

    @Test func deadLettersAreGroupedInTheOverviewAndReplayedByGroup() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let refuse = Mutex(true)
        let handler = ScriptedHandler { event, _ in
            if refuse.withLock({ $0 }) { throw HandlerError.permanent("upstream refused record \(event.id.count * 7) at \(event.seq)") }
        }
        try await withInlet(folder: folder, handlers: [handler.factory()], configure: configurePipeline) { client in
            for id in ["msg_a", "msg_bb"] {
                #expect(try await client.postSigned(employeeEvent(), id: id).status == .accepted)
            }
            try await eventually("both dead") {
                try ["msg_a", "msg_bb"].allSatisfy { try deliveryState(db, event: $0, handler: "scripted")?.state == "dead" }
            }
            let letters = try await client.admin(.get, "/admin/dead-letters")
            #expect(letters.status == .ok)
            let group = try #require(try letters.json["groups"]?[0])
            #expect(group["handler"] == "scripted" && group["count"] == 2)
            #expect(group["error_key"] == "upstream refused record <n> at <n>")
            #expect(try letters.json["groups"]?[1] == nil)

            let overview = try await client.admin(.get, "/admin/overview")
            let scripted = try #require(try overview.json["handlers"]?[0])
            #expect(scripted["name"] == "scripted" && scripted["state"] == "running" && scripted["dead"] == 2 && scripted["paused"] == false)
            guard case .array(let activity)? = try overview.json["activity"] else { Issue.record("no activity"); return }
            #expect(activity.count >= 60 && activity.count <= 62)
            #expect(activity.compactMap { $0["received"]?.intValue }.reduce(0, +) == 2)

            refuse.withLock { $0 = false }
            let key = try #require(group["error_key"]?.stringValue)
            let encoded = try #require(key.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
            let replayed = try await client.admin(.post, "/admin/dead-letters/replay?handler=scripted&error_key=\(encoded)")
            #expect(replayed.status == .accepted)
            #expect(try replayed.json["replayed"] == 2)
            try await eventually("replayed and delivered") {
                try ["msg_a", "msg_bb"].allSatisfy { try deliveryState(db, event: $0, handler: "scripted")?.state == "done" }
            }
            #expect(try await client.admin(.get, "/admin/dead-letters").json["groups"] == [])
            #expect(try await client.admin(.post, "/admin/dead-letters/replay?error_key=x").status == .badRequest)
            // One handler's delivery of one event.
            let one = try await client.admin(.post, "/admin/events/msg_a/replay?handler=scripted")
            #expect(try one.json["replayed"] == 1 && one.json["handler"] == "scripted")
        }
    }

    @Test func aPausedHandlerKeepsItsDeliveriesPendingUntilResumed() async throws {
        let folder = try TemporaryFolder()
        let db = folder.databasePath
        let handler = ScriptedHandler(subscriptions: ["employee.*"])
        try await withInlet(folder: folder, handlers: [handler.factory(), AuditHandler.factory], configure: configurePipeline) { client in
            let paused = try await client.admin(.post, "/admin/handlers/scripted/pause")
            #expect(paused.status == .ok)
            #expect(try paused.json["paused"] == true && paused.json["handler"] == "scripted")
            #expect(try await client.admin(.post, "/admin/handlers/nobody/pause").status == .notFound)

            #expect(try await client.postSigned(employeeEvent(), id: "msg_paused").status == .accepted)
            // The audit handler runs the same event: the dispatcher is working.
            try await eventually("audited") { try deliveryState(db, event: "msg_paused", handler: "audit")?.state == "done" }
            #expect(try deliveryState(db, event: "msg_paused", handler: "scripted")?.state == "pending")
            #expect(handler.recorded.isEmpty)

            let handlers = try await client.admin(.get, "/admin/handlers")
            guard case .array(let entries)? = try handlers.json["handlers"] else { Issue.record("no handlers: \(handlers.text)"); return }
            let scripted = try #require(entries.first { $0["name"] == "scripted" })
            #expect(scripted["paused"] == true && scripted["state"] == "paused")
            #expect(scripted["options"]?["concurrency"]?.intValue != nil)
            let overview = try await client.admin(.get, "/admin/overview")
            guard case .array(let rows)? = try overview.json["handlers"] else { Issue.record("no overview"); return }
            #expect(rows.first { $0["name"] == "scripted" }?["pending"] == 1)

            let resumed = try await client.admin(.post, "/admin/handlers/scripted/resume")
            #expect(try resumed.json["paused"] == false)
            try await eventually("delivered after resume") { try deliveryState(db, event: "msg_paused", handler: "scripted")?.state == "done" }
        }
    }

    @Test func employeesAndRecentLoginsAreListed() async throws {
        let folder = try TemporaryFolder()
        let store = try await SQLiteStore.open(path: folder.databasePath)
        for id in ["E1", "E2", "E3"] {
            _ = try await store.upsertEmployee(
                Employee(employeeID: id, name: "Employee \(id)", email: "\(id.lowercased())@example.com", department: "Production"),
                version: EmployeeVersion(sequence: 1)
            )
        }
        try await store.setAuth0SyncStatus(employeeID: "E2", status: .failed, error: "Auth0 answered 500")
        await store.close()
        try await withInlet(folder: folder, configure: configurePipeline) { client in
            #expect(try await client.syncUser(#"{"auth0Id":"auth0|ada","email":"ada@example.com","name":"Ada"}"#).status == .ok)
            let users = try await client.admin(.get, "/admin/users/recent?limit=5")
            #expect(users.status == .ok)
            #expect(try users.json["users"]?[0]?["auth0_id"] == "auth0|ada")
            #expect(try users.json["users"]?[0]?["logins_count"] == 1)

            let page = try await client.admin(.get, "/admin/employees?limit=2")
            #expect(try page.json["employees"]?[0]?["employee_id"] == "E1" && page.json["employees"]?[1]?["employee_id"] == "E2")
            #expect(try page.json["next_after"] == "E2")
            let rest = try await client.admin(.get, "/admin/employees?limit=2&after=E2")
            #expect(try rest.json["employees"]?[0]?["employee_id"] == "E3" && rest.json["next_after"] == .null)
            let failed = try await client.admin(.get, "/admin/employees?status=failed")
            #expect(try failed.json["employees"]?[0]?["employee_id"] == "E2")
            #expect(try failed.json["employees"]?[0]?["last_error"] == "Auth0 answered 500")
            #expect(try failed.json["employees"]?[1] == nil)
            #expect(try await client.admin(.get, "/admin/employees?status=lost").status == .badRequest)
            #expect(try await client.admin(.get, "/admin/users/recent?limit=0").status == .badRequest)
            for path in ["/admin/overview", "/admin/dead-letters", "/admin/handlers", "/admin/employees", "/admin/users/recent"] {
                let refused = try await client.execute(uri: path, method: .get, headers: [.authorization: "Bearer wrong"])
                #expect(refused.status == .unauthorized, "\(path)")
            }
        }
    }
}

extension JSONValue {
    /// The element at `index` of an array (nil for other values or out of range).
    subscript(index: Int) -> JSONValue? {
        guard case .array(let items) = self, items.indices.contains(index) else { return nil }
        return items[index]
    }
}
