/// What a handler may read of the process environment: variables it names, one at a
/// time, never Inlet's own credentials.
///
/// Handler factories (third-party ones included) get this instead of the environment, so
/// `INTERNAL_API_TOKEN`, `ADMIN_API_TOKEN` and the productivity secrets stay with the
/// server, and printing a handler's settings prints `<secrets>`, not every variable.
///
/// ```swift
/// guard let secret = try settings.secrets.secret("FORWARD_SECRET") else { throw HandlerUnavailable("...") }
/// ```
public struct SecretResolver: Sendable, CustomStringConvertible, CustomReflectable {
    private let environment: [String: String]

    /// Variables no handler may read (nor their `_FILE` forms): the bearer tokens, the
    /// webhook secrets, and the database's password (`INLET_DATABASE` may hold one too).
    public static let reserved: Set<String> = [
        "INTERNAL_API_TOKEN", "ADMIN_API_TOKEN", "PRODUCTIVITY_WEBHOOK_SECRET", "PRODUCTIVITY_API_TOKEN", "INLET_DATABASE",
        "INLET_DATABASE_PASSWORD",
    ]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    /// The secret in `name`, or in the file `name_FILE` names (``Secret/read(_:from:)``);
    /// nil when unset. Inlet's own credentials are refused.
    public func secret(_ name: String) throws -> Secret? {
        try Self.checkNotReserved(name)
        return try Secret.read(name, from: self.environment)
    }

    /// The variable `name` as set; nil when unset. Inlet's own credentials are refused.
    public func value(_ name: String) throws -> String? {
        try Self.checkNotReserved(name)
        return self.environment[name]
    }

    /// A reader of the variables `section` declares, as this resolver lets the handler see
    /// them (secrets from `NAME` or `NAME_FILE`), for a module that reads its settings with
    /// an ``EnvironmentReader``.
    public func reader(for section: SettingsSection) throws -> EnvironmentReader {
        var environment: [String: String] = [:]
        for setting in section.settings {
            guard let name = setting.variable else { continue }
            environment[name] = setting.isSecret ? try self.secret(name)?.value : try self.value(name)
        }
        return EnvironmentReader(environment)
    }

    private static func checkNotReserved(_ name: String) throws {
        let base = name.hasSuffix("_FILE") ? String(name.dropLast("_FILE".count)) : name
        guard !Self.reserved.contains(base) else {
            throw ConfigurationError("\(name) is one of Inlet's own credentials; a handler cannot read it")
        }
    }

    public var description: String { "<secrets>" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}
