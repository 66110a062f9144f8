import Auth0Management
import InletHTTPClient
import Foundation
import InletCore
import InletSQLite
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
                    "employee_id": "EMP-1", "full_name": "Ada Lovelace", "department": "Production", "phone_number": "+1 555 010 4821",
                    "timezone": "America/Chicago",
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
                #expect(try row.optionalString("auth0_user_id") == user.id)
                #expect(try row.optionalString("auth0_sync_status") == "created")
                #expect(try row.optionalString("auth0_account_created_at") != nil)
                #expect(try row.optionalString("role_assigned_at") != nil)
                #expect(try row.optionalString("assigned_role") == "production_associate")
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
                _ = try await store.upsertEmployee(
                    Employee(employeeID: "EMP-1", name: "Ada Lovelace", email: "ada.lovelace@example.com", department: "Shipping"), version: EmployeeVersion(sequence: 0)
                )
                // Queued before the department changed: its copy still says Production.
                let stale = try await storedEvent(store, type: "employee.provision", data: employeeData(department: "Production"))
                try await handler.handle(stale, context: handlerContext())
                #expect(try employeeRow(path, "EMP-1").value("department") == .text("Shipping"))
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
                #expect(try row.optionalString("auth0_user_id") == existing)
                #expect(try row.optionalString("auth0_sync_status") == "linked")
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
                #expect(try row.optionalString("auth0_user_id") != nil)
                #expect(try row.value("role_assigned_at") == .null)
                #expect(try row.optionalString("last_error")?.contains("production_associate") == true)
                #expect(context.auditNotes.map(\.outcome) == ["provision_failed"])

                // The operator creates the role and replays: the same account gets it.
                tenant.configure { $0.roles.append((id: "rol_new", name: "production_associate")) }
                try await handler.handle(event, context: handlerContext(attempt: 2))
                #expect(tenant.users.count == 1)
                #expect(tenant.users.first?.roles == ["rol_new"])
                #expect(try employeeRow(path, "EMP-1").value("role_assigned_at") != .null)
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
                #expect(try employeeRow(path, "EMP-1").value("auth0_user_id") == .null)

                // Re-delivery: 409, found by email, recognised as Inlet's own, role assigned.
                try await handler.handle(event, context: handlerContext(attempt: 2))
                #expect(tenant.users.count == 1)
                #expect(tenant.users.first?.roles == [tenant.roleID("production_associate")!])
                let row = try employeeRow(path, "EMP-1")
                #expect(try row.optionalString("auth0_user_id") == tenant.users.first?.id)
                #expect(try row.optionalString("auth0_sync_status") == "created")
                #expect(try row.value("role_assigned_at") != .null)
            }
        }
    }

    @Test(arguments: ["employee.created", EventType.employeeProvision.rawValue])
    func aCrashBeforeRecordingTheAccountThenAnEmailChangeStillEndsWithOneAccount(retriedAs type: String) async throws {
        try await withTenant { tenant, http in
            try await withStore { store, path in
                let client = try makeClient(tenant, http: http)
                let handler = ProvisioningHandler(client: client, store: store)
                let created = try await storedEvent(store, type: "employee.created", data: employeeData())
                // Auth0 stores the user, then the process dies before it hears back.
                tenant.configure { $0.hangCreateAfterStoring = 1 }
                let attempt = Task { try await handler.handle(created, context: handlerContext()) }
                try await eventually("the tenant stored the user") { tenant.users.count == 1 }
                attempt.cancel()
                _ = await attempt.result
                #expect(try employeeRow(path, "EMP-1").value("auth0_user_id") == .null)

                // The email changes meanwhile; metadata-sync only records it (no account yet).
                let moved = try await storedEvent(store, type: "employee.updated", data: employeeData(email: "Ada.King@Example.com"))
                try await MetadataSyncHandler(client: client, store: store).handle(moved, context: handlerContext())
                #expect(try employeeRow(path, "EMP-1").optionalString("email") == "Ada.King@Example.com")

                // The retry: the same employee.created redelivered (its copy is stale), or an
                // operator's employee.provision (it reads the row: the new email).
                let retry = type == "employee.created" ? created : try await storedEvent(store, type: type, data: employeeData(email: "Ada.King@Example.com"))
                try await handler.handle(retry, context: handlerContext(attempt: 2))
                #expect(tenant.users.count == 1)
                #expect(tenant.createRequests.count == 1)
                let user = try #require(tenant.users.first)
                #expect(user.email == "ada.king@example.com")
                #expect(user.roles == [tenant.roleID("production_associate")!])
                let row = try employeeRow(path, "EMP-1")
                #expect(try row.optionalString("auth0_user_id") == user.id)
                #expect(try row.optionalString("auth0_sync_status") == "created")
                #expect(try row.optionalString("email") == "Ada.King@Example.com")
                #expect(try row.optionalString("auth0_email") == "ada.king@example.com")
            }
        }
    }

    @Test func anIntentLeftByAnAttemptThatNeverReachedAuth0LeadsToOneCreate() async throws {
        try await withTenant { tenant, http in
            try await withStore { store, path in
                let handler = ProvisioningHandler(client: try makeClient(tenant, http: http), store: store)
                let event = try await storedEvent(store, type: "employee.created", data: Self.numeric(42))
                // An attempt that recorded its intent and died before its request left.
                _ = try await store.upsertEmployee(
                    Employee(employeeID: "42", name: "Ada Lovelace", email: "ada.lovelace@example.com", department: "Production", employeeIDIsNumber: true),
                    version: EmployeeVersion(sequence: 0)
                )
                try await store.recordAuth0CreateIntent(employeeID: "42", email: "ada.lovelace@example.com")
                // The search finds an account another system made with the same id: not Inlet's.
                tenant.addUser(email: "someone@example.com", verified: false, appMetadata: ["employee_id": 42, "created_by": "other_system"])

                try await handler.handle(event, context: handlerContext(attempt: 2))
                #expect(tenant.requests("GET", "/api/v2/users-by-email").first?.query == "email=ada.lovelace%40example.com")
                let search = try #require(tenant.requests.first { $0.method == "GET" && $0.path == "/api/v2/users" })
                #expect(search.query == "q=app_metadata.employee_id%3A42&search_engine=v3")
                #expect(tenant.createRequests.map(\.status) == [201])
                #expect(tenant.users.count == 2)
                #expect(try employeeRow(path, "42").optionalString("auth0_user_id") == tenant.user(email: "ada.lovelace@example.com")?.id)
            }
        }
    }

    @Test func anOldEmployeeCreatedReplayedAfterAnUpdateLeavesTheNewerValues() async throws {
        try await withTenant { tenant, http in
            try await withStore { store, path in
                let client = try makeClient(tenant, http: http)
                let provisioning = ProvisioningHandler(client: client, store: store)
                let sync = MetadataSyncHandler(client: client, store: store)
                let created = try await storedEvent(store, type: "employee.created", data: employeeData())
                try await provisioning.handle(created, context: handlerContext())
                let updated = try await storedEvent(store, type: "employee.updated", data: employeeData(email: "ada.king@example.com", department: "Shipping"))
                try await sync.handle(updated, context: handlerContext())

                // `inlet replay` of the old employee.created.
                try await provisioning.handle(created, context: handlerContext())
                var row = try employeeRow(path, "EMP-1")
                #expect(try row.optionalString("email") == "ada.king@example.com")
                #expect(try row.optionalString("department") == "Shipping")
                #expect(tenant.users.count == 1)
                #expect(tenant.users.first?.email == "ada.king@example.com")

                // A newer update, then the older one redelivered: it patches the newer values.
                let newer = try await storedEvent(store, type: "employee.updated", data: employeeData(email: "ada.king@example.com", department: "Quality"))
                try await sync.handle(newer, context: handlerContext())
                try await sync.handle(updated, context: handlerContext(attempt: 2))
                row = try employeeRow(path, "EMP-1")
                #expect(try row.optionalString("department") == "Quality")
                #expect(tenant.users.first?.appMetadata?["department"] == "Quality")
            }
        }
    }

    @Test func anEmployeeCreatedThatOccurredBeforeAnUpdateButArrivesLaterKeepsTheUpdate() async throws {
        try await withTenant { tenant, http in
            try await withStore { store, path in
                let client = try makeClient(tenant, http: http)
                let provisioning = ProvisioningHandler(client: client, store: store)
                let sync = MetadataSyncHandler(client: client, store: store)
                // The sender's clock says created at 10:00, updated at 10:05 (offset form); the
                // update arrives first.
                let updated = try await storedEvent(
                    store, type: "employee.updated", data: employeeData(department: "Shipping"), extra: [("occurred_at", "2026-11-20T04:05:00-06:00")]
                )
                try await sync.handle(updated, context: handlerContext())
                let created = try await storedEvent(
                    store, type: "employee.created", data: employeeData(department: "Production"), extra: [("occurred_at", "2026-11-20T10:00:00Z")]
                )
                try await provisioning.handle(created, context: handlerContext())
                #expect(try employeeRow(path, "EMP-1").optionalString("department") == "Shipping")
                #expect(tenant.createRequests.first?.json?["app_metadata"]?["department"] == "Shipping")

                // A later occurred_at applies.
                let later = try await storedEvent(
                    store, type: "employee.updated", data: employeeData(department: "Quality"), extra: [("occurred_at", "2026-11-20T10:06:00.5Z")]
                )
                try await sync.handle(later, context: handlerContext())
                #expect(try employeeRow(path, "EMP-1").optionalString("department") == "Quality")
            }
        }
    }

    @Test func employeeIDKeepsTheJSONTypeTheSenderGaveIt() async throws {
        try await withTenant { tenant, http in
            try await withStore { store, _ in
                let client = try makeClient(tenant, http: http)
                let handler = ProvisioningHandler(client: client, store: store)
                let sync = MetadataSyncHandler(client: client, store: store)
                let number = Self.numeric(42)
                try await handler.handle(try await storedEvent(store, type: "employee.created", data: number), context: handlerContext())
                try await handler.handle(try await storedEvent(store, type: "employee.created", data: employeeData("43", email: "b@example.com")), context: handlerContext())

                let creates = tenant.createRequests.compactMap(\.json)
                #expect(creates.count == 2)
                #expect(creates[0]["user_metadata"]?["employee_id"] == .int(42))
                #expect(creates[0]["app_metadata"]?["employee_id"] == .int(42))
                #expect(creates[0]["app_metadata"]?["internal_id"] == .int(42))
                #expect(creates[1]["user_metadata"]?["employee_id"] == "43")
                #expect(creates[1]["app_metadata"]?["employee_id"] == "43")
                #expect(creates[1]["app_metadata"]?["internal_id"] == "43")
                // As stored: the admin provision route rebuilds the event from the row.
                #expect(try await store.employee(id: "42")?.employee.json["employee_id"] == .int(42))
                #expect(try await store.employee(id: "43")?.employee.json["employee_id"] == "43")

                // And metadata-sync patches it as the same type.
                try await sync.handle(try await storedEvent(store, type: "employee.updated", data: Self.numeric(42, department: "Shipping")), context: handlerContext())
                let patch = try #require(tenant.requests("PATCH", "/api/v2/users/").last?.json)
                #expect(patch["user_metadata"]?["employee_id"] == .int(42))
                #expect(patch["app_metadata"]?["employee_id"] == .int(42))
            }
        }
    }

    @Test func aConflictWithAnUnverifiedAccountInletDidNotCreateIsDeadLetteredNamingIt() async throws {
        try await withTenant { tenant, http in
            try await withStore { store, path in
                // Someone signed up with the new hire's address before the record arrived.
                let stranger = tenant.addUser(email: "ada.lovelace@example.com", verified: false)
                let handler = ProvisioningHandler(client: try makeClient(tenant, http: http), store: store)
                var options = HandlerOptions()
                options.backoffBase = 0.05
                let event = NewEvent(
                    source: "productivity", id: "evt_1", type: "employee.created",
                    payload: JSONValue.object([("type", "employee.created"), ("data", employeeData())]).serializedString
                )
                try await withDispatcher(store: store, handlers: [(handler, options)]) { dispatcher, _ in
                    _ = try await store.appendEvents(planned([event], for: "provisioning"))
                    dispatcher.notify()
                    try await eventually("the delivery finished") {
                        try sqlCount(path, "SELECT count(*) AS count FROM deliveries WHERE state IN ('done', 'dead')") == 1
                    }
                }
                #expect(try sqlCount(path, "SELECT count(*) AS count FROM deliveries WHERE state = 'dead' AND dead_reason = 'permanent'") == 1)
                let reason = try #require(try SQLiteConnection(path: path, readOnly: true).row("SELECT last_error FROM deliveries")?.optionalString("last_error"))
                #expect(reason.contains(stranger))
                #expect(reason.contains("not linked"))
                let row = try employeeRow(path, "EMP-1")
                #expect(try row.value("auth0_user_id") == .null)
                #expect(try row.optionalString("auth0_sync_status") == "failed")
                #expect(try row.optionalString("last_error")?.contains(stranger) == true)
                #expect(tenant.users.first?.roles == [])

                // Once the owner verifies the address, a replay links it.
                tenant.configure { $0.users[stranger]?.set("email_verified", true) }
                let replay = try await storedEvent(store, type: "employee.created", data: employeeData())
                try await handler.handle(replay, context: handlerContext(attempt: 2))
                #expect(try employeeRow(path, "EMP-1").optionalString("auth0_user_id") == stranger)
                #expect(try employeeRow(path, "EMP-1").optionalString("auth0_sync_status") == "linked")
                #expect(tenant.users.count == 1)
                #expect(tenant.users.first?.roles.count == 1)
            }
        }
    }

    @Test func aConflictNeverLinksAnAccountWithAnotherEmail() async throws {
        try await withTenant { tenant, http in
            try await withStore { store, path in
                tenant.addUser(email: "ada.lovelace@example.com", verified: false)
                // A lagging or loose index answers with somebody else's verified account only.
                let other = tenant.addUser(email: "grace.hopper@example.com")
                tenant.configure { $0.usersByEmailOverride["ada.lovelace@example.com"] = [other] }
                let handler = ProvisioningHandler(client: try makeClient(tenant, http: http), store: store)
                let event = try await storedEvent(store, type: "employee.created", data: employeeData())
                do {
                    try await handler.handle(event, context: handlerContext())
                    Issue.record("expected a failure")
                } catch let error as HandlerError {
                    #expect(!error.isPermanent)
                }
                #expect(try employeeRow(path, "EMP-1").value("auth0_user_id") == .null)
                #expect(tenant.users.allSatisfy { $0.roles.isEmpty })
            }
        }
    }

    /// `employeeData()` with `employee_id` as a JSON number.
    static func numeric(_ id: Int, department: String = "Production") -> JSONValue {
        guard case .object(var members) = employeeData(department: department) else { return .null }
        members[0] = ("employee_id", .int(id))
        return .object(members)
    }

    @Test func aCrashBetweenRecordingTheAccountAndAssigningTheRoleResumes() async throws {
        try await withTenant { tenant, http in
            try await withStore { store, path in
                let handler = ProvisioningHandler(client: try makeClient(tenant, http: http), store: store)
                let event = try await storedEvent(store, type: "employee.created", data: employeeData())
                // State left by an attempt that died after recording the account.
                let id = tenant.addUser(email: "ada.lovelace@example.com", appMetadata: ["employee_id": "EMP-1", "created_by": "productivity_system"])
                _ = try await store.upsertEmployee(
                    Employee(employeeID: "EMP-1", name: "Ada Lovelace", email: "ada.lovelace@example.com", department: "Production"), version: EmployeeVersion(sequence: 0)
                )
                #expect(try await store.linkAuth0Account(employeeID: "EMP-1", auth0UserID: id, status: .created, email: "ada.lovelace@example.com"))

                try await handler.handle(event, context: handlerContext(attempt: 2))
                #expect(tenant.createRequests.isEmpty)
                #expect(tenant.users.count == 1)
                #expect(tenant.users.first?.roles.count == 1)
                #expect(try employeeRow(path, "EMP-1").value("role_assigned_at") != .null)
            }
        }
    }

    @Test func withoutCredentialsBothHandlersAreRegisteredButOffUnlessEnabledExplicitly() async throws {
        try await withStore { store, _ in
            let clients = ManagementClientProvider(http: OutboundClient())
            let registry = try HandlerRegistry(
                factories: [ProvisioningHandler.factory(clients: clients), MetadataSyncHandler.factory(clients: clients)],
                settings: [:], environment: ["AUTH0_DOMAIN": "tenant.example.com"], stores: store
            )
            #expect(registry.active.isEmpty)
            #expect(registry.inactive.map(\.name) == ["provisioning", "metadata-sync"])
            for entry in registry.inactive {
                #expect(entry.reason.contains("AUTH0_CLIENT_ID") && entry.reason.contains("AUTH0_CLIENT_SECRET"))
                #expect(!entry.reason.contains("AUTH0_DOMAIN"))
                // Off: nothing is planned for it, and the reason says how to turn it on.
                #expect(entry.waitingOn == nil)
                #expect(entry.reason.contains("handlers.\(entry.name).enabled to true"))
            }
            #expect(registry.subscribers(of: "auth0.user.login").isEmpty)
            #expect(registry.subscribers(of: "employee.provision").isEmpty)
            // Enabled explicitly, they wait for the credentials: their deliveries are planned.
            let waiting = try HandlerRegistry(
                factories: [ProvisioningHandler.factory(clients: clients), MetadataSyncHandler.factory(clients: clients)],
                settings: ["provisioning": ["enabled": true], "metadata-sync": ["enabled": true]],
                environment: ["AUTH0_DOMAIN": "tenant.example.com"], stores: store
            )
            #expect(waiting.active.isEmpty)
            #expect(waiting.inactive.map { $0.waitingOn != nil } == [true, true])
            #expect(waiting.subscribers(of: "auth0.user.login") == ["metadata-sync"])
            #expect(waiting.subscribers(of: "employee.provision") == ["provisioning"])
            let configured = try HandlerRegistry(
                factories: [ProvisioningHandler.factory(clients: clients), MetadataSyncHandler.factory(clients: clients)],
                settings: [:],
                environment: ["AUTH0_DOMAIN": "tenant.example.com", "AUTH0_CLIENT_ID": "id", "AUTH0_CLIENT_SECRET": "secret"], stores: store
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
                    _ = try await store.appendEvents(planned(events, for: "provisioning"))
                    dispatcher.notify()
                    try await eventually(timeout: .seconds(45), "all deliveries finished") {
                        try sqlCount(path, "SELECT count(*) AS count FROM deliveries WHERE state IN ('done', 'dead')") == 20
                    }
                }
                #expect(try sqlCount(path, "SELECT count(*) AS count FROM deliveries WHERE state = 'dead'") == 0)
                #expect(try sqlCount(path, "SELECT count(*) AS count FROM employees WHERE auth0_sync_status = 'created'") == 20)
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
                #expect(try employeeRow(path, "EMP-1").optionalString("auth0_email") == "ada.king@example.com")

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
                #expect(try employeeRow(path, "EMP-1").optionalString("auth0_sync_status") == "verified")

                // Deactivation blocks the account.
                let gone = try await storedEvent(store, type: "employee.deactivated", data: employeeData(email: "ada.king@example.com"))
                try await sync.handle(gone, context: handlerContext())
                #expect(tenant.requests("PATCH", "/api/v2/users/").last?.json == ["blocked": true])
                #expect(tenant.users.first?.blocked == true)
                #expect(try employeeRow(path, "EMP-1").optionalInt("blocked") == 1)
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
                #expect(try employeeRow(path, "EMP-9").optionalString("auth0_sync_status") == "pending")
            }
        }
    }
}
