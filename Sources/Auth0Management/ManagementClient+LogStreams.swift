public import InletCore
internal import HTTPTypes
internal import InletHTTPClient

/// A log stream as `GET/POST/PATCH /api/v2/log-streams` return it.
public struct LogStream: Sendable, Equatable {
    public let id: String
    public let name: String
    public let type: String
    public let status: String?
    /// `sink.httpEndpoint` (an `http` stream's).
    public let endpoint: String?

    init(_ value: JSONValue, operation: String, status: Int) throws {
        guard let id = value["id"]?.stringValue, let name = value["name"]?.stringValue else {
            throw ManagementError.invalidResponse("a log stream has no id or name", status: status, operation: operation)
        }
        self.id = id
        self.name = name
        self.type = value["type"]?.stringValue ?? ""
        self.status = value["status"]?.stringValue
        self.endpoint = value["sink"]?["httpEndpoint"]?.stringValue
    }
}

/// Log streams (scopes `read:log_streams`, `create:log_streams`, `update:log_streams`).
extension ManagementClient {
    /// `GET /api/v2/log-streams`.
    public func logStreams() async throws -> [LogStream] {
        let operation = "GET /api/v2/log-streams"
        let response = try await self.send(.get, "/api/v2/log-streams", path: "/api/v2/log-streams")
        guard case .array(let items) = try Self.json(response, operation: operation) else {
            throw ManagementError.invalidResponse("/api/v2/log-streams did not return an array", status: response.status, operation: operation)
        }
        return try items.map { try LogStream($0, operation: operation, status: response.status) }
    }

    /// `POST /api/v2/log-streams`.
    public func createLogStream(_ body: JSONValue) async throws -> LogStream {
        let operation = "POST /api/v2/log-streams"
        let response = try await self.send(.post, "/api/v2/log-streams", path: "/api/v2/log-streams", body: body)
        return try LogStream(Self.json(response, operation: operation), operation: operation, status: response.status)
    }

    /// `PATCH /api/v2/log-streams/{id}` (`name`, `status`, `sink`; the type cannot change).
    public func updateLogStream(id: String, _ body: JSONValue) async throws -> LogStream {
        let operation = "PATCH /api/v2/log-streams/{id}"
        let response = try await self.send(.patch, "/api/v2/log-streams/{id}", path: "/api/v2/log-streams/\(Self.encode(id))", body: body)
        return try LogStream(Self.json(response, operation: operation), operation: operation, status: response.status)
    }

    static func json(_ response: OutboundResponse, operation: String) throws -> JSONValue {
        do {
            return try JSONDocument.parse(response.body).root.value
        } catch {
            throw ManagementError.invalidResponse("the response is not JSON: \(error.message)", status: response.status, operation: operation)
        }
    }
}
