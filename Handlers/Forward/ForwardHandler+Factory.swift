public import InletCore

extension ForwardHandler {
    /// Registration for the executable's handler list. Runs only when configured; the
    /// signing secret is read from the environment variable that `secret_env` names
    /// (`whsec_...`), never from the file:
    ///
    /// ```json
    /// "handlers": {"forward": {"url": "https://hooks.internal.example/inlet", "secret_env": "FORWARD_SECRET",
    ///                          "subscriptions": ["employee.*"], "timeout_seconds": 15}}
    /// ```
    public static func factory(client: HTTPClient) -> HandlerFactory {
        HandlerFactory(name: name, enabledByDefault: true) { settings, _ in
            guard let url = try settings.string("url") else {
                throw HandlerUnavailable("handlers.forward.url is not set")
            }
            var secret: WebhookSecret?
            if let variable = try settings.string("secret_env") {
                guard let value = try Configuration.secret(variable, settings.environment) else {
                    throw HandlerUnavailable("handlers.forward.secret_env names \(variable), which is not set")
                }
                secret = try WebhookSecret(value.value)
            }
            return ForwardHandler(
                url: url,
                subscriptions: try settings.subscriptions(default: ["*"]),
                secret: secret,
                client: client,
                timeout: try settings.number("timeout_seconds") ?? 15
            )
        }
    }
}
