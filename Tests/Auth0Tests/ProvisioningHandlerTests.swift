import Auth0
import Foundation
import InletCore
import InletTestSupport
import Logging
import MetadataSyncHandler
import ProvisioningHandler
import Testing

@Suite(.timeLimit(.minutes(1)))
struct ProvisioningHandlerTests {
    @Test func anEmployeeGetsAnAccountWithMetadataAndTheDefaultRole() async throws {
        try await withTenant { tenant, http in
            try await withStore { store, path in
                let logs = LogCapture()
                let client = try makeClient(tenant, http: http, logger: logs.logger)
                let handler = ProvisioningHandler(client: client, store: store)
                let event = try await storedEvent(store, type: "employee.created", data: employeeData())
                let context = handlerContext(logger: logs.logger)
                try await handler.handle(event, context: context)

                let create = try #require(tenant.createRequests.first?.json)
                #expect(create["connection"] == "Username-Password-Authentication")
                #expect(create["email"] == "ada.lovelace@example.com")
                #expect(create["verify_email"] == true)
                #expect(create["email_verified"] == false)
                let password = try #require(create["password"]?.stringValue)
                #expect(password.count >= 32)
                #expect(create["user_metadata"] == [
                    "employee_id": "EMP-1", "full_name": "Ada Lovelace", "department": "Production", "timezone": "America/Chicago",
                    "phone_number": "+1 555 010 4821",
                ])
                let app = try #require(create["app_metadata"])
                #expect(app["employee_id"] == "EMP-1")
                #expect(app["internal_id"] == "EMP-1")
                #expect(app["department"] == "Production")
                #expect(app["role_code"] == "associate")
                #expect(app["created_by"] == "productivity_system")
                #expect(app["sync_status"] == "active")
                #expect(app["connecteam_id"] == "ct_1")
                #expect(app["created_at"]?.stringValue?.hasSuffix("Z") == true)

                let user = try #require(tenant.users.first)
                #expect(tenant.users.count == 1)
                #expect(user.roles == [tenant.roleID("production_associate")!])
                let row = try employeeRow(path, "EMP-1")
                #expect(row["auth0_user_id"]?.string == user.id)
                #expect(row["auth0_sync_status"]?.string == "created")
                #expect(row["auth0_account_created_at"]?.string != nil)
                #expect(row["role_assigned_at"]?.string != nil)
                #expect(row["assigned_role"]?.string == "production_associate")
                // The audit row, written by the dispatcher with the outcome.
                let audit = context.auditNotes
                #expect(audit.map(\.outcome) == ["account_created"])
                #expect(audit.first?.detail?.contains("duration_ms=") == true)
                #expect(audit.first?.detail?.contains(user.id) == true)

                // The password is neither stored nor logged.
                let database = try Data(contentsOf: URL(fileURLWithPath: path))
                let wal = (try? Data(contentsOf: URL(fileURLWithPath: path + "-wal"))) ?? Data()
                #expect(database.range(of: Data(password.utf8)) == nil)
                #expect(wal.range(of: Data(password.utf8)) == nil)
                #expect(!logs.all.joined().contains(password))
            }
        }
    }

    @Test func aProvisionedEmployeeIsSkippedUnlessForced() async throws {
        try await withTenant { tenant, http in
            try await withStore { store, path in
                let handler = ProvisioningHandler(client: try makeClient(tenant, http: http), store: store)
                let event = try await storedEvent(store, type: "employee.created", data: employeeData())
                let first = handlerContext(), second = handlerContext(attempt: 2)
                try await handler.handle(event, context: first)
                try await handler.handle(event, context: second)
                #expect(tenant.createRequests.count == 1)
                #expect((first.auditNotes + second.auditNotes).map(\.outcome) == ["account_created", "provision_skipped"])

                let forced = try await storedEvent(store, type: "employee.provision", data: employeeData(), extra: [("force", true)])
                try await handler.handle(forced, context: handlerContext())
                #expect(tenant.requests("GET", "/api/v2/users/").count == 1)
                #expect(tenant.createRequests.count == 1)
                #expect(tenant.users.count == 1)
                #expect(tenant.users.first?.roles.count == 1)
            }
        }
    }

    @Test func aProvisionEventUsesTheEmployeeAsStoredNotItsOwnCopy() async throws {
        try await withTenant { tenant, http in
            try await withStore { store, path in
                let handler = ProvisioningHandler(client: try makeClient(tenant, http: http), store: store)
                _ = try await store.upsertEmployee(Employee(employeeID: "EMP-1", name: "Ada Lovelace", email: "ada.lovelace@example.com", department: "Shipping"))
                // Queued before the department changed: its copy still says Production.
                let stale = try await storedEvent(store, type: "employee.provision", data: employeeData(department: "Production"))
                try await handler.handle(stale, context: handlerContext())
                #expect(try employeeRow(path, "EMP-1")["department"] == .text("Shipping"))
                #expect(tenant.users.first?.appMetadata?["department"] == "Shipping")
            }
        }
    }

    @Test(arguments: [
        (employeeData(email: "not-an-address"), "email"),
        (employeeData(department: ""), "department"),
        (employeeData(name: "  "), "name"),
        (JSONValue.object([("name", "A"), ("email", "a@example.com"), ("department", "P")]), "employee_id"),
    ])
    func anInvalidEmployeeIsAPermanentFailureWithAClearReason(data: JSONValue, field: String) async throws {
        try await withTenant { tenant, http in
            try await withStore { store, _ in
                let handler = ProvisioningHandler(client: try makeClient(tenant, http: http), store: store)
                let event = try await storedEvent(store, type: "employee.created", data: data)
                do {
                    try await handler.handle(event, context: handlerContext())
                    Issue.record("expected a permanent failure")
                } catch let error as HandlerError {
                    #expect(error.isPermanent)
                    #expect(error.message.contains("invalid employee record"))
                    #expect(error.message.contains(field), "\(error.message)")
                }
                #expect(tenant.requests.isEmpty)
            }
        }
    }

    @Test func anExistingAccountIsFoundByEmailAndLinked() async throws {
        try await withTenant { tenant, http in
            try await withStore { store, path in
                let existing = tenant.addUser(email: "ada.lovelace@example.com")
                let handler = ProvisioningHandler(client: try makeClient(tenant, http: http), store: store)
                let context = handlerContext()
                try await handler.handle(try await storedEvent(store, type: "employee.created", data: employeeData()), context: context)
                #expect(tenant.createRequests.first?.status == 409)
                #expect(tenant.requests("GET", "/api/v2/users-by-email").first?.query == "email=ada.lovelace%40example.com")
                #expect(tenant.users.count == 1)
                #expect(tenant.users.first?.roles.count == 1)
                let row = try employeeRow(path, "EMP-1")
                #expect(row["auth0_user_id"]?.string == existing)
                #expect(row["auth0_sync_status"]?.string == "linked")
                #expect(context.auditNotes.map(\.outcome) == ["account_linked"])
            }
        }
    }

    @Test func aMissingRoleIsAVisibleFailureAndAReplayFinishesTheJob() async throws {
        try await withTenant(roles: ["someone_else"]) { tenant, http in
            try await withStore { store, path in
                let handler = ProvisioningHandler(client: try makeClient(tenant, http: http), store: store)
                let event = try await storedEvent(store, type: "employee.created", data: employeeData())
                let context = handlerContext()
                do {
                    try await handler.handle(event, context: context)
                    Issue.record("expected a permanent failure")
                } catch let error as HandlerError {
                    #expect(error.isPermanent)
                    #expect(error.message.contains("production_associate"))
                    #expect(error.message.contains("does not exist"))
                }
                let row = try employeeRow(path, "EMP-1")
                #expect(row["auth0_user_id"]?.string != nil)
                #expect(row["role_assigned_at"] == .null)
                #expect(row["last_error"]?.string?.contains("production_associate") == true)
                #expect(context.auditNotes.map(\.outcome) == ["provision_failed"])

                // The operator creates the role and replays: the same account gets it.
                tenant.configure { $0.roles.append((id: "rol_new", name: "production_associate")) }
                try await handler.handle(event, context: handlerContext(attempt: 2))
                #expect(tenant.users.count == 1)
                #expect(tenant.users.first?.roles == ["rol_new"])
                #expect(try employeeRow(path, "EMP-1")["role_assigned_at"] != .null)
            }
        }
    }

    @Test func aCrashAfterAuth0CreatedTheUserEndsWithOneAccountAndTheRole() async throws {
        try await withTenant { tenant, http in
            try await withStore { store, path in
                let handler = ProvisioningHandler(client: try makeClient(tenant, http: http), store: store)
                let event = try await storedEvent(store, type: "employee.created", data: employeeData())
                // Auth0 stores the user, then the process dies before it hears back.
                tenant.configure { $0.hangCreateAfterStoring = 1 }
                let attempt = Task { try await handler.handle(event, context: handlerContext()) }
                try await eventually("the tenant stored the user") { tenant.users.count == 1 }
                attempt.cancel()
                _ = await attempt.result
                #expect(try employeeRow(path, "EMP-1")["auth0_user_id"] == .null)

                // Re-delivery: 409, found by email, recognised as Inlet's own, role assigned.
                try await handler.handle(event, context: handlerContext(attempt: 2))
                #expect(tenant.users.count == 1)
                #expect(tenant.users.first?.roles == [tenant.roleID("production_associate")!])
                let row = try employeeRow(path, "EMP-1")
                #expect(row["auth0_user_id"]?.string == tenant.users.first?.id)
                #expect(row["auth0_sync_status"]?.string == "created")
                #expect(row["role_assigned_at"] != .null)
            }
        }
    }

    @Test func aCrashBetweenRecordingTheAccountAndAssigningTheRoleResumes() async throws {
        try await withTenant { tenant, http in
            try await withStore { store, path in
                let handler = ProvisioningHandler(client: try makeClient(tenant, http: http), store: store)
                let event = try await storedEvent(store, type: "employee.created", data: employeeData())
                // State left by an attempt that died after recording the account.
                let id = tenant.addUser(email: "ada.lovelace@example.com", appMetadata: ["employee_id": "EMP-1", "created_by": "productivity_system"])
                _ = try await store.upsertEmployee(Employee(employeeID: "EMP-1", name: "Ada Lovelace", email: "ada.lovelace@example.com", department: "Production"))
                #expect(try await store.linkAuth0Account(employeeID: "EMP-1", auth0UserID: id, status: .created, email: "ada.lovelace@example.com"))

                try await handler.handle(event, context: handlerContext(attempt: 2))
                #expect(tenant.createRequests.isEmpty)
                #expect(tenant.users.count == 1)
                #expect(tenant.users.first?.roles.count == 1)
                #expect(try employeeRow(path, "EMP-1")["role_assigned_at"] != .null)
            }
        }
    }

    @Test func withoutCredentialsBothHandlersAreRegisteredButInactive() async throws {
        try await withStore { store, _ in
            let clients = ManagementClientProvider(http: HTTPClient())
            let registry = try HandlerRegistry(
                factories: [ProvisioningHandler.factory(clients: clients), MetadataSyncHandler.factory(clients: clients)],
                settings: [:], environment: ["AUTH0_DOMAIN": "tenant.example.com"], store: store
            )
            #expect(registry.active.isEmpty)
            #expect(registry.inactive.map(\.name) == ["provisioning", "metadata-sync"])
            for entry in registry.inactive {
                #expect(entry.reason.contains("AUTH0_CLIENT_ID") && entry.reason.contains("AUTH0_CLIENT_SECRET"))
                #expect(!entry.reason.contains("AUTH0_DOMAIN"))
            }
            let configured = try HandlerRegistry(
                factories: [ProvisioningHandler.factory(clients: clients), MetadataSyncHandler.factory(clients: clients)],
                settings: [:],
                environment: ["AUTH0_DOMAIN": "tenant.example.com", "AUTH0_CLIENT_ID": "id", "AUTH0_CLIENT_SECRET": "secret"], store: store
            )
            #expect(configured.active.map(\.name) == ["provisioning", "metadata-sync"])
            #expect(configured.subscribers(of: "employee.provision") == ["provisioning"])
            #expect(configured.subscribers(of: "auth0.user.login") == ["metadata-sync"])
        }
    }

    @Test func twentyEmployeesAgainstAFreeTenantFinishWithoutDeadLetters() async throws {
        try await withTenant { tenant, http in
            try await withStore { store, path in
                tenant.limit(burst: 2, perSecond: 2)
                let client = try makeClient(tenant, http: http)
                var options = ProvisioningHandler.Options()
                // One call per employee keeps this test under ten seconds at 2 requests/s.
                options.enableRoleAssignment = false
                let handler = ProvisioningHandler(client: client, store: store, options: options)
                var handlerOptions = HandlerOptions()
                handlerOptions.concurrency = 4
                handlerOptions.backoffBase = 0.2
                let events = (1...20).map { index in
                    NewEvent(
                        source: "admin", id: "import:E\(index)", type: "employee.created",
                        payload: JSONValue.object([("type", "employee.created"), ("data", employeeData("E\(index)", email: "e\(index)@example.com"))]).serializedString
                    )
                }
                try await withDispatcher(store: store, handlers: [(handler, handlerOptions)]) { dispatcher, _ in
                    _ = try await store.appendEvents(events, handlers: ["provisioning"])
                    dispatcher.notify()
                    try await eventually(timeout: .seconds(45), "all deliveries finished") {
                        try sqlCount(path, "SELECT count(*) FROM deliveries WHERE state IN ('done', 'dead')") == 20
                    }
                }
                #expect(try sqlCount(path, "SELECT count(*) FROM deliveries WHERE state = 'dead'") == 0)
                #expect(try sqlCount(path, "SELECT count(*) FROM employees WHERE auth0_sync_status = 'created'") == 20)
                #expect(tenant.users.count == 20)
                #expect(tenant.createRequests.filter { $0.status == 201 }.count == 20)
                // Each account's audit row, committed by the dispatcher with the delivery's outcome.
                #expect(try auditRows(path, handler: "provisioning").map(\.outcome) == Array(repeating: "account_created", count: 20))
            }
        }
    }
}

@Suite(.timeLimit(.minutes(1)))
struct MetadataSyncHandlerTests {
    @Test func updatesPatchOnlyOwnedKeysDeactivationBlocksAndAVerifiedLoginIsRecorded() async throws {
        try await withTenant { tenant, http in
            try await withStore { store, path in
                let client = try makeClient(tenant, http: http)
                let provisioning = ProvisioningHandler(client: client, store: store)
                let sync = MetadataSyncHandler(client: client, store: store)
                try await provisioning.handle(try await storedEvent(store, type: "employee.created", data: employeeData()), context: handlerContext())
                let userID = try #require(tenant.users.first?.id)

                // An update without an email change.
                let same = try await storedEvent(store, type: "employee.updated", data: employeeData(department: "Quality Assurance", role: "qa_inspector"))
                try await sync.handle(same, context: handlerContext())
                let first = try #require(tenant.requests("PATCH", "/api/v2/users/").last?.json)
                #expect(first["email"] == nil)
                #expect(first["user_metadata"] == [
                    "employee_id": "EMP-1", "full_name": "Ada Lovelace", "department": "Quality Assurance", "phone_number": "+1 555 010 4821",
                ])
                #expect(first["app_metadata"] == ["employee_id": "EMP-1", "department": "Quality Assurance", "role_code": "qa_inspector", "connecteam_id": "ct_1"])
                // Keys Inlet does not send survive (first-level merge).
                let user = try #require(tenant.users.first)
                #expect(user.appMetadata?["created_by"] == "productivity_system")
                #expect(user.userMetadata?["timezone"] == "America/Chicago")
                #expect(user.appMetadata?["department"] == "Quality Assurance")

                // An email change patches the email, once.
                let moved = try await storedEvent(store, type: "employee.updated", data: employeeData(email: "Ada.King@Example.com"))
                try await sync.handle(moved, context: handlerContext())
                try await sync.handle(moved, context: handlerContext(attempt: 2))
                let patches = tenant.requests("PATCH", "/api/v2/users/")
                #expect(patches.count == 3)
                #expect(patches[1].json?["email"] == "ada.king@example.com")
                #expect(patches[2].json?["email"] == nil)
                #expect(tenant.users.first?.email == "ada.king@example.com")
                #expect(try employeeRow(path, "EMP-1")["auth0_email"]?.string == "ada.king@example.com")

                // A verified login marks the employee verified.
                let login = try await store.appendEvent(
                    source: "auth0", id: "login-1", type: "auth0.user.login",
                    payload: JSONValue.object([("auth0Id", .string(userID)), ("emailVerified", true)]).serializedString, handlers: []
                )
                try await sync.handle(
                    Event(seq: login.seq, source: "auth0", id: "login-1", type: "auth0.user.login", receivedAt: "",
                          payload: JSONValue.object([("auth0Id", .string(userID)), ("emailVerified", true)]).serializedString),
                    context: handlerContext()
                )
                #expect(try employeeRow(path, "EMP-1")["auth0_sync_status"]?.string == "verified")

                // Deactivation blocks the account.
                let gone = try await storedEvent(store, type: "employee.deactivated", data: employeeData(email: "ada.king@example.com"))
                try await sync.handle(gone, context: handlerContext())
                #expect(tenant.requests("PATCH", "/api/v2/users/").last?.json == ["blocked": true])
                #expect(tenant.users.first?.blocked == true)
                #expect(try employeeRow(path, "EMP-1")["blocked"]?.int == 1)
                #expect(tenant.users.count == 1)
            }
        }
    }

    @Test func anEmployeeWithoutAnAccountIsOnlyRecorded() async throws {
        try await withTenant { tenant, http in
            try await withStore { store, path in
                let sync = MetadataSyncHandler(client: try makeClient(tenant, http: http), store: store)
                try await sync.handle(try await storedEvent(store, type: "employee.updated", data: employeeData("EMP-9")), context: handlerContext())
                #expect(tenant.requests.isEmpty)
                #expect(try employeeRow(path, "EMP-9")["auth0_sync_status"]?.string == "pending")
            }
        }
    }
}
