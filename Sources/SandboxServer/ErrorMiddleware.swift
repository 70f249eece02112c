import FHIRCore
import FHIRInteractions
import Hummingbird
import Logging

/// Turns anything thrown below it (unknown paths, framework errors, bugs) into an
/// OperationOutcome with a 4xx or 500 — never a dropped connection or an HTML page.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            let status = Int(error.status.code)
            let code: FHIRError.Code =
                status == 404 ? .notFound : status == 405 ? .methodNotAllowed : status == 413 ? .payloadTooLarge : .malformedRequest
            let message = status == 404 ? "no such path: \(request.method) \(request.uri.path)" : "\(error.status.reasonPhrase)"
            var response = Response(.error(FHIRError(code, message)))
            response.status = error.status
            return response
        } catch {
            context.logger.error("unhandled error for \(request.method) \(request.uri.path): \(error)")
            return Response(.error(FHIRError(.internalError, "internal error: \(error)")))
        }
    }
}
