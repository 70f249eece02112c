import FHIRCore
import FHIRInteractions
import Hummingbird
import Logging

/// Turns anything thrown below it (unknown paths, methods no route takes, framework errors,
/// bugs) into an OperationOutcome with a 4xx or 500 — never a dropped connection or an HTML
/// page. Under a profile's FHIR base the answer leaves through that base's error exit, so it
/// is in the profile's dialect like every other error there.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// FHIR bases and their pipelines (whose exits shape errors), longest base first.
    let bases: [(base: String, pipeline: FHIRPipeline)]

    init(bases: [(base: String, pipeline: FHIRPipeline)] = []) {
        self.bases = bases.sorted { $0.base.count > $1.base.count }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            let status = Int(error.status.code)
            let message = status == 404 ? "no such path: \(request.method) \(request.uri.path)" : "\(error.status.reasonPhrase)"
            var fhirError = FHIRError(FHIRError.Code.forStatus(status), message)
            if status == 405 { fhirError = FHIRError(.methodNotAllowed, "\(request.method) is not allowed on \(request.uri.path)") }
            // The framework's status stands (a 414 is not a 400) unless a dialect names another.
            var raw = FHIRResponse.error(fhirError)
            raw.status = status
            var response = exit(raw, path: request.uri.path)
            if response.status == fhirError.code.status { response.status = status }
            return Response(response)
        } catch {
            context.logger.error("unhandled error for \(request.method) \(request.uri.path): \(error)")
            return Response(exit(.error(FHIRError(.internalError, "internal error: \(error)")), path: request.uri.path))
        }
    }

    /// The error through the exit of the FHIR base `path` is under (none: R4's OperationOutcome).
    func exit(_ response: FHIRResponse, path: String) -> FHIRResponse {
        guard let match = bases.first(where: { path == $0.base || path.hasPrefix($0.base + "/") }) else { return response }
        return match.pipeline.exit(response)
    }
}
