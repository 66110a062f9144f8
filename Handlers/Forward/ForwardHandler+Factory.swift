public import InletHTTPClient
public import InletCore

extension ForwardHandler {
    /// Registration for the executable's handler list. Runs only when configured; the URL
    /// must be `https://` (`http://` only to a loopback address); the subscriptions default
    /// to `employee.*` (login events carry end users' addresses and emails, so sending them
    /// on is a choice to make in the file); the signing secret is read from the environment
    /// variable that `secret_env` names (`whsec_...`, at least 24 key bytes), never from
    /// the file:
    ///
    /// ```json
    /// "handlers": {"forward": {"url": "https://hooks.internal.example/inlet", "secret_env": "FORWARD_SECRET",
    ///                          "subscriptions": ["employee.*"], "timeout_seconds": 15}}
    /// ```
    public static func factory(client: OutboundClient) -> HandlerFactory {
        HandlerFactory(Self.self) { setup in
            let settings = setup.settings
            guard let url = try settings.string("url") else {
                throw HandlerUnavailable("handlers.forward.url is not set")
            }
            guard URLPolicy.isHTTPSOrLoopback(url) else {
                throw ConfigurationError("handlers.forward.url must be an https:// URL (http:// only to a loopback address)")
            }
            var secret: WebhookSecret?
            if let variable = try settings.string("secret_env") {
                guard let value = try settings.secrets.secret(variable) else {
                    throw HandlerUnavailable("handlers.forward.secret_env names \(variable), which is not set")
                }
                secret = try WebhookSecret.checked(value.value, setting: variable)
            }
            return ForwardHandler(
                url: url,
                subscriptions: try settings.subscriptions(default: ["employee.*"]),
                secret: secret,
                client: client,
                timeout: try settings.number("timeout_seconds") ?? 15
            )
        }
    }
}
