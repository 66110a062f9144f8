public import InletCore
internal import HTTPTypes
internal import InletHTTPClient

/// `GET /api/v2/users` by `updated_at`, for the reconciler.
extension ManagementClient {
    /// The most results Auth0's user search returns for one query (`page × per_page` beyond
    /// it is refused): the reconciler moves its cursor instead of paging past it.
    public static let searchResultLimit = 1000

    /// One page of the users updated at or after `since` (all users when nil), oldest
    /// change first: `q=updated_at:[SINCE TO *]`, `sort=updated_at:1`, `page`, `per_page`.
    ///
    /// ```swift
    /// let users = try await client.usersUpdated(since: cursor, page: 0, perPage: 100)
    /// ```
    public func usersUpdated(since: Timestamp?, page: Int, perPage: Int) async throws -> [Auth0UserSnapshot] {
        var path = "/api/v2/users?sort=updated_at%3A1&per_page=\(perPage)&page=\(page)&search_engine=v3"
        if let since { path += "&q=" + Self.encode("updated_at:[\(since.description) TO *]") }
        let response = try await self.send(.get, "/api/v2/users", path: path)
        let operation = "GET /api/v2/users"
        let document: JSONDocument
        do {
            document = try JSONDocument.parse(response.body)
        } catch {
            throw ManagementError.invalidResponse("the response is not JSON: \(error.message)", status: response.status, operation: operation)
        }
        // A bare array, or `{users, start, limit, total}` with include_totals.
        let items: [JSONValue]
        switch document.root.value {
        case .array(let array): items = array
        case let object:
            guard case .array(let array)? = object["users"] else {
                throw ManagementError.invalidResponse("/api/v2/users did not return an array", status: response.status, operation: operation)
            }
            items = array
        }
        return try items.map { item in
            guard let id = item["user_id"]?.stringValue, !id.isEmpty,
                let updated = item["updated_at"]?.stringValue.flatMap(Timestamp.init(rfc3339:))
            else {
                throw ManagementError.invalidResponse("a user has no user_id or updated_at", status: response.status, operation: operation)
            }
            return Auth0UserSnapshot(
                auth0ID: id, updatedAt: updated, email: item["email"]?.stringValue, emailVerified: item["email_verified"]?.boolValue ?? false,
                name: item["name"]?.stringValue, picture: item["picture"]?.stringValue, loginsCount: item["logins_count"]?.intValue,
                lastLogin: item["last_login"]?.stringValue.flatMap(Timestamp.init(rfc3339:))
            )
        }
    }
}
