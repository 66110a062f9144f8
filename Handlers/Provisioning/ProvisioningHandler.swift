public import Auth0Management
internal import Auth0HandlerSupport
public import CoreMetrics
public import InletCore
internal import Logging

/// `provisioning`: creates an employee's Auth0 account and assigns the default role.
///
/// Runs on `employee.created` and on `employee.provision` (the admin route
/// `POST /admin/employees/{employee_id}/provision`). Each step is recorded before the
/// next, so a re-delivery — after a crash, a retry, a replay — resumes where the last
/// attempt stopped and ends with one account and the role:
///
/// 1. validate the record (`employee_id`, `name`, `email`, `department`; invalid →
///    permanent failure) and upsert the employee row — unless the row holds a newer
///    version (a later `occurred_at`, else a later event): a redelivered or replayed
///    `employee.created` then provisions the newer values, never rolls them back;
/// 2. an employee with an `auth0_user_id` and the role assigned is skipped unless the
///    event says `"force": true`;
/// 3. when an earlier attempt left a creation intent (it died between asking Auth0 and
///    recording the answer), look that account up — by the intent's email, then by
///    `app_metadata.employee_id` — and link it (bringing its email up to date) instead of
///    creating another. Otherwise record the intent, then create the user (random
///    password from `RAND_bytes`, never stored or logged; `employee_id` as the sender
///    gave it, number or string). A 409 links the account with exactly that email when
///    Inlet created it for this employee (`created`) or its email is verified (`linked`);
///    any other account is left alone: a permanent failure naming it, for an operator;
/// 4. assign `AUTH0_DEFAULT_ROLE` when role assignment is on; a missing role is a
///    permanent failure naming the role;
/// 5. record the account, the status and an audit row with the duration.
///
/// ```json
/// "handlers": {"provisioning": {"timezone": "America/Chicago", "default_role_code": "associate", "concurrency": 4}}
/// ```
public struct ProvisioningHandler: EventHandler {
    public static let name = "provisioning"
    public static let defaultSubscriptions = [EventType.employeeCreated, .employeeProvision].map(EventPattern.init)

    /// What the handler does, from `AUTH0_*` and the handler's settings.
    public struct Options: Sendable {
        public var connection = "Username-Password-Authentication"
        public var sendVerificationEmail = true
        public var enableRoleAssignment = true
        public var defaultRole = "production_associate"
        public var timezone = "America/Chicago"
        public var defaultRoleCode = "associate"

        public init() {}

        /// From `AUTH0_CONNECTION`, `AUTH0_SEND_VERIFICATION_EMAIL`,
        /// `AUTH0_ENABLE_ROLE_ASSIGNMENT`, `AUTH0_DEFAULT_ROLE` (read through the handler's
        /// secrets) and the handler's `timezone` and `default_role_code`.
        public init(settings: HandlerSettings) throws {
            let reader = try settings.secrets.reader(for: Self.settings)
            if let connection = reader.string("AUTH0_CONNECTION") { self.connection = connection }
            if let flag = try reader.flag("AUTH0_SEND_VERIFICATION_EMAIL") { self.sendVerificationEmail = flag }
            if let flag = try reader.flag("AUTH0_ENABLE_ROLE_ASSIGNMENT") { self.enableRoleAssignment = flag }
            if let role = reader.string("AUTH0_DEFAULT_ROLE") { self.defaultRole = role }
            if let timezone = try settings.string("timezone") { self.timezone = timezone }
            if let code = try settings.string("default_role_code") { self.defaultRoleCode = code }
        }

        /// The `AUTH0_*` settings of provisioning, declared once for `--help` and the README.
        public static let settings = SettingsSection("Auth0 provisioning (the `provisioning` handler)", [
            Setting("AUTH0_ENABLE_ROLE_ASSIGNMENT", default: "`true`", "assign `AUTH0_DEFAULT_ROLE` to new accounts"),
            Setting(
                "AUTH0_DEFAULT_ROLE", default: "`production_associate`",
                "role name (exact match) assigned to new accounts; a role that does not exist dead-letters the delivery, naming it"
            ),
            Setting("AUTH0_SEND_VERIFICATION_EMAIL", default: "`true`", "let Auth0 send the verification email"),
            Setting("AUTH0_CONNECTION", default: "`Username-Password-Authentication`", "database connection"),
        ])
    }

    public let subscriptions: [EventPattern]
    let client: ManagementClient
    let store: any EmployeeStore
    let options: Options
    let metrics: (any MetricsFactory)?
    let clock: WallClock

    public init(
        client: ManagementClient, store: any EmployeeStore, options: Options = Options(),
        subscriptions: [EventPattern] = Self.defaultSubscriptions, metrics: (any MetricsFactory)? = nil,
        clock: WallClock = .system
    ) {
        self.client = client
        self.store = store
        self.options = options
        self.subscriptions = subscriptions
        self.metrics = metrics
        self.clock = clock
    }

    /// Registration for the executable's handler list. Inactive (with the reason) until
    /// `AUTH0_DOMAIN`, `AUTH0_CLIENT_ID` and `AUTH0_CLIENT_SECRET` are set.
    public static func factory(clients: ManagementClientProvider, metrics: (any MetricsFactory)? = nil) -> HandlerFactory {
        var defaults = HandlerOptions()
        defaults.concurrency = 4
        return clients.handlerFactory(
            Self.self, defaultOptions: defaults, subscriptions: Self.defaultSubscriptions, settings: [Options.settings]
        ) { management in
            ProvisioningHandler(
                client: management.client, store: management.employees, options: try Options(settings: management.setup.settings),
                subscriptions: management.subscriptions, metrics: metrics, clock: management.setup.clock
            )
        }
    }

    enum Outcome: String {
        case created, linked, skipped
    }

    public func handle(_ event: Event, context: HandlerContext) async throws {
        let started = ContinuousClock.now
        let document: JSONDocument
        do {
            document = try event.json()
        } catch {
            throw HandlerError.permanent("the event payload is not JSON: \(error.message)")
        }
        let root = document.root
        let data = try EmployeeEvent.data(in: root)
        let employee: Employee
        do {
            employee = try Employee(json: data)
        } catch {
            self.count("failed", started: started)
            context.audit("provision_failed", detail: "invalid employee record: \(error.message)")
            throw HandlerError.permanent("invalid employee record: \(error.message)")
        }
        let force = (((try? root.bool("force")) ?? nil) ?? ((try? data.bool("force")) ?? nil)) ?? false

        let record: EmployeeRecord
        if event.type == EventType.employeeProvision.rawValue {
            // The row as it is now: the event's copy may predate an update handled since.
            guard let current = try await self.store.employee(id: employee.employeeID) else {
                throw HandlerError.permanent("no employee with id \(employee.employeeID)")
            }
            record = current
        } else {
            // An older event (redelivered, replayed, late) gets the newer row back.
            record = try await self.store.upsertEmployee(employee, version: EmployeeVersion(event: event, root: root))
        }
        // As the sender gave it, like `employee_id`.
        let internalID: JSONValue = ((try? data.int("internal_id")) ?? nil).map { .int($0) }
            ?? ((try? data.string("internal_id")) ?? nil).map { .string($0) } ?? record.employee.employeeIDValue
        do {
            let (outcome, userID, detail) = try await self.provision(record, internalID: internalID, force: force, context: context)
            let milliseconds = Self.milliseconds(since: started)
            self.count(outcome.rawValue, started: started)
            let text = "auth0_user_id=\(userID ?? "-") employee_id=\(employee.employeeID) \(detail) duration_ms=\(milliseconds)"
            context.audit(outcome == .skipped ? "provision_skipped" : "account_\(outcome.rawValue)", detail: text)
            context.logger.info(
                "employee provisioned",
                metadata: ["employee_id": "\(employee.employeeID)", "outcome": "\(outcome.rawValue)", "auth0_user_id": "\(userID ?? "-")", "duration_ms": "\(milliseconds)"]
            )
        } catch let error as ManagementError {
            let failure = HandlerError(error)
            guard failure.isPermanent else { throw failure }
            try await self.fail(employee, message: failure.message, started: started, context: context)
        } catch let error as HandlerError where error.isPermanent {
            try await self.fail(employee, message: error.message, started: started, context: context)
        }
    }

    private func fail(_ employee: Employee, message: String, started: ContinuousClock.Instant, context: HandlerContext) async throws -> Never {
        self.count("failed", started: started)
        let current = try await self.store.employee(id: employee.employeeID)
        // An account that exists stays `created`/`linked`; the error is kept beside it.
        let status: Auth0SyncStatus = current?.auth0UserID == nil ? .failed : (current?.syncStatus ?? .failed)
        try await self.store.setAuth0SyncStatus(employeeID: employee.employeeID, status: status, error: message)
        context.audit("provision_failed", detail: "employee_id=\(employee.employeeID) \(message) duration_ms=\(Self.milliseconds(since: started))")
        throw HandlerError.permanent(message)
    }

    private func provision(
        _ record: EmployeeRecord, internalID: JSONValue, force: Bool, context: HandlerContext
    ) async throws -> (Outcome, String?, String) {
        let employee = record.employee
        var userID = record.auth0UserID
        var outcome: Outcome = record.syncStatus == .linked ? .linked : .created
        var steps: [String] = []
        let roleDone = !self.options.enableRoleAssignment || record.roleAssignedAt != nil
        if let existing = userID {
            if force {
                if try await self.client.user(id: existing) == nil {
                    steps.append("account \(existing) no longer exists; recreating")
                    userID = nil
                }
            } else if roleDone {
                return (.skipped, existing, "already provisioned")
            } else {
                steps.append("resumed")
            }
        }
        if userID == nil {
            let (created, result) = try await self.findOrCreate(record, internalID: internalID)
            outcome = result
            guard try await self.store.linkAuth0Account(
                employeeID: employee.employeeID, auth0UserID: created, status: result == .linked ? .linked : .created,
                email: employee.email.lowercased()
            ) else {
                throw HandlerError.permanent("the Auth0 account \(created) for \(employee.email) is already linked to another employee")
            }
            userID = created
        }
        guard let userID else { throw HandlerError.permanent("no Auth0 account") }
        if self.options.enableRoleAssignment && (record.roleAssignedAt == nil || force || record.auth0UserID != userID) {
            try await self.assignDefaultRole(to: userID, employeeID: employee.employeeID)
            steps.append("role \(self.options.defaultRole) assigned")
        }
        return (outcome, userID, steps.joined(separator: "; "))
    }

    private func assignDefaultRole(to userID: String, employeeID: String) async throws {
        let role = self.options.defaultRole
        guard let roleID = try await self.client.roleID(named: role) else {
            throw HandlerError.permanent("the role \(role) (AUTH0_DEFAULT_ROLE) does not exist in the Auth0 tenant")
        }
        do {
            try await self.client.assignRoles(userID: userID, roleIDs: [roleID])
        } catch let error as ManagementError where error.isNotFound {
            self.client.forgetRole(named: role)
            // Told apart by errorCode (a missing user has `inexistent_user`, a missing role none).
            if error.errorCode == "inexistent_user" {
                throw HandlerError.permanent("the Auth0 user \(userID) does not exist: \(error.description)")
            }
            throw HandlerError.permanent("the role \(role) (AUTH0_DEFAULT_ROLE, id \(roleID)) does not exist in the Auth0 tenant: \(error.description)")
        }
        try await self.store.recordRoleAssigned(employeeID: employeeID, role: role)
    }

    /// The employee's account: the one an earlier attempt created and did not record, else a
    /// new one (the intent recorded first), else — on 409 — an existing one that may be linked.
    private func findOrCreate(_ record: EmployeeRecord, internalID: JSONValue) async throws -> (String, Outcome) {
        let employee = record.employee
        let email = employee.email.lowercased()
        if let intended = record.createIntentEmail, let orphan = try await self.orphan(of: employee, intendedEmail: intended) {
            if orphan.email?.lowercased() != email {
                // Created under the email the employee had then.
                _ = try await self.client.patchUser(id: orphan.userID, ["email": .string(email)])
            }
            return (orphan.userID, .created)
        }
        try await self.store.recordAuth0CreateIntent(employeeID: employee.employeeID, email: email)
        do {
            return (try await self.client.createUser(self.newUser(employee, email: email, internalID: internalID)).userID, .created)
        } catch let error as ManagementError where error.isConflict {
            return try await self.existingAccount(email: email, for: employee)
        }
    }

    /// An account Inlet created for `employee` in an attempt that stopped before recording
    /// it: found by the email that attempt sent, else by `app_metadata.employee_id` (the
    /// search index lags writes by seconds, so it comes second).
    private func orphan(of employee: Employee, intendedEmail: String) async throws -> Auth0User? {
        if let user = try await self.client.users(email: intendedEmail).first(where: { self.isOurs($0, employee) }) {
            return user
        }
        return try await self.client.searchUsers(query: "app_metadata.employee_id:\(Self.searchTerm(employee.employeeIDValue))").first { self.isOurs($0, employee) }
    }

    /// On 409: the account with exactly this email, when Inlet created it for this employee
    /// or its email is verified (the configured connection first). An unverified account
    /// someone else made — say by signing up first with a new hire's address — is never
    /// linked (it would get the employee's role): a permanent failure naming it.
    private func existingAccount(email: String, for employee: Employee) async throws -> (String, Outcome) {
        let matches = try await self.client.users(email: email).filter { $0.email?.lowercased() == email }
        if let ours = matches.first(where: { self.isOurs($0, employee) }) {
            return (ours.userID, .created)
        }
        let verified = matches.filter(\.emailVerified)
        if let account = verified.first(where: { $0.connections.contains(self.options.connection) }) ?? verified.first {
            return (account.userID, .linked)
        }
        guard !matches.isEmpty else {
            // Auth0 said the user exists but cannot find it yet (search lag): try later.
            throw HandlerError.transient("Auth0 answered 409 for \(email) but users-by-email found no account with that email yet")
        }
        throw HandlerError.permanent(
            "not linked: the Auth0 account \(matches.map(\.userID).joined(separator: ", ")) with the email \(email) is neither verified "
                + "nor created by Inlet for employee \(employee.employeeID); an operator must verify, link or remove it, then replay"
        )
    }

    /// Whether Inlet created `user` for `employee`, as its `app_metadata` says (only the
    /// Management API can write `app_metadata`; the user cannot).
    private func isOurs(_ user: Auth0User, _ employee: Employee) -> Bool {
        employee.isIdentified(by: user.appMetadata?["employee_id"]) && user.appMetadata?["created_by"]?.stringValue == "productivity_system"
    }

    /// `value` as a term of Auth0's (Lucene) user search: a number bare, a string quoted with
    /// `"` and `\` escaped.
    static func searchTerm(_ value: JSONValue) -> String {
        if case .int(let number) = value { return String(number) }
        var term = "\""
        for character in value.stringValue ?? "" {
            if character == "\"" || character == "\\" { term.append("\\") }
            term.append(character)
        }
        return term + "\""
    }

    /// The `POST /api/v2/users` body, in the shape of `reference/auth0.md`.
    private func newUser(_ employee: Employee, email: String, internalID: JSONValue) -> JSONValue {
        // The owned keys (as metadata-sync patches them) plus those written once, at creation.
        var metadata = OwnedMetadata(employee, defaultRoleCode: self.options.defaultRoleCode)
        metadata.user.append(("timezone", .string(self.options.timezone)))
        metadata.app += [
            ("internal_id", internalID), ("created_by", "productivity_system"), ("created_at", .string(self.clock.now().description)),
            ("sync_status", "active"),
        ]
        return .object([
            ("connection", .string(self.options.connection)), ("email", .string(email)), ("password", .string(Self.randomPassword())),
            ("name", .string(employee.name)), ("email_verified", false), ("verify_email", .bool(self.options.sendVerificationEmail)),
            ("user_metadata", .object(metadata.user)), ("app_metadata", .object(metadata.app)),
        ])
    }

    /// 32 characters from 64 symbols (6 bits per `RAND_bytes` byte, no bias) plus one of
    /// each class a password policy may demand. Never stored, never logged.
    static func randomPassword() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let bytes = Crypto.randomBytes(count: 36)
        var characters = bytes.prefix(32).map { alphabet[Int($0 & 63)] }
        let classes = [Array("ABCDEFGHJKLMNPQRSTUVWXYZ"), Array("abcdefghijkmnopqrstuvwxyz"), Array("23456789"), Array("!#%+=?@^")]
        for (index, characterClass) in classes.enumerated() {
            characters.append(characterClass[Int(bytes[32 + index]) % characterClass.count])
        }
        return String(characters)
    }

    private func count(_ status: String, started: ContinuousClock.Instant) {
        guard let metrics = self.metrics else { return }
        Counter(label: "auth0_user_creation_total", dimensions: [("status", status)], factory: metrics).increment()
        let elapsed = ContinuousClock.now - started
        Timer(label: "auth0_user_creation_duration_seconds", dimensions: [], factory: metrics)
            .recordNanoseconds(elapsed.wholeNanoseconds)
    }

    static func milliseconds(since started: ContinuousClock.Instant) -> Int64 {
        let elapsed = ContinuousClock.now - started
        return elapsed.wholeMilliseconds
    }
}
