internal import Hummingbird
internal import HTTPTypes
internal import InletCore
internal import Logging
internal import NIOCore
internal import NIOHTTP1

/// Turns every error into the contract's JSON error body, and an unmatched method on a
/// known path into 405 rather than 404.
///
/// Errors this module does not know become a bare 500 whose details go to the log
/// only: no SQL, stack or secret ever reaches a response.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return try self.translate(error, request: request, context: context).response(from: request, context: context)
        }
    }

    private func translate(_ error: any Error, request: Request, context: Context) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as JSONError:
            return .badRequest(error.message)
        case let error as HTTPError:
            switch error.status {
            case .notFound:
                let allowed = self.routes.allowedMethods(for: request.uri.path)
                return allowed.isEmpty ? .notFound("no route for \(request.method) \(request.uri.path)") : .methodNotAllowed(allowed: allowed)
            case .contentTooLarge:
                return .payloadTooLarge(limit: context.maxUploadSize)
            case .badRequest:
                return .badRequest(error.body ?? "malformed request")
            default:
                return APIError(status: error.status, code: Self.code(for: error.status), message: error.body ?? error.status.reasonPhrase)
            }
        case let error as any StorageFailure where error.isUnavailable:
            context.logger.warning("database unavailable", metadata: ["error": "\(error)"])
            return .unavailable("the database is busy or not writable; retry shortly", retryAfterSeconds: 1)
        case is HTTPParserError, is ChannelError:
            // The client went away mid-request (an aborted upload): its doing, not a fault here.
            context.logger.info("request aborted by the client", metadata: ["error": "\(String(reflecting: error))"])
            return .badRequest("the request ended before its body was complete")
        default:
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            return .internalError()
        }
    }

    private static func code(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "bad_request"
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 413: "payload_too_large"
        case 415: "unsupported_media_type"
        case 429: "rate_limited"
        case 503: "unavailable"
        default: status.code < 500 ? "bad_request" : "internal"
        }
    }
}
