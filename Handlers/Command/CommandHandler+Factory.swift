public import InletCore

extension CommandHandler {
    /// Registration for the executable's handler list. Runs only when configured; the
    /// subscriptions default to `employee.*` (login events carry end users' addresses and
    /// emails):
    ///
    /// ```json
    /// "handlers": {"command": {"program": "/usr/local/bin/on-employee", "arguments": ["--quiet"],
    ///                          "subscriptions": ["employee.*"], "timeout_seconds": 30}}
    /// ```
    public static let factory = HandlerFactory(Self.self) { setup in
        let settings = setup.settings
        guard let program = try settings.string("program") else {
            throw HandlerUnavailable("handlers.command.program is not set")
        }
        return CommandHandler(
            program: program,
            arguments: try settings.strings("arguments") ?? [],
            subscriptions: try settings.subscriptions(default: ["employee.*"]),
            timeout: try settings.number("timeout_seconds") ?? 30,
            maxOutputBytes: Int(try settings.number("max_output_bytes") ?? 8192)
        )
    }
}
