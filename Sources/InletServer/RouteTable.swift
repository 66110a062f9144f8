internal import HTTPTypes
internal import Hummingbird

/// The server's routes: each path written once, registered on the router and kept to
/// tell 405 from 404.
///
/// A `{name}` segment matches any one segment. A class, so that the middleware (which
/// must be added to the router before the routes) sees the routes registered after it;
/// `@unchecked Sendable` because it is filled while the application is built and only
/// read once the server runs.
///
/// ```swift
/// routes.post("/admin/events/{id}/replay") { request, context in ... }
/// ```
final class RouteTable: @unchecked Sendable {
    let router: Router<InletRequestContext>
    private var entries: [(segments: [Substring], method: HTTPRequest.Method)] = []

    init(router: Router<InletRequestContext>) {
        self.router = router
    }

    func get<Output: ResponseGenerator>(
        _ path: String, use handler: @escaping @Sendable (Request, InletRequestContext) async throws -> Output
    ) {
        self.on(path, .get, use: handler)
    }

    func post<Output: ResponseGenerator>(
        _ path: String, use handler: @escaping @Sendable (Request, InletRequestContext) async throws -> Output
    ) {
        self.on(path, .post, use: handler)
    }

    private func on<Output: ResponseGenerator>(
        _ path: String, _ method: HTTPRequest.Method, use handler: @escaping @Sendable (Request, InletRequestContext) async throws -> Output
    ) {
        self.entries.append((path.split(separator: "/"), method))
        self.router.on(RouterPath(path), method: method, use: handler)
    }

    func allowedMethods(for path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/")
        return self.entries.filter { entry in
            entry.segments.count == segments.count
                && zip(entry.segments, segments).allSatisfy { pattern, actual in pattern.first == "{" || pattern == actual }
        }.map(\.method)
    }
}
