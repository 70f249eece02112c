import FHIRCore
import Foundation
import HTTPTypes
import Hummingbird

/// Who may drive `/_admin`: it resets data, moves the clock and registers OAuth clients, so
///
/// - the `Host` must be one this server answers to as itself (loopback names, the bound
///   address, the public URL's host, `--allowed-hosts`): no DNS rebinding;
/// - a browser request from another origin (`Origin`, `Sec-Fetch-Site`) is refused, and no CORS
///   headers are ever sent: a web page cannot drive it;
/// - a labelled body must be `application/json` (a cross-site form or `text/plain` post is refused);
/// - with an admin token (`--admin-token`, or generated when listening off loopback) every
///   request must carry `Authorization: Bearer <admin token>`; vendor access tokens never open it.
///
/// Checked by each admin route before it reads its body (not a router middleware: every FHIR
/// request would pay for the extra async layer).
struct AdminGuard: Sendable {
    let hosts: HostPolicy
    let token: String?

    func refusal(_ request: Request) -> AdminError? {
        let authority = request.head.authority
        guard hosts.allows(authority: authority) else {
            return AdminError(
                status: .forbidden,
                "Host '\(authority ?? "")' is not a name this server answers to as itself; "
                    + "use a loopback name, the bound address or the public URL's host, or add it with --allowed-hosts")
        }
        if let origin = request.headers[.origin], origin != "null", hosts.allows(authority: HostPolicy.authority(of: origin)) {
            // A page served by this server itself (the trainer console) may call it.
        } else if let origin = request.headers[.origin] {
            return AdminError(status: .forbidden, "cross-origin requests to the admin API are refused (Origin: \(origin))")
        }
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site == "cross-site" || site == "same-site" {
            return AdminError(status: .forbidden, "cross-origin requests to the admin API are refused (Sec-Fetch-Site: \(site))")
        }
        if let token {
            let given = request.headers[.authorization].flatMap { header -> Substring? in
                header.count > 7 && header.prefix(7).lowercased() == "bearer " ? header.dropFirst(7) : nil
            }
            guard let given, Self.equal(Array(given.utf8), Array(token.utf8)) else {
                return AdminError(
                    status: .unauthorized,
                    "the admin API needs Authorization: Bearer <admin token> (--admin-token, or the one printed at start-up)")
            }
        }
        if let type = request.headers[.contentType] {
            let media = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            guard media == "application/json" else {
                return AdminError(status: .unsupportedMediaType, "admin request bodies must be application/json, not \(type)")
            }
        }
        // A body without a Content-Type is read as JSON: browsers always label what they send.
        return nil
    }

    /// Compares without an early exit, so timing does not tell how much of a guess was right.
    static func equal(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
