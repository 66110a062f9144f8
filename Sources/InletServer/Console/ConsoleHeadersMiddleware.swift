internal import Hummingbird
internal import HTTPTypes
internal import InletCore
internal import Logging

/// Gives every answer under `/console` the console's security headers, and turns errors
/// there into HTML pages (the JSON error bodies are for the API).
///
/// The headers: a `Content-Security-Policy` that allows no inline script and nothing from
/// another origin, `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` and
/// `Cache-Control: no-store` (pages hold operational data). Added before the client limits,
/// so that their 429 on the sign-in form is a page with the headers too.
struct ConsoleHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    let pages: ConsolePages

    static var contentSecurityPolicy: String {
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
            + "form-action 'self'; base-uri 'none'; object-src 'none'"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path == "/console" || path.hasPrefix("/console/") else {
            return try await next(request, context)
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = self.page(for: error, request: request, context: context)
        }
        Self.secure(&response.headers)
        return response
    }

    static func secure(_ headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        headers[.cacheControl] = "no-store"
    }

    private func page(for error: any Error, request: Request, context: Context) -> Response {
        let status: HTTPResponse.Status
        let message: String
        var headers: HTTPFields = [:]
        switch error {
        case let error as APIError:
            (status, message) = (error.status, error.message)
            if let retry = error.headers[.retryAfter] { headers[.retryAfter] = retry }
            if let allow = error.headers[.allow] { headers[.allow] = allow }
        case let error as HTTPError:
            status = error.status
            message = error.status == .notFound ? "There is no console page at this address." : (error.body ?? error.status.reasonPhrase)
        case let error as any StorageFailure where error.isUnavailable:
            context.logger.warning("database unavailable", metadata: ["error": "\(error)"])
            (status, message) = (.serviceUnavailable, "The database is busy or not writable; retry shortly.")
        default:
            context.logger.error("console request failed", metadata: ["error": "\(String(reflecting: error))"])
            (status, message) = (.internalServerError, "An internal error occurred; it has been logged.")
        }
        var response = self.pages.message(title: "\(status.code) \(status.reasonPhrase)", text: message, status: status, session: nil)
        for field in headers { response.headers.append(field) }
        return response
    }
}
