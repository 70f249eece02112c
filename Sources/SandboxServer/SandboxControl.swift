import FHIRCore
import Foundation
import SandboxFaults
import Synchronization

/// Test control's state for one sandbox (shared by its mounts): armed faults, rate-limit
/// counters, the latency switch, the request journal and staff actions waiting for their
/// instant.
final class SandboxControl: Sendable {
    let faults = FaultBook()
    let limiter: RateLimiter
    let latency: LatencySwitch
    let journal = RequestJournal()
    let staff = StaffSchedule()
    /// The sandbox this control belongs to (weak: the sandbox owns its control), for staff
    /// actions that fire on a request.
    let link = ScopeLink()

    init(limits: [String: [RateLimit]], rateLimits: RateLimiter.Mode, latency: LatencySwitch.Mode) {
        limiter = RateLimiter(limits: limits, mode: rateLimits)
        self.latency = LatencySwitch(mode: latency)
    }

    /// Nothing to decide: no rule armed, no limit on, latency off (lock-free; most requests).
    var isQuiet: Bool { !faults.isActive && !limiter.isEnabled && latency.isOff }

    /// Runs the staff actions the sandbox clock has reached (cheap when none is pending).
    func fireDueActions() {
        guard staff.hasPending, let scope = link.scope else { return }
        scope.fireDueActions()
    }

    /// Wall-clock seconds, as fault rules and rate windows count them.
    static var wallNow: Double { Date().timeIntervalSince1970 }
}

/// A weak reference from a sandbox's control back to the sandbox.
final class ScopeLink: @unchecked Sendable {
    private let lock = NSLock()
    private weak var stored: (any SandboxScope & AnyObject)?

    var scope: (any SandboxScope)? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue as? (any SandboxScope & AnyObject) } }
    }
}

/// What test control did to a request, as the journal records it.
struct FaultNote: Sendable {
    /// The fault rule's id, or the rate limit's name.
    let id: String
    /// The fault type, or `rate-limit`.
    let type: String

    var json: JSON { .object(JSONObject(["id": .string(id), "type": .string(type)])) }
}

/// The verdict of test control on one request, before it runs.
enum GateVerdict: Sendable {
    /// Handle the request after waiting `wait` milliseconds (a latency fault, the latency
    /// model); `note` is the rule that fired, if one did (`token-expired` and `slot-taken` act
    /// inside the handling).
    case proceed(FaultNote?, FaultAction?, wait: Int)
    /// Answer with an error instead: status, message, `Retry-After` seconds, and why.
    case refuse(FHIRError, retryAfter: Int?, FaultNote)
    /// Answer nothing: close the connection after `milliseconds`.
    case close(milliseconds: Int, FaultNote)
}

/// The header a handler sets on a response that must not be sent: the connection guard closes
/// the connection instead (`hang`, `drop`). Never reaches a client.
let closeConnectionMarker = "x-fhir-sandbox-close-connection"

extension SandboxControl {
    /// Decides what happens to a request described by `facts` (synchronously: the caller
    /// waits where the verdict says). `model` is the profile's latency model.
    func gate(_ facts: RequestFacts, model: LatencyModel?) -> GateVerdict {
        let now = Self.wallNow
        var note: FaultNote?
        var action: FaultAction?
        var wait = 0
        if let fired = faults.decide(facts, now: now) {
            let firedNote = FaultNote(id: fired.ruleID, type: fired.action.type)
            switch fired.action {
            case .error(let status, let retryAfter):
                return .refuse(
                    Self.injected(status, "injected fault \(fired.ruleID): the server answered \(status)"), retryAfter: retryAfter,
                    firedNote)
            case .outage(_, let retryAfter):
                return .refuse(
                    FHIRError(.unavailable, "the service is unavailable for scheduled maintenance; try again later"),
                    retryAfter: retryAfter ?? fired.remainingSeconds, firedNote)
            case .drop: return .close(milliseconds: 0, firedNote)
            case .hang(let ms): return .close(milliseconds: ms, firedNote)
            case .latency: wait = fired.milliseconds
            case .tokenExpired, .slotTaken: break
            }
            note = firedNote
            action = fired.action
        }
        if let refusal = limiter.admit(facts, now: now) {
            return .refuse(
                Self.injected(refusal.status, refusal.message, code: refusal.status == 429 ? .rateLimited : nil),
                retryAfter: refusal.retryAfter, FaultNote(id: refusal.limit, type: "rate-limit"))
        }
        return .proceed(note, action, wait: wait + latency.delay(model, facts.latencyClass))
    }

    /// An error with exactly `status`: the table's code for it, or one like it carrying the
    /// status (502, 504, ...), so the profile's dialect renders it.
    static func injected(_ status: Int, _ message: String, code: FHIRError.Code? = nil) -> FHIRError {
        let base = code ?? FHIRError.Code.forStatus(status)
        let exact = base.status == status ? base : FHIRError.Code(base.name, status: status, issueType: base.issueType)
        return FHIRError(exact, message)
    }
}
