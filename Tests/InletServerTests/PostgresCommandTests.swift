import Foundation
import InletCore
import InletPostgres
import InletSQLite
import InletTestSupport
import Testing

/// The operator's subcommands against PostgreSQL, run as the real executable: `migrate`,
/// `events`, `replay`, `purge`, `handlers`, and `inlet copy` of a SQLite database with every
/// kind of row, read back through the PostgreSQL store.
@Suite(.timeLimit(.minutes(5))) struct PostgresCommandTests {
    /// Runs `inlet ARGS` to its end; its standard output and error go through files, so
    /// neither can fill a pipe while the other is read.
    static func inlet(_ arguments: [String], environment: [String: String]) throws -> (status: Int32, output: String, errors: String) {
        let folder = try TemporaryFolder()
        let outputPath = folder.path + "/stdout"
        let errorsPath = folder.path + "/stderr"
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errorsPath, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let errors = try FileHandle(forWritingTo: URL(fileURLWithPath: errorsPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CrashRecoveryTests.binary)
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        merged["INLET_DATABASE"] = nil
        process.environment = merged
        process.standardOutput = output
        process.standardError = errors
        try startProcess(process)
        process.waitUntilExit()
        try output.close()
        try errors.close()
        return (
            process.terminationStatus, try String(contentsOfFile: outputPath, encoding: .utf8),
            try String(contentsOfFile: errorsPath, encoding: .utf8)
        )
    }

    static func json(_ text: some StringProtocol) throws -> JSONValue {
        try JSONDocument.parse(String(text)).root.value
    }

    @Test func migrateEventsReplayPurgeAndHandlersWorkOnPostgreSQL() async throws {
        let database = try TestPostgresSchema()
        let environment = database.passwordEnvironment
        var printed = ""
        func inlet(_ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
            let result = try Self.inlet(arguments + ["--database", database.url], environment: environment)
            printed += result.output + result.errors
            return result
        }

        let migrated = try inlet(["migrate"])
        #expect(migrated.status == 0, "\(migrated.errors)")
        #expect(migrated.output.contains("schema version \(PostgresStore.latestVersion) (applied "))
        #expect(migrated.output.hasPrefix(database.url))
        let again = try inlet(["migrate"])
        #expect(again.status == 0 && again.output.contains("(already up to date)"))

        let store = try await database.open()
        _ = try await store.appendEvent(source: "productivity", id: "msg_pg", type: "employee.created", payload: employeeEvent(), handlers: ["audit"])
        let claim = try #require(try await store.claimDue(handler: "audit", limit: 1, leaseSeconds: 60).claims.first)
        try await store.complete([Completion(claim: claim, handler: "audit", outcome: .dead(error: "refused", reason: .permanent))])

        let listed = try inlet(["events", "list", "--status", "dead"])
        #expect(listed.status == 0, "\(listed.errors)")
        let lines = listed.output.split(separator: "\n")
        #expect(lines.count == 1)
        let event = try Self.json(try #require(lines.first))
        #expect(event["id"] == "msg_pg")
        guard case .array(let deliveries)? = event["deliveries"], let delivery = deliveries.first else { Issue.record("no deliveries"); return }
        #expect(delivery["state"] == "dead" && delivery["last_error"] == "refused")
        #expect(try inlet(["events", "list", "--status", "pending"]).output.isEmpty)

        let shown = try inlet(["events", "show", "msg_pg"])
        #expect(shown.status == 0)
        #expect(try Self.json(shown.output)["payload"]?["data"]?["employee_id"] == "EMP-1")
        #expect(try inlet(["events", "show", "nope"]).status != 0)

        // Writes go straight to PostgreSQL: no admin API, whether a server runs or not.
        let replayed = try inlet(["replay", "--dead"])
        #expect(replayed.status == 0, "\(replayed.errors)")
        #expect(try Self.json(replayed.output)["replayed"] == 1)
        let pending = try #require(try await store.eventRecord(id: "msg_pg")?.deliveries.first)
        #expect(pending.state == .pending && pending.attempts == 0)
        let byID = try inlet(["replay", "msg_pg"])
        #expect(try Self.json(byID.output)["replayed"] == 1)

        let handlers = try inlet(["handlers"])
        #expect(handlers.status == 0)
        let entries = try handlers.output.split(separator: "\n").map { try Self.json($0) }
        #expect(entries.first { $0["handler"] == "audit" }?["enabled"] == true)

        let reclaimed = try #require(try await store.claimDue(handler: "audit", limit: 1, leaseSeconds: 60).claims.first)
        try await store.complete([Completion(claim: reclaimed, handler: "audit", outcome: .dead(error: "refused again", reason: .permanent))])
        let purged = try inlet(["purge", "--dead", "--older-than", "0"])
        #expect(purged.status == 0, "\(purged.errors)")
        #expect(try Self.json(purged.output)["purged"] == 1)
        #expect(try await store.eventRecord(id: "msg_pg") == nil)
        await store.close()

        #expect(!printed.contains(try #require(database.location.password)), "the password was printed")
    }

    /// A SQLite database with users, employees (Auth0 columns set), events, deliveries in
    /// every state (pending, running, done, dead) and audit rows, copied and read back
    /// through the PostgreSQL store; a second copy into the same database is refused.
    @Test func copyMovesEveryKindOfRowIntoPostgreSQL() async throws {
        let folder = try TemporaryFolder()
        let path = folder.databasePath
        // An hour ago: the copied due times and leases are then past on PostgreSQL's clock.
        let hourAgo = Timestamp(millisecondsSinceEpoch: WallClock.system.now().millisecondsSinceEpoch - 3_600_000)
        let sqlite = try await SQLiteStore.open(path: path, options: .init(clock: WallClock { hourAgo }))

        _ = try await sqlite.recordLogin(
            UserLogin(auth0ID: "auth0|ada", email: "ada@example.com", name: "Ada", picture: "https://example.com/ada.png",
                      emailVerified: true, loginsCount: 7, ip: "203.0.113.9"),
            event: NewEvent(source: .auth0, id: "login-ada", type: .userLogin, payload: #"{"auth0Id":"auth0|ada"}"#)
        )
        _ = try await sqlite.recordLogin(
            UserLogin(auth0ID: "auth0|bob"), event: NewEvent(source: .auth0, id: "login-bob", type: .userLogin, payload: #"{"auth0Id":"auth0|bob"}"#)
        )

        let linked = Employee(
            employeeID: "4711", name: "Grace Hopper", email: "grace@example.com", department: "Navy", phoneNumber: "+15550100",
            connecteamID: "ct-9", roleCode: "ADM", employeeIDIsNumber: true
        )
        _ = try await sqlite.upsertEmployee(linked, version: EmployeeVersion(occurredAt: hourAgo, sequence: 3))
        try await sqlite.recordAuth0CreateIntent(employeeID: "4711", email: "grace@example.com")
        #expect(try await sqlite.linkAuth0Account(employeeID: "4711", auth0UserID: "auth0|grace", status: .created, email: "grace@example.com"))
        try await sqlite.recordRoleAssigned(employeeID: "4711", role: "admin")
        try await sqlite.setBlocked(employeeID: "4711", blocked: true)
        let intent = Employee(employeeID: "EMP-2", name: "Alan Turing", email: "alan@example.com", department: "Research")
        _ = try await sqlite.upsertEmployee(intent, version: EmployeeVersion(sequence: 4))
        try await sqlite.recordAuth0CreateIntent(employeeID: "EMP-2", email: "alan@example.com")
        try await sqlite.setAuth0SyncStatus(employeeID: "EMP-2", status: .failed, error: "Auth0 answered 500")

        let ids = ["evt-pending", "evt-running", "evt-done", "evt-dead"]
        _ = try await sqlite.appendEvents(ids.map {
            NewEvent(
                source: .productivity, id: $0, type: .employeeCreated, payload: employeeEvent(), handlers: $0 == "evt-pending" ? ["h1", "h2"] : ["h1"],
                headers: $0 == "evt-done" ? [("content-type", "application/json"), ("webhook-id", "msg_1")] : [],
                subjects: $0 == "evt-done" ? ["4711", "grace@example.com"] : []
            )
        })
        try await sqlite.setPaused(true, handler: "h3")
        let claims = try await sqlite.claimDue(handler: "h1", limit: 10, leaseSeconds: 60).claims
        #expect(claims.count == 4)
        func claim(_ id: String) throws -> Claim { try #require(claims.first { $0.event.id == id }) }
        try await sqlite.complete([
            Completion(claim: try claim("evt-pending"), handler: "h1", outcome: .retry(at: hourAgo.adding(seconds: 5), error: "timed out")),
            Completion(
                claim: try claim("evt-done"), handler: "h1", outcome: .done, auditOutcome: true,
                notes: [AuditNote(outcome: "noted", detail: "a handler's own row")]
            ),
            Completion(claim: try claim("evt-dead"), handler: "h1", outcome: .dead(error: "refused", reason: .permanent), auditOutcome: true),
        ])
        // evt-running keeps its claim: a lease that ended 59 minutes ago.
        let expected = (
            users: try query(path, "SELECT count(*) AS n FROM users")[0].int("n"),
            events: try query(path, "SELECT count(*) AS n FROM events")[0].int("n"),
            deliveries: try query(path, "SELECT count(*) AS n FROM deliveries")[0].int("n"),
            audit: try query(path, "SELECT count(*) AS n FROM audit_log")[0].int("n"),
            attempts: try query(path, "SELECT count(*) AS n FROM delivery_attempts")[0].int("n")
        )
        #expect(expected.attempts == 3)
        #expect(expected.audit >= 3)
        #expect(try query(path, "SELECT DISTINCT state FROM deliveries ORDER BY state").map { try $0.string("state") } == ["dead", "done", "pending", "running"])

        let database = try TestPostgresSchema()
        let copied = try Self.inlet(["copy", "--from", path, "--to", database.url, "--batch-size", "2"], environment: database.passwordEnvironment)
        #expect(copied.status == 0, "\(copied.errors)")
        let report = try Self.json(copied.output)
        #expect(report["users"] == .int(expected.users) && report["employees"] == 2)
        #expect(report["events"] == .int(expected.events) && report["deliveries"] == .int(expected.deliveries))
        #expect(report["audit_rows"] == .int(expected.audit) && report["attempts"] == .int(expected.attempts))
        #expect(report["event_headers"] == 1 && report["subjects"] == 2 && report["paused_handlers"] == 1)
        #expect(report["to"] == .string(database.url))
        #expect(!(copied.output + copied.errors).contains(try #require(database.location.password)))

        let postgres = try await database.open()
        for id in ["auth0|ada", "auth0|bob"] {
            let user = try await postgres.user(auth0ID: id)
            let original = try await sqlite.user(auth0ID: id)
            #expect(user != nil && user == original)
        }
        for id in ["4711", "EMP-2"] {
            let employee = try await postgres.employee(id: id)
            let original = try await sqlite.employee(id: id)
            #expect(employee != nil && employee == original)
        }
        let grace = try #require(try await postgres.employee(auth0UserID: "auth0|grace"))
        #expect(grace.assignedRole == "admin" && grace.blocked && grace.syncStatus == .created && grace.employee.employeeIDIsNumber)
        #expect(try await postgres.employee(id: "EMP-2")?.createIntentEmail == "alan@example.com")

        for id in ids + ["login-ada", "login-bob"] {
            let copiedRecord = try #require(try await postgres.eventRecord(id: id))
            let original = try #require(try await sqlite.eventRecord(id: id))
            #expect(copiedRecord.event == original.event)
            #expect(copiedRecord.deliveries.sorted { $0.id < $1.id } == original.deliveries.sorted { $0.id < $1.id })
            #expect(copiedRecord.headers.map { "\($0.0)=\($0.1)" } == original.headers.map { "\($0.0)=\($0.1)" })
        }
        #expect(try await postgres.eventRecord(id: "evt-done")?.deliveries.first?.attemptHistory.map(\.outcome) == ["done"])
        #expect(try await postgres.searchEvents(EventQuery(search: "grace@example.com")).records.map(\.event.id) == ["evt-done"])
        #expect(try await postgres.pausedHandlers() == ["h3"])
        #expect(try await postgres.deadLetterGroups(limit: 10) == (try await sqlite.deadLetterGroups(limit: 10)))
        #expect(try await postgres.eventRecord(id: "evt-dead")?.deliveries.first?.deadReason == "permanent")
        #expect(try await postgres.listEvents(state: .dead, type: nil, limit: 10).map(\.event.id) == ["evt-dead"])
        #expect(try await postgres.listEvents(state: .running, type: nil, limit: 10).map(\.event.id) == ["evt-running"])
        #expect(try await postgres.listEvents(state: nil, type: "employee.created", limit: 10).count == 4)

        // The pending deliveries (and the running one, its lease long over) are claimed on
        // PostgreSQL, each with its attempts carried over.
        let due = try await postgres.claimDue(handler: "h1", limit: 10, leaseSeconds: 30).claims
        #expect(Set(due.map(\.event.id)) == ["evt-pending", "evt-running"])
        #expect(due.allSatisfy { $0.attempt == 2 })
        #expect(try await postgres.claimDue(handler: "h2", limit: 10, leaseSeconds: 30).claims.map(\.event.id) == ["evt-pending"])

        // New rows get ids past the copied ones.
        let appended = try await postgres.appendEvents([NewEvent(source: .admin, id: "after-copy", type: "note", payload: "{}", handlers: ["h1"])])
        let highest = try query(path, "SELECT max(seq) AS seq FROM events")[0].int64("seq")
        #expect(appended.first.map { $0.seq > highest && !$0.duplicate } == true)

        // A second copy into the same database is refused, and changes nothing.
        let refused = try Self.inlet(["copy", "--from", path, "--to", database.url], environment: database.passwordEnvironment)
        #expect(refused.status != 0)
        #expect(refused.errors.contains("not empty") && refused.errors.contains("events"), "\(refused.errors)")
        #expect(refused.output.isEmpty)
        #expect(try await postgres.listEvents(state: nil, type: nil, limit: 100).count == expected.events + 1)
        await postgres.close()
        await sqlite.close()
    }

    /// A row PostgreSQL refuses (text with a NUL byte, which SQLite keeps) fails the copy
    /// after earlier batches went in: the transaction leaves none of them behind.
    @Test func aFailedCopyLeavesNothingBehind() async throws {
        let folder = try TemporaryFolder()
        let sqlite = try await SQLiteStore.open(path: folder.databasePath)
        _ = try await sqlite.recordLogin(UserLogin(auth0ID: "auth0|first"), event: NewEvent(source: .auth0, id: "login-1", type: .userLogin, payload: "{}"))
        _ = try await sqlite.appendEvent(source: "productivity", id: "evt-ok", type: "employee.created", payload: employeeEvent(), handlers: ["audit"])
        _ = try await sqlite.appendEvent(source: "admin", id: "evt-nul", type: "note", payload: "{\"a\":\"\u{0}\"}", handlers: ["audit"])
        await sqlite.close()

        let database = try TestPostgresSchema()
        let failed = try Self.inlet(
            ["copy", "--from", folder.databasePath, "--to", database.url, "--batch-size", "1"], environment: database.passwordEnvironment
        )
        #expect(failed.status != 0)
        #expect(failed.errors.contains("PostgreSQL refused the statement") && failed.errors.contains("22021"), "\(failed.errors)")
        #expect(failed.output.isEmpty)
        let postgres = try await database.open()
        #expect(try await postgres.user(auth0ID: "auth0|first") == nil)
        #expect(try await postgres.listEvents(state: nil, type: nil, limit: 10).isEmpty)
        await postgres.close()
    }

    /// Any row in the destination refuses the copy, whole: here one user and its login.
    @Test func copyRefusesADestinationWithRows() async throws {
        let folder = try TemporaryFolder()
        let sqlite = try await SQLiteStore.open(path: folder.databasePath)
        _ = try await sqlite.appendEvent(source: "productivity", id: "evt-1", type: "employee.created", payload: employeeEvent(), handlers: ["audit"])
        await sqlite.close()

        let database = try TestPostgresSchema()
        let postgres = try await database.open()
        _ = try await postgres.recordLogin(
            UserLogin(auth0ID: "auth0|there"), event: NewEvent(source: .auth0, id: "login-there", type: .userLogin, payload: "{}")
        )
        let refused = try Self.inlet(["copy", "--from", folder.databasePath, "--to", database.url], environment: database.passwordEnvironment)
        #expect(refused.status != 0)
        #expect(
            refused.errors.trimmingCharacters(in: .whitespacesAndNewlines)
                == "Error: the destination database is not empty (it has rows in users, events); inlet copy fills only an empty one",
            "\(refused.errors)"
        )
        #expect(try await postgres.eventRecord(id: "evt-1") == nil)

        let backwards = try Self.inlet(["copy", "--from", database.url, "--to", folder.databasePath], environment: database.passwordEnvironment)
        #expect(backwards.status != 0 && backwards.errors.contains("copies a SQLite file (--from PATH) into PostgreSQL"))
        await postgres.close()
    }
}
