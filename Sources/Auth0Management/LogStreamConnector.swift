public import InletCore

/// `inlet auth0 connect`: creates, or updates, the tenant's custom-webhook log stream that
/// sends to this Inlet, with a freshly generated authorization token.
///
/// The stream is found by its name (``streamName(for:)``, one per Inlet URL), so running
/// it again updates that stream (a new token, the endpoint, JSON lines) instead of adding
/// another. The token is returned once, for the operator to set as
/// `AUTH0_LOG_STREAM_TOKEN`; nothing else secret is returned or logged.
///
/// ```swift
/// let result = try await LogStreamConnector(client: client).connect(inletURL: "https://inlet.example")
/// print(result.created ? "created" : "updated", result.stream.id)
/// ```
public struct LogStreamConnector: Sendable {
    /// What a run did.
    public struct Result: Sendable {
        /// True when the stream was created, false when an existing one was updated.
        public let created: Bool
        public let stream: LogStream
        /// The new `AUTH0_LOG_STREAM_TOKEN`.
        public let token: Secret
        /// Where Auth0 sends: `<url>/hooks/auth0-logs`.
        public let endpoint: String
    }

    let client: ManagementClient
    let newToken: @Sendable () -> String

    /// `newToken` makes the stream's token (32 random bytes as hex unless a test says otherwise).
    public init(client: ManagementClient, newToken: @escaping @Sendable () -> String = { Crypto.randomHex(byteCount: 32) }) {
        self.client = client
        self.newToken = newToken
    }

    /// The stream's name for the Inlet at `url` (`Inlet inlet.example`).
    public static func streamName(for url: String) -> String {
        var host = Substring(url)
        for scheme in ["https://", "http://"] where host.hasPrefix(scheme) { host = host.dropFirst(scheme.count) }
        host = host.prefix { $0 != "/" }
        return "Inlet \(host)"
    }

    /// Checks the Inlet URL: `https://host[:port]`, no query or fragment (`http://` only on
    /// loopback, for tests); returns it without a trailing slash.
    public static func checkedURL(_ url: String) throws -> String {
        let trimmed = url.hasSuffix("/") ? String(url.dropLast()) : url
        let loopback = trimmed.hasPrefix("http://127.0.0.1") || trimmed.hasPrefix("http://localhost") || trimmed.hasPrefix("http://[::1]")
        guard trimmed.hasPrefix("https://") || loopback, !trimmed.contains("?"), !trimmed.contains("#"), !trimmed.contains(" "),
            trimmed.count > "https://".count
        else {
            throw ConfigurationError("--url must be the Inlet's public https:// URL, such as https://inlet.example (Auth0 sends only over HTTPS)")
        }
        return trimmed
    }

    public func connect(inletURL: String) async throws -> Result {
        let url = try Self.checkedURL(inletURL)
        let name = Self.streamName(for: url)
        let endpoint = url + "/hooks/auth0-logs"
        let token = Secret(self.newToken())
        let sink: JSONValue = [
            "httpEndpoint": .string(endpoint), "httpAuthorization": .string("Bearer \(token.value)"),
            "httpContentFormat": "JSONLINES", "httpContentType": "application/json",
        ]
        if let existing = try await self.client.logStreams().first(where: { $0.name == name && $0.type == "http" }) {
            let stream = try await self.client.updateLogStream(id: existing.id, ["status": "active", "sink": sink])
            return Result(created: false, stream: stream, token: token, endpoint: endpoint)
        }
        let stream = try await self.client.createLogStream(["name": .string(name), "type": "http", "sink": sink])
        return Result(created: true, stream: stream, token: token, endpoint: endpoint)
    }

    /// What the command prints for `result`: the token once, with where to set it.
    public static func report(_ result: Result) -> String {
        """
        \(result.created ? "Created" : "Updated") the Auth0 log stream "\(result.stream.name)" (\(result.stream.id)), sending JSON lines to \(result.endpoint).
        Its new token is shown only now. Set it where inlet serve reads its secrets, then restart inlet serve:

            AUTH0_LOG_STREAM_TOKEN=\(result.token.value)

        (or put it in a file and set AUTH0_LOG_STREAM_TOKEN_FILE to that file's path). Until then Inlet answers the stream 401 and Auth0 retries.
        """
    }
}
